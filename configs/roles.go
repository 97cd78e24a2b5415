package configs

import (
	"fmt"
	"strconv"
	"strings"
)

// RolesConfig is the "roles" section: who may run manager and owner
// commands. Roles named here hold in every chat. What a platform says
// (Telegram chat administrators, Discord members with Manage Server or
// Moderate Members) counts only in the home chats, and only there.
type RolesConfig struct {
	// Owners and Managers are user keys "PLATFORM:ID" ("telegram:42").
	Owners   []string `yaml:"owners"`
	Managers []string `yaml:"managers"`
	// OwnerRoles and ManagerRoles are Discord role ids.
	OwnerRoles   []string `yaml:"owner_roles"`
	ManagerRoles []string `yaml:"manager_roles"`
	// HomeChats are the brand's own chats and servers: "telegram:CHAT_ID"
	// (a group, supergroup or channel) and "discord:GUILD_ID". Their
	// administrators manage that chat or server, and only it. Empty means
	// no platform role counts anywhere (anyone can create a group and add
	// the bot).
	HomeChats []string `yaml:"home_chats"`
}

func defaultRoles() RolesConfig { return RolesConfig{} }

func (c *RolesConfig) validate(p *problems) {
	checkUserKeys(p, "roles.owners", c.Owners)
	checkUserKeys(p, "roles.managers", c.Managers)
	checkIDs(p, "roles.owner_roles", c.OwnerRoles, "Discord role id")
	checkIDs(p, "roles.manager_roles", c.ManagerRoles, "Discord role id")
	for i, k := range c.HomeChats {
		plat, id, ok := strings.Cut(strings.TrimSpace(k), ":")
		if _, err := strconv.ParseInt(id, 10, 64); !ok || err != nil || (plat != string(PlatformTelegram) && plat != string(PlatformDiscord)) {
			p.add(fmt.Sprintf("roles.home_chats[%d]", i), "must be telegram:CHAT_ID or discord:GUILD_ID with a numeric id, such as \"telegram:-1001234567890\", got %q", k)
		}
	}
}
