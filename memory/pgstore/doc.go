// Package pgstore is Chorus's state in PostgreSQL, for deployments that
// outgrow one process: several chorus serve replicas share one database,
// so every replica sees the same conversations, profiles, plug-in state,
// audit log and knowledge base. *Store does everything the bbolt store
// (package memory) does and passes the same conformance suite
// (bot/storetest): the durable inbox with dedup and replay, history with
// the token-budgeted window, summaries, profiles and the names index,
// forget and export (each one transaction), the audit log, retention, the
// plug-ins' KV, a readiness check, and the knowledge base.
//
// The schema is a set of migrations embedded in the binary, applied by
// Open (or alone by chorus migrate) with goose under a PostgreSQL advisory
// lock, so that replicas starting together take turns. Names and texts
// from outside are bytea (they may hold NUL, which text refuses), times
// Unix nanoseconds, as the bbolt store keeps them, so that a deployment
// moved with chorus migrate-store exports the same.
//
// The knowledge base's passages live in the database; each replica keeps
// its own in-memory search index over them (memory.KB) and refreshes it
// when any replica ingests or removes a document, announced with
// LISTEN/NOTIFY on the channel chorus_kb.
//
// The hot path costs few round trips: Accept is one statement, the
// engine's two records per message (bot.Recorder) are each one pipelined
// batch, run by the server as one transaction, and appending a turn is
// one call of a PL/pgSQL function that takes the conversation's next seq
// under its row lock. Stats counts round trips and commits.
package pgstore
