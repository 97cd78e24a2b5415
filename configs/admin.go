package configs

// AdminConfig is the "admin" section: the HTTP server for /metrics,
// /healthz and /readyz.
type AdminConfig struct {
	// Listen is host:port; empty disables the server. Bind to loopback
	// unless a proxy or firewall guards it.
	Listen string `yaml:"listen"`
}

func defaultAdmin() AdminConfig { return AdminConfig{Listen: "127.0.0.1:9464"} }

func (c *AdminConfig) validate(p *problems) {
	if c.Listen != "" {
		checkListen(p, "admin.listen", c.Listen)
	}
}
