package configs

import (
	"fmt"
	"strings"
	"time"
)

// ModerationConfig is the "moderation" section. The moderation package
// owns its meaning; cmd/chorus maps it onto moderation.Config, whose
// Validate checks the ladder and overrides once more.
type ModerationConfig struct {
	Enabled bool `yaml:"enabled"`
	// DryRun decides and logs actions without taking them.
	DryRun bool `yaml:"dry_run"`
	// Words are blocked words and phrases, matched after normalisation.
	Words []string `yaml:"words"`
	// Regexes are blocked patterns (Go RE2 syntax).
	Regexes []string `yaml:"regexes"`
	// AllowedDomains are never flagged by the link rules; BlockedDomains
	// always are (subdomains included).
	AllowedDomains []string `yaml:"allowed_domains"`
	BlockedDomains []string `yaml:"blocked_domains"`
	// BlockInvites flags Discord and Telegram invite links.
	BlockInvites bool `yaml:"block_invites"`
	// BlockShorteners flags URL shorteners.
	BlockShorteners bool `yaml:"block_shorteners"`
	// NewMemberMinutes flags links from users first seen less than this
	// many minutes ago; 0 disables.
	NewMemberMinutes int `yaml:"new_member_minutes"`
	// MaxMentions flags messages mentioning more users; 0 disables.
	MaxMentions int `yaml:"max_mentions"`
	// CapsRatio flags long messages with this share of capitals; 0
	// disables.
	CapsRatio float64 `yaml:"caps_ratio"`
	// FloodMessages within FloodWindow by one user in one chat is a
	// flood; 0 disables.
	FloodMessages int           `yaml:"flood_messages"`
	FloodWindow   time.Duration `yaml:"flood_window"`
	// RepeatWindow flags the same text posted by one user in another chat
	// within it; 0 disables.
	RepeatWindow time.Duration `yaml:"repeat_window"`
	// Classifiers turns the shipped offline spam, offensive and hate
	// models on.
	Classifiers bool `yaml:"classifiers"`
	// LLMSecondOpinion asks the LLM about messages the rules find
	// borderline.
	LLMSecondOpinion bool `yaml:"llm_second_opinion"`
	// ClassifierActAt is the probability from which a classifier alone
	// acts; below it (and above the model's threshold) only the LLM can
	// confirm a finding.
	ClassifierActAt float64 `yaml:"classifier_act_at"`
	// ClassifierAskAt is the least classifier probability for which the
	// LLM is asked for a second opinion.
	ClassifierAskAt float64 `yaml:"classifier_ask_at"`
	// Ladder maps strikes to actions: "STRIKES:ACTION[:MINUTES]", e.g.
	// "3:timeout:10"; empty keeps the built-in ladder.
	Ladder []string `yaml:"ladder"`
	// StrikeHalfLife is how fast strikes decay.
	StrikeHalfLife time.Duration `yaml:"strike_half_life"`
	// ModerateManagers removes the exemption of managers and owners.
	ModerateManagers bool `yaml:"moderate_managers"`
	// ManagersChannel is where managers are notified, by platform
	// ("telegram": "-100123").
	ManagersChannel map[string]string `yaml:"managers_channel"`
	// SpamDelete deletes (and warns about) a spam verdict in a group from
	// the first strike, instead of only warning.
	SpamDelete bool `yaml:"spam_delete"`
	// NoticeEvery is the least time between two moderation notices about
	// one user in one chat.
	NoticeEvery time.Duration `yaml:"notice_every"`
	// Replies are the checks on every sentence of the bot's own answers.
	Replies ReplyChecksConfig `yaml:"replies"`
}

// ReplyChecksConfig is "moderation.replies": the checks every sentence
// of the bot's answers passes before anyone sees it (package
// moderation/replycheck). They run whether or not community moderation is
// enabled.
type ReplyChecksConfig struct {
	// Enabled runs the checks.
	Enabled bool `yaml:"enabled"`
	// Allow lists what an answer may contain though the knowledge base,
	// persona and conversation don't: the brand's own domains, links,
	// handles, e-mail addresses, phone numbers and promo codes.
	Allow []string `yaml:"allow"`
	// OffensiveAt and HateAt are the probabilities of the shipped
	// offensive and hate classifiers from which a sentence of the bot's
	// is blocked as abuse.
	OffensiveAt float64 `yaml:"offensive_at"`
	HateAt      float64 `yaml:"hate_at"`
	// GroupHateAt is the hate probability from which a sentence naming a
	// protected group is blocked as a generalisation.
	GroupHateAt float64 `yaml:"group_hate_at"`
	// CompetitorNegativeAt is the sentiment score (-1..1) at or below
	// which a sentence naming a competitor is negative.
	CompetitorNegativeAt float64 `yaml:"competitor_negative_at"`
}

func defaultModeration() ModerationConfig {
	return ModerationConfig{
		Enabled: true, LLMSecondOpinion: true, Classifiers: true,
		BlockInvites: true, NewMemberMinutes: 10, MaxMentions: 5, CapsRatio: 0.7,
		FloodMessages: 6, FloodWindow: 10 * time.Second, RepeatWindow: 2 * time.Minute,
		StrikeHalfLife: 72 * time.Hour, ClassifierActAt: 0.9, ClassifierAskAt: 0.7,
		SpamDelete: true, NoticeEvery: time.Minute,
		Replies: ReplyChecksConfig{Enabled: true, OffensiveAt: 0.95, HateAt: 0.95, GroupHateAt: 0.6, CompetitorNegativeAt: -0.4},
	}
}

// ModerationActions are the actions a ladder step may name.
var ModerationActions = []string{"log", "warn", "delete", "timeout", "ban"}

// LadderStep is one parsed step of ModerationConfig.Ladder.
type LadderStep struct {
	Strikes float64
	Action  string
	Minutes int
}

// ParseLadder parses the ladder strings.
func (c ModerationConfig) ParseLadder() ([]LadderStep, error) {
	var out []LadderStep
	for i, s := range c.Ladder {
		parts := strings.Split(s, ":")
		var st LadderStep
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("moderation.ladder[%d]: want STRIKES:ACTION[:MINUTES], got %q", i, s)
		}
		if _, err := fmt.Sscan(parts[0], &st.Strikes); err != nil || st.Strikes <= 0 {
			return nil, fmt.Errorf("moderation.ladder[%d]: strikes must be a positive number, got %q", i, parts[0])
		}
		st.Action = parts[1]
		ok := false
		for _, a := range ModerationActions {
			ok = ok || a == st.Action
		}
		if !ok {
			return nil, fmt.Errorf("moderation.ladder[%d]: action must be one of %s, got %q", i, strings.Join(ModerationActions, ", "), st.Action)
		}
		if len(parts) == 3 {
			if _, err := fmt.Sscan(parts[2], &st.Minutes); err != nil || st.Minutes <= 0 {
				return nil, fmt.Errorf("moderation.ladder[%d]: minutes must be a positive whole number, got %q", i, parts[2])
			}
		}
		if st.Action == "timeout" && st.Minutes == 0 {
			return nil, fmt.Errorf("moderation.ladder[%d]: a timeout needs minutes, e.g. \"3:timeout:10\"", i)
		}
		if len(out) > 0 && st.Strikes < out[len(out)-1].Strikes {
			return nil, fmt.Errorf("moderation.ladder[%d]: steps must be sorted by strikes", i)
		}
		out = append(out, st)
	}
	return out, nil
}

func (c *ModerationConfig) validate(p *problems) {
	for i, w := range c.Words {
		if strings.TrimSpace(w) == "" {
			p.add(fmt.Sprintf("moderation.words[%d]", i), "must not be empty")
		}
	}
	checkRegexps(p, "moderation.regexes", c.Regexes)
	if c.NewMemberMinutes < 0 {
		p.add("moderation.new_member_minutes", "must be 0 (off) or more, got %d", c.NewMemberMinutes)
	}
	if c.MaxMentions < 0 {
		p.add("moderation.max_mentions", "must be 0 (off) or more, got %d", c.MaxMentions)
	}
	if c.CapsRatio < 0 || c.CapsRatio > 1 {
		p.add("moderation.caps_ratio", "must be between 0 (off) and 1, got %g", c.CapsRatio)
	}
	if c.ClassifierActAt <= 0 || c.ClassifierActAt > 1 {
		p.add("moderation.classifier_act_at", "must be above 0 and at most 1, got %g", c.ClassifierActAt)
	}
	if c.ClassifierAskAt <= 0 || c.ClassifierAskAt > c.ClassifierActAt {
		p.add("moderation.classifier_ask_at", "must be above 0 and at most classifier_act_at (%g), got %g", c.ClassifierActAt, c.ClassifierAskAt)
	}
	if c.FloodMessages < 0 {
		p.add("moderation.flood_messages", "must be 0 (off) or more, got %d", c.FloodMessages)
	}
	if c.FloodWindow < 0 || c.RepeatWindow < 0 || c.StrikeHalfLife < 0 {
		p.add("moderation", "flood_window, repeat_window and strike_half_life must not be negative")
	}
	if _, err := c.ParseLadder(); err != nil {
		path, msg, _ := strings.Cut(err.Error(), ": ")
		p.add(path, "%s", msg)
	}
	if c.NoticeEvery < 0 {
		p.add("moderation.notice_every", "must not be negative, got %s", c.NoticeEvery)
	}
	r := c.Replies
	for _, f := range []struct {
		path string
		v    float64
	}{{"offensive_at", r.OffensiveAt}, {"hate_at", r.HateAt}, {"group_hate_at", r.GroupHateAt}} {
		if f.v <= 0 || f.v > 1 {
			p.add("moderation.replies."+f.path, "must be above 0 and at most 1, got %g", f.v)
		}
	}
	if r.CompetitorNegativeAt < -1 || r.CompetitorNegativeAt >= 0 {
		p.add("moderation.replies.competitor_negative_at", "must be from -1 up to (not including) 0, got %g", r.CompetitorNegativeAt)
	}
	for i, a := range r.Allow {
		if strings.TrimSpace(a) == "" {
			p.add(fmt.Sprintf("moderation.replies.allow[%d]", i), "must not be empty")
		}
	}
	checkPlatformKeys(p, "moderation.managers_channel", c.ManagersChannel)
	for _, k := range sortedKeys(c.ManagersChannel) {
		if strings.TrimSpace(c.ManagersChannel[k]) == "" {
			p.add("moderation.managers_channel."+k, "must be a chat id, got an empty string")
		}
	}
}
