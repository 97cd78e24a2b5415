// Package replycheck holds the checks every sentence of the bot's own
// words passes before any follower sees it (bot.OutputChecker):
//
//   - abuse: insults and swearing (an English and Chinese list for the
//     bot's voice, and the community's own word lists, regexes and link
//     policy through Rules), words that describe people as vermin, and
//     the shipped offensive and hate classifiers at thresholds the bot's
//     polite sentences never come near;
//   - generalisations about protected groups: a documented pattern set of
//     group nouns followed by generalising verbs ("women are", "all
//     immigrants", "外国人都"), and the hate classifier on any sentence that
//     names a group (lists.go);
//   - competitors: a sentence naming a configured competitor or alias is
//     blocked when negative (a judging word, or the sentence's polarity)
//     or, when the persona's "don't" rules forbid discussing competitors,
//     at all;
//   - ungrounded specifics: every price, percentage, promo code, duration,
//     date, time of day, phone number, e-mail address, link and @handle
//     must appear in what the model was given for the answer (the
//     knowledge-base passages, the persona, the conversation, the user's
//     own message) or in the configured allow list. Numbers are compared
//     after NormalizeNumbers ("30 days" = "thirty days" = "30天"; "$5" =
//     "5 dollars" = "5美元"; two weeks = fourteen days); see Specifics.
//
// Each violation names its bot.Check, tells the model in English why its
// draft was not shown (the engine asks once more with it), and carries a
// masked copy of the sentence for the audit log. The engine runs the same
// checks on the offline provider's answers; the manager tools run them on
// /post drafts and /announce texts.
package replycheck
