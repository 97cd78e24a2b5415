package moderation

import (
	"fmt"
	"regexp"
	"time"
)

// Action is what the policy does about a message.
type Action string

// Actions, mildest first.
const (
	ActionNone    Action = ""
	ActionLog     Action = "log"
	ActionWarn    Action = "warn"
	ActionDelete  Action = "delete"
	ActionTimeout Action = "timeout"
	ActionBan     Action = "ban"
)

func (a Action) rank() int {
	switch a {
	case ActionLog:
		return 1
	case ActionWarn:
		return 2
	case ActionDelete:
		return 3
	case ActionTimeout:
		return 4
	case ActionBan:
		return 5
	}
	return 0
}

// ParseAction turns a config name into an Action.
func ParseAction(s string) (Action, bool) {
	a := Action(s)
	return a, a.rank() > 0
}

// Category names what a finding is about.
type Category string

// Categories.
const (
	CatWords     Category = "words"
	CatRegex     Category = "regex"
	CatLink      Category = "link"
	CatInvite    Category = "invite"
	CatShortener Category = "shortener"
	CatNewLink   Category = "new-member-link"
	CatMentions  Category = "mentions"
	CatCaps      Category = "caps"
	CatRepeat    Category = "repeat"
	CatFlood     Category = "flood"
	CatSpam      Category = "spam"
	CatOffensive Category = "offensive"
	CatHate      Category = "hate"
)

// Step is one rung of the policy ladder: once a user's strikes (after
// counting this violation) reach Strikes, Action is taken.
type Step struct {
	Strikes float64 `yaml:"strikes" json:"strikes"`
	Action  Action  `yaml:"action" json:"action"`
	// Minutes is the timeout length for ActionTimeout.
	Minutes int `yaml:"minutes" json:"minutes,omitempty"`
}

// Policy turns findings into actions.
type Policy struct {
	// Ladder is sorted by Strikes; the highest rung reached applies.
	// Default: 1 warn, 2 delete, 3 timeout 10 min, 5 timeout 60 min, 8 ban.
	Ladder []Step `yaml:"ladder"`
	// HalfLife is how fast strikes decay (default 72h).
	HalfLife time.Duration `yaml:"half_life"`
	// LogBelow is the severity below which a finding is only logged,
	// without a strike (default 0.4).
	LogBelow float64 `yaml:"log_below"`
	// DeleteFrom is the severity from which the message is deleted
	// whatever the ladder says (default 0.8).
	DeleteFrom float64 `yaml:"delete_from"`
}

// ChannelOverride changes moderation in one chat.
type ChannelOverride struct {
	// Disabled turns moderation off there.
	Disabled bool `yaml:"disabled"`
	// DryRun logs without acting there.
	DryRun bool `yaml:"dry_run"`
	// MaxAction caps the action taken there (e.g. "warn" in a lively
	// off-topic channel).
	MaxAction Action `yaml:"max_action"`
	// Ignore lists categories not acted on there ("caps", "link").
	Ignore []Category `yaml:"ignore"`
}

// Config is the moderation section of the configuration. The zero value of
// a field takes the default named on it.
type Config struct {
	Enabled bool `yaml:"enabled"`
	// DryRun logs what would be done without doing it; /mod dryrun
	// changes it at run time.
	DryRun bool `yaml:"dry_run"`
	// Words are listed words and phrases, matched on word boundaries in
	// spaced scripts and as substrings in Chinese and Japanese. /mod words
	// adds to them at run time.
	Words []string `yaml:"words"`
	// Regexes are RE2 patterns matched against the normalised text.
	Regexes []string `yaml:"regexes"`
	// AllowedDomains are never flagged by the link rules (subdomains
	// included); BlockedDomains always are.
	AllowedDomains []string `yaml:"allowed_domains"`
	BlockedDomains []string `yaml:"blocked_domains"`
	// BlockInvites flags Discord and Telegram invite links.
	BlockInvites bool `yaml:"block_invites"`
	// BlockShorteners flags URL shorteners (bit.ly and friends).
	BlockShorteners bool `yaml:"block_shorteners"`
	// NewMemberMinutes flags links from users first seen less than this
	// many minutes ago; 0 disables.
	NewMemberMinutes int `yaml:"new_member_minutes"`
	// MaxMentions flags messages mentioning more users; 0 disables.
	MaxMentions int `yaml:"max_mentions"`
	// CapsRatio flags messages of at least 12 letters with this share of
	// capitals or more; 0 disables.
	CapsRatio float64 `yaml:"caps_ratio"`
	// FloodMessages in FloodWindow by one user in one chat is a flood;
	// 0 disables.
	FloodMessages int           `yaml:"flood_messages"`
	FloodWindow   time.Duration `yaml:"flood_window"`
	// RepeatWindow flags the same text posted by one user in another chat
	// within it; 0 disables.
	RepeatWindow time.Duration `yaml:"repeat_window"`
	// Classifiers turns the offline spam, offensive and hate models on.
	Classifiers bool `yaml:"classifiers"`
	// LLMSecondOpinion asks the LLM about borderline messages: a
	// classifier probability from ClassifierAskAt (or the model's own
	// threshold, if higher) up to ClassifierActAt.
	LLMSecondOpinion bool `yaml:"llm_second_opinion"`
	// ClassifierAskAt is the least probability for which the LLM is asked
	// (default 0.7): the shipped models put many plain questions just
	// above their thresholds, and each question asked costs a model call.
	ClassifierAskAt float64 `yaml:"classifier_ask_at"`
	// ClassifierActAt is the probability from which a classifier alone
	// (no rule, no LLM) acts; between the model's threshold and this, the
	// message goes to the LLM when there is one and is let through
	// otherwise (default 0.9). Spam must also carry a link, handle or
	// number.
	ClassifierActAt float64 `yaml:"classifier_act_at"`
	Policy          Policy  `yaml:"policy"`
	// ChannelOverrides are keyed by conversation key ("telegram/-100123")
	// or chat id.
	ChannelOverrides map[string]ChannelOverride `yaml:"channel_overrides"`
	// ManagersChannel maps a platform name to the chat id where actions
	// and appeals are announced.
	ManagersChannel map[string]string `yaml:"managers_channel"`
	// ModerateManagers removes the exemption of managers and owners.
	ModerateManagers bool `yaml:"moderate_managers"`
	// SpamDelete makes a spam verdict (spam, blocked links, invites,
	// shorteners, a new member's link) in a group delete the message and
	// warn from the first strike, rather than only warn.
	SpamDelete bool `yaml:"spam_delete"`
	// NoticeEvery is the least time between two notices about one user
	// in one chat (default 1 minute).
	NoticeEvery time.Duration `yaml:"notice_every"`
	// EpisodeGap ends an episode: an action on a user is taken once per
	// episode, which lasts while findings of one category about them in a
	// chat come less than this apart (default 10 minutes).
	EpisodeGap time.Duration `yaml:"episode_gap"`
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	if len(c.Policy.Ladder) == 0 {
		c.Policy.Ladder = []Step{{1, ActionWarn, 0}, {2, ActionDelete, 0}, {3, ActionTimeout, 10}, {5, ActionTimeout, 60}, {8, ActionBan, 0}}
	}
	if c.Policy.HalfLife <= 0 {
		c.Policy.HalfLife = 72 * time.Hour
	}
	if c.Policy.LogBelow <= 0 {
		c.Policy.LogBelow = 0.4
	}
	if c.Policy.DeleteFrom <= 0 {
		c.Policy.DeleteFrom = 0.8
	}
	if c.ClassifierActAt <= 0 {
		c.ClassifierActAt = 0.9
	}
	if c.ClassifierAskAt <= 0 {
		c.ClassifierAskAt = 0.7
	}
	if c.NoticeEvery <= 0 {
		c.NoticeEvery = time.Minute
	}
	if c.EpisodeGap <= 0 {
		c.EpisodeGap = 10 * time.Minute
	}
	if c.FloodMessages > 0 && c.FloodWindow <= 0 {
		c.FloodWindow = 10 * time.Second
	}
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	for i, r := range c.Regexes {
		if _, err := regexp.Compile(r); err != nil {
			return fmt.Errorf("moderation: regexes[%d]: %w", i, err)
		}
	}
	for i, s := range c.Policy.Ladder {
		if _, ok := ParseAction(string(s.Action)); !ok {
			return fmt.Errorf("moderation: policy.ladder[%d].action %q: want log, warn, delete, timeout or ban", i, s.Action)
		}
		if s.Action == ActionTimeout && s.Minutes <= 0 {
			return fmt.Errorf("moderation: policy.ladder[%d].minutes: a timeout needs minutes > 0", i)
		}
		if i > 0 && s.Strikes < c.Policy.Ladder[i-1].Strikes {
			return fmt.Errorf("moderation: policy.ladder[%d].strikes: not sorted", i)
		}
	}
	if c.CapsRatio < 0 || c.CapsRatio > 1 {
		return fmt.Errorf("moderation: caps_ratio %v: want 0..1", c.CapsRatio)
	}
	for k, o := range c.ChannelOverrides {
		if o.MaxAction != "" {
			if _, ok := ParseAction(string(o.MaxAction)); !ok {
				return fmt.Errorf("moderation: channel_overrides[%s].max_action %q", k, o.MaxAction)
			}
		}
	}
	return nil
}
