package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chorusbot/chorus/memory/pgstore/pgtest"
)

// TestRunOnPostgres: a run on the postgres store answers everything,
// counts round trips and commits per answered message, reports beside
// bbolt, and drops its scratch schema.
func TestRunOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	var reps []*Report
	for _, store := range []string{"bbolt", "postgres"} {
		rep, err := Run(context.Background(), Config{Store: store, DSN: dsn, Users: 8, Messages: 40, Duration: 3 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Answered != 40 || rep.Errors != 0 || rep.Store != store {
			t.Fatalf("%s report: %+v", store, rep)
		}
		reps = append(reps, rep)
	}
	bolt, pg := reps[0], reps[1]
	if bolt.RoundTrips != 0 || bolt.Commits == 0 {
		t.Errorf("bbolt: %d round trips, %d commits", bolt.RoundTrips, bolt.Commits)
	}
	// Accept, the incoming and the outgoing records: at least three
	// commits and more round trips (the reads) per answered message.
	if pg.CommitsPerMsg < 3 || pg.RoundTripsPerMsg <= pg.CommitsPerMsg || pg.DBBytes == 0 {
		t.Errorf("postgres: %.2f round trips and %.2f commits per message, %d bytes", pg.RoundTripsPerMsg, pg.CommitsPerMsg, pg.DBBytes)
	}
	var b bytes.Buffer
	if err := WriteComparison(&b, reps); err != nil || !strings.Contains(b.String(), "postgres") {
		t.Errorf("comparison: %v\n%s", err, b.String())
	}
	schema := pg.StoreWhere[strings.Index(pg.StoreWhere, "schema ")+7:]
	schema = strings.Fields(schema)[0]
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var left bool
	conn.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&left)
	if left {
		t.Errorf("the scratch schema %s was left behind", schema)
	}
}

// TestRunReplicas: three engines sharing the postgres store, fed in turn,
// answer every message once; the comparison names the replica count;
// several replicas are refused on bbolt.
func TestRunReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	rep, err := Run(context.Background(), Config{Store: "postgres", DSN: dsn, Replicas: 3, Users: 6, Conversations: 3, Messages: 60, Duration: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Answered != 60 || rep.Errors != 0 || rep.Replicas != 3 || rep.Outcomes["ok"] != 60 {
		t.Fatalf("report: answered %d, errors %d, replicas %d, outcomes %v", rep.Answered, rep.Errors, rep.Replicas, rep.Outcomes)
	}
	if rep.RoundTripsPerMsg <= 0 || rep.CommitsPerMsg < 3 {
		t.Errorf("%.2f round trips and %.2f commits per message: the replicas' stores are not all counted", rep.RoundTripsPerMsg, rep.CommitsPerMsg)
	}
	var b bytes.Buffer
	if err := WriteComparison(&b, []*Report{rep}); err != nil || !strings.Contains(b.String(), "postgres×3") {
		t.Errorf("comparison: %v\n%s", err, b.String())
	}
	if err := (Config{Store: "bbolt", Replicas: 2}).Validate(); err == nil {
		t.Error("two replicas on bbolt accepted")
	}
}
