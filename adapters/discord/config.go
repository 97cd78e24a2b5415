package discord

import (
	"strings"

	"github.com/chorusbot/chorus/bot"
)

// Defaults for Config.
const (
	DefaultAPIURL     = "https://discord.com/api/v10"
	DefaultGatewayURL = "wss://gateway.discord.gg"
)

// Config is the "discord" section of the configuration: how to reach
// Discord. The adapter runs when Token is set (from CHORUS_DISCORD_TOKEN,
// TokenFile or the file).
type Config struct {
	// Token is the bot token from the developer portal, with or without
	// the "Bot " prefix; secret.
	Token     string `yaml:"token" secret:"token_file"`
	TokenFile string `yaml:"token_file"`
	// APIURL is the REST base (default DefaultAPIURL); a REST proxy shared
	// by shards, or a fake in tests.
	APIURL string `yaml:"api_url" empty:"default" redact:"url"`
	// GatewayURL is the websocket gateway (default DefaultGatewayURL). The
	// adapter answers discordgo's GET /gateway itself with this URL.
	GatewayURL string `yaml:"gateway_url" empty:"default" redact:"url"`
	// GuildIDs, when set, registers slash commands in these guilds only
	// (instant, for development); empty registers them globally (Discord
	// may take up to an hour to show changes).
	GuildIDs []string `yaml:"guild_ids"`
	// ShardID and ShardCount split the guilds between processes; ShardCount
	// 0 or 1 means no sharding.
	ShardID    int `yaml:"shard_id"`
	ShardCount int `yaml:"shard_count"`
	// ShardAuto has each replica sharing a PostgreSQL store claim a free
	// shard of ShardCount there (ShardID is then ignored): one shard per
	// replica, and replicas beyond ShardCount wait and take over the
	// shard of one that dies. On the bbolt store the one process runs
	// every shard.
	ShardAuto bool `yaml:"shard_auto"`
	// ManagerRoleIDs are Discord role ids whose members are managers in
	// every chat.
	ManagerRoleIDs []string `yaml:"manager_role_ids"`
	// MemberEvents asks for members joining (GUILD_MEMBER_ADD), for the
	// welcome: it needs the Server Members privileged intent switched on
	// in the developer portal, or Discord refuses the connection.
	MemberEvents bool `yaml:"member_events"`
}

// DefaultConfig is the "discord" section as Chorus ships it: no token
// (the adapter off), Discord's public endpoints, one shard.
func DefaultConfig() Config {
	return Config{APIURL: DefaultAPIURL, GatewayURL: DefaultGatewayURL, ShardCount: 1}
}

// Enabled reports whether the adapter should run: a token is set.
func (c Config) Enabled() bool { return c.Token != "" }

// Validate checks the "discord" section: a zero field means its default,
// an empty token that the adapter is off.
func (c Config) Validate() error {
	var p bot.Problems
	if strings.ContainsAny(strings.TrimPrefix(c.Token, "Bot "), " \t\r\n") {
		p.Add("token", "must not contain spaces or line breaks (value not shown)")
	}
	if c.APIURL != "" {
		p.URL("api_url", c.APIURL, "http", "https")
	}
	if c.GatewayURL != "" {
		p.URL("gateway_url", c.GatewayURL, "ws", "wss")
	}
	p.IDs("guild_ids", c.GuildIDs, "guild id")
	p.IDs("manager_role_ids", c.ManagerRoleIDs, "role id")
	if c.ShardCount < 0 {
		p.Add("shard_count", "must be 1 or more, got %d", c.ShardCount)
	}
	if c.ShardAuto && c.ShardCount < 2 {
		p.Add("shard_auto", "needs discord.shard_count of 2 or more, got %d", c.ShardCount)
	}
	if n := max(c.ShardCount, 1); c.ShardID < 0 || c.ShardID >= n {
		p.Add("shard_id", "must be from 0 to discord.shard_count-1 (0..%d), got %d", n-1, c.ShardID)
	}
	return p.Err()
}

func (c Config) withDefaults() Config {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if c.GatewayURL == "" {
		c.GatewayURL = DefaultGatewayURL
	}
	if c.ShardCount < 1 {
		c.ShardCount = 1
	}
	if !strings.HasPrefix(c.Token, "Bot ") {
		c.Token = "Bot " + c.Token
	}
	return c
}

var (
	_ bot.AdapterConfig = Config{}
	_ bot.Sharded       = Config{}
)

// AutoShards implements bot.Sharded: ShardCount when ShardAuto is set.
func (c Config) AutoShards() int {
	if !c.ShardAuto {
		return 0
	}
	return max(c.ShardCount, 1)
}

// WithShard implements bot.Sharded.
func (c Config) WithShard(id int) bot.AdapterConfig {
	c.ShardID, c.ShardAuto = id, false
	return c
}

// Platform implements bot.AdapterConfig.
func (c Config) Platform() string { return PlatformName }

// Grants implements bot.AdapterConfig: the members of ManagerRoleIDs
// manage the community in every chat.
func (c Config) Grants() bot.Roles {
	return bot.Roles{ManagerRoles: append([]string(nil), c.ManagerRoleIDs...)}
}

// NewAdapter implements bot.AdapterConfig.
func (c Config) NewAdapter(h bot.Handler, env bot.AdapterEnv) (bot.Adapter, error) {
	opts := []Option{WithCommands(env.Commands), WithLogger(env.Log)}
	if env.Observer != nil {
		opts = append(opts, WithObserver(env.Observer))
	}
	return New(c, h, opts...)
}
