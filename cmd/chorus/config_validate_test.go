package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/telegram"
	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/configs"
	"github.com/chorusbot/chorus/llm"
)

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		path   string
		want   string
	}{
		{"data_dir empty", func(c *Config) { c.DataDir = " " }, "data_dir", "must not be empty"},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, "log.level", `must be "debug", "info", "warn" or "error", got "verbose"`},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, "log.format", `must be "text" or "json", got "xml"`},
		{"bot name with space", func(c *Config) { c.Persona.BotName = "Lumi Bot" }, "persona.bot_name", "one word"},
		{"empty do rule", func(c *Config) { c.Persona.Do = []string{"x", ""} }, "persona.do[1]", "must not be empty"},
		{"negative workers", func(c *Config) { c.Engine.Workers = -1 }, "engine.workers", "must be 0 or more, got -1"},
		{"negative queue", func(c *Config) { c.Engine.QueueSize = -5 }, "engine.queue_size", "0 or more"},
		{"negative rate", func(c *Config) { c.Engine.RatePerMinute = -1 }, "engine.rate_per_minute", "0 or more"},
		{"zero burst with rate", func(c *Config) { c.Engine.RateBurst = 0 }, "engine.rate_burst", "1 or more when engine.rate_per_minute is set"},
		{"negative user budget", func(c *Config) { c.Engine.UserDailyTokens = -1 }, "engine.user_daily_tokens", "0 or more"},
		{"negative chat budget", func(c *Config) { c.Engine.ChatDailyTokens = -1 }, "engine.chat_daily_tokens", "0 or more"},
		{"negative window", func(c *Config) { c.Engine.WindowTokens = -1 }, "engine.window_tokens", "0 or more"},
		{"negative summary_every", func(c *Config) { c.Engine.SummaryEvery = -1 }, "engine.summary_every", "0 or more"},
		{"negative kb_passages", func(c *Config) { c.Engine.KBPassages = -1 }, "engine.kb_passages", "0 or more"},
		{"negative reply_max_tokens", func(c *Config) { c.Engine.ReplyMaxTokens = -1 }, "engine.reply_max_tokens", "0 or more"},
		{"negative llm_timeout", func(c *Config) { c.Engine.LLMTimeout = -time.Second }, "engine.llm_timeout", "duration of 0 or more"},
		{"negative drain_timeout", func(c *Config) { c.Engine.DrainTimeout = -time.Second }, "engine.drain_timeout", "duration of 0 or more"},
		{"blank open chat", func(c *Config) { c.Engine.OpenChats = []string{""} }, "engine.open_chats[0]", "conversation key"},
		{"owner without platform", func(c *Config) { c.Roles.Owners = []string{"42"} }, "roles.owners[0]", `PLATFORM:ID`},
		{"manager unknown platform", func(c *Config) { c.Roles.Managers = []string{"slack:1"} }, "roles.managers[0]", `"slack:1"`},
		{"owner role not numeric", func(c *Config) { c.Roles.OwnerRoles = []string{"admins"} }, "roles.owner_roles[0]", "numeric Discord role id"},
		{"manager role not numeric", func(c *Config) { c.Roles.ManagerRoles = []string{"mods"} }, "roles.manager_roles[0]", "numeric"},
		{"llm base_url scheme", func(c *Config) { c.LLM.BaseURL = "ftp://x" }, "llm.base_url", "scheme http or https"},
		{"llm base_url relative", func(c *Config) { c.LLM.BaseURL = "localhost:11434" }, "llm.base_url", "absolute URL"},
		{"llm api key with newline", func(c *Config) { c.LLM.APIKey = "sk-abc\nsk" }, "llm.api_key", "line breaks"},
		{"llm timeout", func(c *Config) { c.LLM.Timeout = -1 }, "llm.timeout", "0 or more"},
		{"llm retries", func(c *Config) { c.LLM.MaxRetries = 11 }, "llm.max_retries", "from 0 to 10, got 11"},
		{"llm temperature", func(c *Config) { c.LLM.Temperature = 2.5 }, "llm.temperature", "from 0 to 2, got 2.5"},
		{"mask pattern bad regexp", func(c *Config) { c.LLM.MaskPatterns = map[string]string{"ORDER": "#(\\d"} }, "llm.mask_patterns.ORDER", "valid regular expression"},
		{"mask pattern empty match", func(c *Config) { c.LLM.MaskPatterns = map[string]string{"ORDER": "\\d*"} }, "llm.mask_patterns.ORDER", "empty string"},
		{"mask pattern bad name", func(c *Config) { c.LLM.MaskPatterns = map[string]string{"order id": "#\\d+"} }, "llm.mask_patterns.order id", "placeholder"},
		{"negative price", func(c *Config) { c.LLM.Prices = llm.Prices{"m": {PromptPer1M: -1}} }, "llm.prices.m.prompt_per_1m", "0 or more"},
		{"kb dir empty", func(c *Config) { c.KB.Dir = "" }, "kb.dir", "must name a directory"},
		{"prompts dir blank", func(c *Config) { c.Prompts.Dir = "  " }, "prompts.dir", "only spaces"},
		{"retention days", func(c *Config) { c.Retention.Days = -1 }, "retention.days", "0 or more"},
		{"retention interval", func(c *Config) { c.Retention.Interval = 0 }, "retention.interval", "positive duration"},
		{"telegram mode", func(c *Config) { c.Telegram.Mode = "poll" }, "telegram.mode", `must be "polling" or "webhook", got "poll"`},
		{"telegram api_url", func(c *Config) { c.Telegram.APIURL = "api.telegram.org" }, "telegram.api_url", "absolute URL"},
		{"telegram token shape", func(c *Config) { c.Telegram.Token = "not-a-token" }, "telegram.token", "123456:ABC"},
		{"telegram poll_timeout", func(c *Config) { c.Telegram.PollTimeout = -time.Second }, "telegram.poll_timeout", "0 or more"},
		{"telegram manager ids", func(c *Config) { c.Telegram.ManagerIDs = []string{"@alice"} }, "telegram.manager_ids[0]", "numeric Telegram user id"},
		{"webhook needs listen", func(c *Config) { c.Telegram.Mode = telegram.ModeWebhook }, "telegram.webhook.listen", "required in webhook mode"},
		{"webhook needs public_url", func(c *Config) { c.Telegram.Mode = telegram.ModeWebhook }, "telegram.webhook.public_url", "required in webhook mode"},
		{"webhook needs secret", func(c *Config) { c.Telegram.Mode = telegram.ModeWebhook }, "telegram.webhook.secret", "required in webhook mode"},
		{"webhook listen shape", func(c *Config) { c.Telegram.Webhook.Listen = "8443" }, "telegram.webhook.listen", "host:port"},
		{"webhook public_url https", func(c *Config) { c.Telegram.Webhook.PublicURL = "http://example.com/hook" }, "telegram.webhook.public_url", "scheme https"},
		{"webhook secret charset", func(c *Config) { c.Telegram.Webhook.Secret = "has space" }, "telegram.webhook.secret", "A-Z"},
		{"discord api_url", func(c *Config) { c.Discord.APIURL = "wss://discord.com" }, "discord.api_url", "http or https"},
		{"discord gateway scheme", func(c *Config) { c.Discord.GatewayURL = "https://gateway.discord.gg" }, "discord.gateway_url", "ws or wss"},
		{"discord guild ids", func(c *Config) { c.Discord.GuildIDs = []string{"my-guild"} }, "discord.guild_ids[0]", "numeric guild id"},
		{"discord manager role ids", func(c *Config) { c.Discord.ManagerRoleIDs = []string{"x"} }, "discord.manager_role_ids[0]", "numeric role id"},
		{"discord shard_count", func(c *Config) { c.Discord.ShardCount = -1 }, "discord.shard_count", "1 or more"},
		{"discord shard_auto", func(c *Config) { c.Discord.ShardAuto, c.Discord.ShardCount = true, 1 }, "discord.shard_auto", "shard_count of 2 or more"},
		{"discord shard_id too big", func(c *Config) { c.Discord.ShardID, c.Discord.ShardCount = 2, 2 }, "discord.shard_id", "0..1), got 2"},
		{"discord shard_id negative", func(c *Config) { c.Discord.ShardID = -1 }, "discord.shard_id", "got -1"},
		{"discord token space", func(c *Config) { c.Discord.Token = "abc def" }, "discord.token", "spaces"},
		{"admin listen", func(c *Config) { c.Admin.Listen = "localhost" }, "admin.listen", "host:port"},
		{"admin listen port", func(c *Config) { c.Admin.Listen = "127.0.0.1:99999" }, "admin.listen", "0 to 65535"},
		{"moderation empty word", func(c *Config) { c.Moderation.Words = []string{"spam", " "} }, "moderation.words[1]", "must not be empty"},
		{"moderation regexp", func(c *Config) { c.Moderation.Regexes = []string{"ok", "(unclosed"} }, "moderation.regexes[1]", "valid regular expression"},
		{"moderation channel platform", func(c *Config) { c.Moderation.ManagersChannel = map[string]string{"slack": "C1"} }, "moderation.managers_channel.slack", "unknown platform"},
		{"moderation channel empty", func(c *Config) { c.Moderation.ManagersChannel = map[string]string{"telegram": ""} }, "moderation.managers_channel.telegram", "chat id"},
		{"sentiment mode", func(c *Config) { c.Analytics.SentimentMode = "vader" }, "analytics.sentiment_mode", `must be "offline" or "llm", got "vader"`},
		{"analytics channel platform", func(c *Config) { c.Analytics.ManagersChannel = map[string]string{"irc": "#x"} }, "analytics.managers_channel.irc", "unknown platform"},
		{"competitor name", func(c *Config) { c.Analytics.Competitors = []analytics.Competitor{{Name: ""}} }, "analytics.competitors[0].name", "must not be empty"},
		{"competitor duplicate", func(c *Config) { c.Analytics.Competitors = []analytics.Competitor{{Name: "A"}, {Name: "a"}} }, "analytics.competitors[1].name", "already analytics.competitors[0]"},
		{"competitor alias", func(c *Config) { c.Analytics.Competitors = []analytics.Competitor{{Name: "A", Aliases: []string{""}}} }, "analytics.competitors[0].aliases[0]", "must not be empty"},
		{"announce platform", func(c *Config) { c.Announce.Channels = map[string][]string{"matrix": {"!r"}} }, "announce.channels.matrix", "unknown platform"},
		{"announce empty id", func(c *Config) { c.Announce.Channels = map[string][]string{"discord": {""}} }, "announce.channels.discord[0]", "chat id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultConfig()
			tt.mutate(c)
			err := c.validate()
			if err == nil {
				t.Fatal("Validate() = nil")
			}
			var found *configs.FieldError
			for _, fe := range configs.FieldErrors(err) {
				if fe.Path == tt.path {
					found = fe
				}
			}
			if found == nil {
				t.Fatalf("no problem reported for %s; got %v", tt.path, err)
			}
			if !strings.Contains(found.Msg, tt.want) {
				t.Errorf("%s: %q lacks %q", tt.path, found.Msg, tt.want)
			}
			if !strings.HasPrefix(found.Error(), tt.path+": ") {
				t.Errorf("Error() = %q does not start with the path", found.Error())
			}
		})
	}
}

func TestValidateAcceptsGoodValues(t *testing.T) {
	c := defaultConfig()
	c.LLM.BaseURL = "http://127.0.0.1:11434/v1"
	c.LLM.MaskPatterns = map[string]string{"ORDER": `#\d{6}`}
	c.Roles.Owners = []string{"telegram:42", "console:owner"}
	c.Roles.ManagerRoles = []string{"112233445566778899"}
	c.Telegram.Token = "123456:ABC-def_ghi"
	c.Telegram.Mode = telegram.ModeWebhook
	c.Telegram.Webhook = telegram.Webhook{Listen: ":8443", PublicURL: "https://bot.example.com/tg", Secret: "s3cr3t_-"}
	c.Telegram.ManagerIDs = []string{"42", "-100123"}
	c.Discord.Token = "abc.def.ghi"
	c.Discord.ShardID, c.Discord.ShardCount = 1, 2
	c.Admin.Listen = "[::1]:9464"
	c.Moderation.ManagersChannel = map[string]string{"telegram": "-100123"}
	c.Analytics.Competitors = []analytics.Competitor{{Name: "Bean There", Aliases: []string{"beanthere"}}}
	c.Announce.Channels = map[string][]string{"discord": {"998877"}}
	if err := c.validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	c.Admin.Listen = ""
	c.Retention.Days, c.Retention.Interval = 0, 0
	c.Engine.RatePerMinute, c.Engine.RateBurst = 0, 0
	c.KB.IngestOnStart, c.KB.Dir = false, ""
	if err := c.validate(); err != nil {
		t.Fatalf("Validate() with features off = %v", err)
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	c := defaultConfig()
	c.Log.Level = "loud"
	c.Telegram.Mode = "poll"
	c.Discord.ShardCount = -1
	fes := configs.FieldErrors(c.validate())
	var paths []string
	for _, fe := range fes {
		paths = append(paths, fe.Path)
	}
	want := []string{"log.level", "telegram.mode", "discord.shard_count"}
	for _, w := range want {
		if !strings.Contains(strings.Join(paths, " "), w) {
			t.Errorf("problems %v lack %s", paths, w)
		}
	}
}

// TestValidateHidesSecrets checks that a malformed secret is reported
// without its value.
func TestValidateHidesSecrets(t *testing.T) {
	c := defaultConfig()
	c.Telegram.Token = "SECRET-VALUE-1"
	c.Telegram.Webhook.Secret = "SECRET VALUE 2"
	c.LLM.APIKey = "SECRET VALUE 3"
	c.Discord.Token = "SECRET VALUE 4"
	c.LLM.BaseURL = "ftp://user:SECRET5@host"
	err := c.validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	if len(configs.FieldErrors(err)) != 5 {
		t.Errorf("want 5 problems, got %v", err)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error reveals a secret: %v", err)
	}
}
