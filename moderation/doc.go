// Package moderation keeps a brand's community clean: it normalises each
// message (so fr3e, ｆｒｅｅ and a Cyrillic е read "free"), runs cheap rules
// first (word lists matched in one Aho-Corasick pass on word boundaries,
// RE2 regular expressions, link policy, mention floods, caps, cross-channel
// repeats, flooding), then offline spam, offensive and hate classifiers
// shipped inside the binary (trained with package textclass), and asks the
// LLM for a structured second opinion only on borderline messages.
//
// A policy turns the verdict into an action (log, warn, delete, timeout,
// ban) escalated by strikes that decay over time, with per-channel
// overrides, manager exemption and a dry-run mode. Every action goes to the
// engine's audit log and, when configured, to a managers' channel.
// Moderator is a bot.Inspector; its ReplyRules give the checks of the
// bot's own replies (package replycheck) the community's word lists,
// regexes and link policy. Register adds the /mod and /appeal commands.
package moderation
