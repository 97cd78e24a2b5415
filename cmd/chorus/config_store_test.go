package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chorusbot/chorus/configs"
)

// TestStoreSection: the store section takes its DSN from the environment
// or a file, validates the driver and the DSN naming the field, and never
// shows the DSN or its password.
func TestStoreSection(t *testing.T) {
	const dsn = "postgres://chorus:pa55-word@db.internal:5432/chorus?sslmode=require"
	cfg, err := loadConfigFile("", []string{"CHORUS_STORE_DRIVER=postgres", "CHORUS_STORE_DSN=" + dsn})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatalf("postgres with a DSN: %v", err)
	}
	if s := cfg.secrets(); !slices.Contains(s, dsn) || !slices.Contains(s, "pa55-word") {
		t.Errorf("secrets %q lack the DSN or its password", s)
	}
	if r := configs.Redacted(cfg); r.Store.DSN != configs.Redaction || cfg.Store.DSN != dsn {
		t.Errorf("redacted DSN = %q (original %q)", r.Store.DSN, cfg.Store.DSN)
	}

	file := filepath.Join(t.TempDir(), "dsn")
	os.WriteFile(file, []byte("host=db user=chorus password=from-file dbname=chorus\n"), 0o600)
	cfg, err = loadConfigFile("", []string{"CHORUS_STORE_DRIVER=postgres", "CHORUS_STORE_DSN_FILE=" + file})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.DSN != "host=db user=chorus password=from-file dbname=chorus" || cfg.validate() != nil {
		t.Errorf("DSN from file = %q, %v", cfg.Store.DSN, cfg.validate())
	}
	if !slices.Contains(cfg.secrets(), "from-file") {
		t.Errorf("the key=value DSN's password is not a secret: %q", cfg.secrets())
	}

	for _, tc := range []struct {
		env  []string
		path string
	}{
		{[]string{"CHORUS_STORE_DRIVER=mysql"}, "store.driver"},
		{[]string{"CHORUS_STORE_DRIVER=postgres"}, "store.dsn"},
		{[]string{"CHORUS_STORE_DRIVER=postgres", "CHORUS_STORE_DSN=postgres://u:secret-x@h:notaport/db"}, "store.dsn"},
		{[]string{"CHORUS_STORE_DRIVER=postgres", "CHORUS_STORE_DSN=postgres://u:secret-x@h:5432/db", "CHORUS_STORE_LEASE_TTL=100ms"}, "store.lease_ttl"},
	} {
		cfg, err := loadConfigFile("", tc.env)
		if err != nil {
			t.Fatal(err)
		}
		err = cfg.validate()
		fes := configs.FieldErrors(err)
		if len(fes) != 1 || fes[0].Path != tc.path {
			t.Errorf("%v: Validate = %v, want one error on %s", tc.env, err, tc.path)
		}
		if err != nil && strings.Contains(err.Error(), "secret-x") {
			t.Errorf("the error shows the DSN: %v", err)
		}
	}
	if cfg := defaultConfig(); cfg.Store.Driver != "bbolt" || cfg.Store.Postgres() {
		t.Errorf("default store = %+v", cfg.Store)
	}
}
