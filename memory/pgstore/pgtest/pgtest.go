// Package pgtest gives tests a PostgreSQL schema of their own on the test
// server named by CHORUS_TEST_PG_DSN. CI (.ci/run) starts the server and
// sets the variable, and there a missing server fails the test; outside CI
// a test without the variable skips, saying how to set it.
package pgtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DSNEnv names the test server's connection string.
const DSNEnv = "CHORUS_TEST_PG_DSN"

// DSN returns the test server's connection string, or skips t (fails it
// in CI) when there is none.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(DSNEnv)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set in CI: .ci/run must start PostgreSQL and export it", DSNEnv)
		}
		t.Skipf("%s is not set: the PostgreSQL store is tested against a real server "+
			"(e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", DSNEnv, DSNEnv)
	}
	return dsn
}

// Name returns a schema name for t, unique to this call.
func Name(t testing.TB) string {
	n := strings.ToLower(t.Name())
	n = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, n)
	if len(n) > 40 {
		n = n[:40]
	}
	return fmt.Sprintf("t_%s_%08x", n, rand.Uint32())
}

// Drop drops schema when t ends.
func Drop(t testing.TB, dsn, schema string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
}

// SchemaDSN creates a schema for t, dropped when t ends, and returns the
// test server's URL with search_path set to it: what a deployment would
// put in store.dsn.
func SchemaDSN(t testing.TB) (dsn, schema string) {
	t.Helper()
	base := DSN(t)
	schema = Name(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	Drop(t, base, schema)
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		t.Fatalf("%s must be a URL (postgres://...) for SchemaDSN", DSNEnv)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}
