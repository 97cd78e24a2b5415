package pgstore

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chorusbot/chorus/bot"
)

// Store drivers.
const (
	// DriverBBolt keeps state in one bbolt file under the data directory:
	// nothing to install, one process.
	DriverBBolt = "bbolt"
	// DriverPostgres keeps state in PostgreSQL, shared by replicas.
	DriverPostgres = "postgres"
)

// Config is the "store" section: where Chorus keeps its state.
type Config struct {
	// Driver is "bbolt" (the default: one file in data_dir) or
	// "postgres".
	Driver string `yaml:"driver" empty:"default"`
	// DSN is the PostgreSQL connection string, a URL
	// (postgres://user:pass@host:5432/db?sslmode=require) or key=value
	// pairs; secret: set it from CHORUS_STORE_DSN or DSNFile.
	DSN     string `yaml:"dsn" secret:"dsn_file"`
	DSNFile string `yaml:"dsn_file"`
	// LeaseTTL is how long a replica's hold on a conversation or a lead
	// (retention, Telegram's polling, a Discord shard) outlives its last
	// sign of life: when a replica dies, the others take its work over
	// within about this long (default 5s). Shorter hands over sooner and
	// costs a keep-alive write every third of it.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

// DefaultConfig is the embedded store: bbolt.
func DefaultConfig() Config { return Config{Driver: DriverBBolt} }

// Validate names the first bad field (by its path in the "store"
// section): an unknown driver, postgres without a DSN, a DSN that does not
// parse (without echoing it: it holds the password).
func (c Config) Validate() error {
	switch c.Driver {
	case DriverBBolt, "":
		return nil
	case DriverPostgres:
	default:
		return &bot.FieldError{Path: "driver", Msg: fmt.Sprintf("must be %q or %q, got %q", DriverBBolt, DriverPostgres, c.Driver)}
	}
	if strings.TrimSpace(c.DSN) == "" {
		return &bot.FieldError{Path: "dsn", Msg: "must be set for the postgres driver (from CHORUS_STORE_DSN or store.dsn_file)"}
	}
	if _, err := pgconn.ParseConfig(c.DSN); err != nil {
		return &bot.FieldError{Path: "dsn", Msg: "does not parse as a PostgreSQL URL or key=value string"}
	}
	if c.LeaseTTL != 0 && c.LeaseTTL < 300*time.Millisecond {
		return &bot.FieldError{Path: "lease_ttl", Msg: fmt.Sprintf("must be at least 300ms (or 0 for the default %v), got %v", DefaultLeaseTTL, c.LeaseTTL)}
	}
	return nil
}

// Postgres reports whether the config asks for PostgreSQL.
func (c Config) Postgres() bool { return c.Driver == DriverPostgres }

// Secrets returns the DSN and the password it holds, for the redaction in
// front of the logs: an error may quote the password alone.
func (c Config) Secrets() []string {
	if c.DSN == "" {
		return nil
	}
	out := []string{c.DSN}
	if pc, err := pgconn.ParseConfig(c.DSN); err == nil && pc.Password != "" {
		out = append(out, pc.Password)
	} else if u, err := url.Parse(c.DSN); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
		}
	}
	return out
}
