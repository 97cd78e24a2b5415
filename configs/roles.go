package configs

// RolesConfig is the "roles" section: who may run manager and owner
// commands, on top of what the platforms say (chat administrators, Manage
// Server).
type RolesConfig struct {
	// Owners and Managers are user keys "PLATFORM:ID" ("telegram:42").
	Owners   []string `yaml:"owners"`
	Managers []string `yaml:"managers"`
	// OwnerRoles and ManagerRoles are Discord role ids.
	OwnerRoles   []string `yaml:"owner_roles"`
	ManagerRoles []string `yaml:"manager_roles"`
}

func defaultRoles() RolesConfig { return RolesConfig{} }

func (c *RolesConfig) validate(p *problems) {
	checkUserKeys(p, "roles.owners", c.Owners)
	checkUserKeys(p, "roles.managers", c.Managers)
	checkIDs(p, "roles.owner_roles", c.OwnerRoles, "Discord role id")
	checkIDs(p, "roles.manager_roles", c.ManagerRoles, "Discord role id")
}
