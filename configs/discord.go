package configs

import (
	"fmt"
	"strings"
)

// Default Discord endpoints.
const (
	DefaultDiscordAPI     = "https://discord.com/api/v10"
	DefaultDiscordGateway = "wss://gateway.discord.gg"
)

// DiscordConfig is the "discord" section. The adapter runs when Token is
// set (from CHORUS_DISCORD_TOKEN, TokenFile or here).
type DiscordConfig struct {
	// Token is the bot token; secret.
	Token      string `yaml:"token"`
	TokenFile  string `yaml:"token_file"`
	APIURL     string `yaml:"api_url"`
	GatewayURL string `yaml:"gateway_url"`
	// GuildIDs register slash commands per guild (instant); empty
	// registers them globally.
	GuildIDs []string `yaml:"guild_ids"`
	// ShardID and ShardCount split guilds across processes.
	ShardID    int `yaml:"shard_id"`
	ShardCount int `yaml:"shard_count"`
	// ManagerRoleIDs are Discord role ids given the manager role.
	ManagerRoleIDs []string `yaml:"manager_role_ids"`
}

func defaultDiscord() DiscordConfig {
	return DiscordConfig{
		APIURL:     DefaultDiscordAPI,
		GatewayURL: DefaultDiscordGateway,
		ShardCount: 1,
	}
}

func (c *DiscordConfig) fill() {
	d := defaultDiscord()
	if strings.TrimSpace(c.APIURL) == "" {
		c.APIURL = d.APIURL
	}
	if strings.TrimSpace(c.GatewayURL) == "" {
		c.GatewayURL = d.GatewayURL
	}
}

func (c *DiscordConfig) validate(p *problems) {
	if strings.ContainsAny(c.Token, " \t\r\n") {
		p.add("discord.token", "must not contain spaces or line breaks (value not shown)")
	}
	checkURL(p, "discord.api_url", c.APIURL, "http", "https")
	checkURL(p, "discord.gateway_url", c.GatewayURL, "ws", "wss")
	checkIDs(p, "discord.guild_ids", c.GuildIDs, "guild id")
	checkIDs(p, "discord.manager_role_ids", c.ManagerRoleIDs, "role id")
	if c.ShardCount < 1 {
		p.add("discord.shard_count", "must be 1 or more, got %d", c.ShardCount)
	}
	if c.ShardID < 0 || (c.ShardCount >= 1 && c.ShardID >= c.ShardCount) {
		p.add("discord.shard_id", "must be from 0 to discord.shard_count-1 (%s), got %d", shardRange(c.ShardCount), c.ShardID)
	}
}

func shardRange(n int) string {
	if n < 1 {
		return "no valid value"
	}
	return fmt.Sprintf("0..%d", n-1)
}

// Enabled reports whether the Discord adapter should run.
func (c DiscordConfig) Enabled() bool { return c.Token != "" }
