// Package bench is Chorus's load, fault and bad-input harness: it drives
// synthetic followers through the real engine (bot.Engine over a real
// memory.Store), real moderation and analytics, and a fake LLM whose time to
// first token, pace and error rate are settings, either in process or
// through the Telegram or Discord adapter against their fake servers on
// loopback. Run measures throughput, latency percentiles taken from the
// engine's own events, the engine's overhead over the model's time, CPU,
// resident memory and the size of the bbolt file.
//
// Every run is bounded: by a message count and by a duration, whichever
// ends first. `chorus bench` is the command-line front end; docs/benchmarks.md
// has the figures.
package bench
