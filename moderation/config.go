package moderation

import (
	"fmt"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
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
	// CatOther: the LLM's second opinion found something none of the
	// others names.
	CatOther Category = "other"
)

// Categories lists every Category a finding may have.
var Categories = []Category{CatWords, CatRegex, CatLink, CatInvite, CatShortener, CatNewLink, CatMentions, CatCaps,
	CatRepeat, CatFlood, CatSpam, CatOffensive, CatHate, CatOther}

// Actions lists the actions the policy takes, mildest first.
var Actions = []Action{ActionLog, ActionWarn, ActionDelete, ActionTimeout, ActionBan}

// Step is one rung of the policy ladder: once a user's strikes (after
// counting this violation) reach Strikes, Action is taken.
type Step struct {
	Strikes float64 `json:"strikes"`
	Action  Action  `json:"action"`
	// Minutes is the timeout length for ActionTimeout.
	Minutes int `json:"minutes,omitempty"`
}

// DefaultLadder is the ladder of a config that names none: 1 warn,
// 2 delete, 3 timeout 10 min, 5 timeout 60 min, 8 ban.
var DefaultLadder = []Step{{1, ActionWarn, 0}, {2, ActionDelete, 0}, {3, ActionTimeout, 10}, {5, ActionTimeout, 60}, {8, ActionBan, 0}}

// Policy turns findings into actions.
type Policy struct {
	// Ladder is sorted by Strikes; the highest rung reached applies
	// (default: Config.Ladder parsed, or DefaultLadder).
	Ladder []Step
	// LogBelow is the severity below which a finding is only logged,
	// without a strike (default 0.4).
	LogBelow float64
	// DeleteFrom is the severity from which the message is deleted
	// whatever the ladder says (default 0.8).
	DeleteFrom float64
}

// ChannelOverride changes moderation in one chat.
type ChannelOverride struct {
	// Disabled turns moderation off there.
	Disabled bool
	// DryRun logs without acting there.
	DryRun bool
	// MaxAction caps the action taken there (e.g. "warn" in a lively
	// off-topic channel).
	MaxAction Action
	// Ignore lists categories not acted on there ("caps", "link").
	Ignore []Category
}

// Config is how moderation behaves: the "moderation" section of the
// configuration (the fields with a yaml tag) and a few settings made in
// code. The zero value of a field takes the default named on it;
// DefaultConfig is what Chorus ships.
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
	// ClassifierActAt is the probability from which a classifier alone
	// (no rule, no LLM) acts; between the model's threshold and this, the
	// message goes to the LLM when there is one and is let through
	// otherwise (default 0.9). Spam must also carry a link, handle or
	// number.
	ClassifierActAt float64 `yaml:"classifier_act_at"`
	// ClassifierAskAt is the least probability for which the LLM is asked
	// (default 0.7): the shipped models put many plain questions just
	// above their thresholds, and each question asked costs a model call.
	ClassifierAskAt float64 `yaml:"classifier_ask_at"`
	// Ladder maps strikes to actions, "STRIKES:ACTION[:MINUTES]" such as
	// "3:timeout:10" (ParseLadder); empty keeps DefaultLadder.
	Ladder []string `yaml:"ladder"`
	// StrikeHalfLife is how fast strikes decay (default 72h).
	StrikeHalfLife time.Duration `yaml:"strike_half_life"`
	// ModerateManagers removes the exemption of managers and owners.
	ModerateManagers bool `yaml:"moderate_managers"`
	// ManagersChannel maps a platform name to the chat id where actions
	// and appeals are announced.
	ManagersChannel map[string]string `yaml:"managers_channel" platform:"keys"`
	// SpamDelete makes a spam verdict (spam, blocked links, invites,
	// shorteners, a new member's link) in a group delete the message and
	// warn from the first strike, rather than only warn.
	SpamDelete bool `yaml:"spam_delete"`
	// NoticeEvery is the least time between two notices about one user
	// in one chat (default 1 minute).
	NoticeEvery time.Duration `yaml:"notice_every"`
	// Replies are the checks on every sentence of the bot's own answers
	// (package moderation/replycheck).
	Replies ReplyChecks `yaml:"replies"`

	// Policy is the ladder parsed and the severity thresholds; a Policy
	// set in code wins over Ladder.
	Policy Policy `yaml:"-"`
	// ChannelOverrides are keyed by conversation key ("telegram/-100123")
	// or chat id.
	ChannelOverrides map[string]ChannelOverride `yaml:"-"`
	// EpisodeGap ends an episode: an action on a user is taken once per
	// episode, which lasts while findings of one category about them in a
	// chat come less than this apart (default 10 minutes).
	EpisodeGap time.Duration `yaml:"-"`
}

// ReplyChecks is "moderation.replies": the checks every sentence of the
// bot's answers passes before anyone sees it. Package
// moderation/replycheck takes it as its Config; the checks run whether or
// not community moderation is enabled. Zero thresholds take replycheck's
// defaults.
type ReplyChecks struct {
	// Enabled runs the checks.
	Enabled bool `yaml:"enabled"`
	// Allow lists what an answer may contain though nothing given to the
	// model for the answer holds it: the brand's own domains and links
	// ("lumen.coffee" allows every link to it and its subdomains),
	// handles ("@lumencoffee"), e-mail addresses, phone numbers, promo
	// codes ("WELCOME10").
	Allow []string `yaml:"allow"`
	// OffensiveAt and HateAt are the probabilities of the shipped
	// offensive and hate classifiers from which a sentence of the bot's
	// is abuse. The classifiers were trained on tweets and comments and
	// score polite brand sentences anywhere up to 0.8: the word lists and
	// patterns carry these checks, the classifiers only add what they are
	// surest of, and only on sentences of four words or more.
	OffensiveAt float64 `yaml:"offensive_at"`
	HateAt      float64 `yaml:"hate_at"`
	// GroupHateAt is the hate probability from which a sentence that
	// names a protected group is a generalisation though no pattern
	// matched.
	GroupHateAt float64 `yaml:"group_hate_at"`
	// CompetitorNegativeAt is the polarity (-1..1) at or below which a
	// sentence naming a competitor is negative.
	CompetitorNegativeAt float64 `yaml:"competitor_negative_at"`
}

// Validate checks the "moderation.replies" section.
func (c ReplyChecks) Validate() error {
	var p bot.Problems
	for _, f := range []struct {
		path string
		v    float64
	}{{"offensive_at", c.OffensiveAt}, {"hate_at", c.HateAt}, {"group_hate_at", c.GroupHateAt}} {
		if f.v < 0 || f.v > 1 {
			p.Add(f.path, "must be above 0 and at most 1, got %g", f.v)
		}
	}
	if c.CompetitorNegativeAt < -1 || c.CompetitorNegativeAt >= 0 && c.CompetitorNegativeAt != 0 {
		p.Add("competitor_negative_at", "must be from -1 up to (not including) 0, got %g", c.CompetitorNegativeAt)
	}
	p.NotBlank("allow", c.Allow)
	return p.Err()
}

// DefaultConfig is the "moderation" section as Chorus ships it: the
// classifiers with the LLM's second opinion, invites blocked, floods and
// repeats watched, spam deleted in groups, the reply checks on.
func DefaultConfig() Config {
	return Config{
		Enabled: true, LLMSecondOpinion: true, Classifiers: true,
		BlockInvites: true, NewMemberMinutes: 10, MaxMentions: 5, CapsRatio: 0.7,
		FloodMessages: 6, FloodWindow: 10 * time.Second, RepeatWindow: 2 * time.Minute,
		StrikeHalfLife: 72 * time.Hour, ClassifierActAt: 0.9, ClassifierAskAt: 0.7,
		SpamDelete: true, NoticeEvery: time.Minute,
		Replies: ReplyChecks{Enabled: true, OffensiveAt: 0.95, HateAt: 0.95, GroupHateAt: 0.6, CompetitorNegativeAt: -0.4},
	}
}

// ParseLadder parses ladder steps "STRIKES:ACTION[:MINUTES]"; an error
// names the step by its path ("ladder[2]").
func ParseLadder(ladder []string) ([]Step, error) {
	var out []Step
	for i, s := range ladder {
		path := fmt.Sprintf("ladder[%d]", i)
		parts := strings.Split(s, ":")
		var st Step
		if len(parts) < 2 || len(parts) > 3 {
			return nil, &bot.FieldError{Path: path, Msg: fmt.Sprintf("want STRIKES:ACTION[:MINUTES], got %q", s)}
		}
		if _, err := fmt.Sscan(parts[0], &st.Strikes); err != nil || st.Strikes <= 0 {
			return nil, &bot.FieldError{Path: path, Msg: fmt.Sprintf("strikes must be a positive number, got %q", parts[0])}
		}
		a, ok := ParseAction(parts[1])
		if !ok {
			names := make([]string, len(Actions))
			for j, x := range Actions {
				names[j] = string(x)
			}
			return nil, &bot.FieldError{Path: path, Msg: fmt.Sprintf("action must be one of %s, got %q", strings.Join(names, ", "), parts[1])}
		}
		st.Action = a
		if len(parts) == 3 {
			if _, err := fmt.Sscan(parts[2], &st.Minutes); err != nil || st.Minutes <= 0 {
				return nil, &bot.FieldError{Path: path, Msg: fmt.Sprintf("minutes must be a positive whole number, got %q", parts[2])}
			}
		}
		if st.Action == ActionTimeout && st.Minutes == 0 {
			return nil, &bot.FieldError{Path: path, Msg: "a timeout needs minutes, e.g. \"3:timeout:10\""}
		}
		if len(out) > 0 && st.Strikes < out[len(out)-1].Strikes {
			return nil, &bot.FieldError{Path: path, Msg: "steps must be sorted by strikes"}
		}
		out = append(out, st)
	}
	return out, nil
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	if len(c.Policy.Ladder) == 0 {
		c.Policy.Ladder, _ = ParseLadder(c.Ladder) // Validate reported a bad one
		if len(c.Policy.Ladder) == 0 {
			c.Policy.Ladder = DefaultLadder
		}
	}
	if c.StrikeHalfLife <= 0 {
		c.StrikeHalfLife = 72 * time.Hour
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

// Validate checks the config and names every bad field by its YAML path
// in the "moderation" section (by its Go name for the fields set in code).
func (c Config) Validate() error {
	var p bot.Problems
	p.NotBlank("words", c.Words)
	p.Regexps("regexes", c.Regexes)
	if c.NewMemberMinutes < 0 {
		p.Add("new_member_minutes", "must be 0 (off) or more, got %d", c.NewMemberMinutes)
	}
	if c.MaxMentions < 0 {
		p.Add("max_mentions", "must be 0 (off) or more, got %d", c.MaxMentions)
	}
	if c.CapsRatio < 0 || c.CapsRatio > 1 {
		p.Add("caps_ratio", "must be between 0 (off) and 1, got %g", c.CapsRatio)
	}
	act, ask := c.ClassifierActAt, c.ClassifierAskAt
	if act < 0 || act > 1 {
		p.Add("classifier_act_at", "must be above 0 and at most 1, got %g", act)
	}
	if act == 0 {
		act = 0.9
	}
	if ask < 0 || ask > act {
		p.Add("classifier_ask_at", "must be above 0 and at most classifier_act_at (%g), got %g", act, ask)
	}
	if c.FloodMessages < 0 {
		p.Add("flood_messages", "must be 0 (off) or more, got %d", c.FloodMessages)
	}
	if c.FloodWindow < 0 || c.RepeatWindow < 0 || c.StrikeHalfLife < 0 {
		p.Add("", "flood_window, repeat_window and strike_half_life must not be negative")
	}
	if _, err := ParseLadder(c.Ladder); err != nil {
		path, msg := err.(*bot.FieldError).Field()
		p.Add(path, "%s", msg)
	}
	for i, s := range c.Policy.Ladder {
		if _, ok := ParseAction(string(s.Action)); !ok {
			p.Add(fmt.Sprintf("Policy.Ladder[%d].Action", i), "%q: want log, warn, delete, timeout or ban", s.Action)
		}
		if s.Action == ActionTimeout && s.Minutes <= 0 {
			p.Add(fmt.Sprintf("Policy.Ladder[%d].Minutes", i), "a timeout needs minutes > 0")
		}
		if i > 0 && s.Strikes < c.Policy.Ladder[i-1].Strikes {
			p.Add(fmt.Sprintf("Policy.Ladder[%d].Strikes", i), "not sorted")
		}
	}
	if c.NoticeEvery < 0 {
		p.Add("notice_every", "must not be negative, got %s", c.NoticeEvery)
	}
	p.ChatIDs("managers_channel", c.ManagersChannel)
	for _, k := range bot.SortedKeys(c.ChannelOverrides) {
		if o := c.ChannelOverrides[k]; o.MaxAction != "" {
			if _, ok := ParseAction(string(o.MaxAction)); !ok {
				p.Add("ChannelOverrides."+k+".MaxAction", "%q: want log, warn, delete, timeout or ban", o.MaxAction)
			}
		}
	}
	if err := c.Replies.Validate(); err != nil {
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			path, msg := e.(*bot.FieldError).Field()
			p.Add("replies."+path, "%s", msg)
		}
	}
	return p.Err()
}
