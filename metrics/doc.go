// Package metrics turns engine events into Prometheus metrics and serves
// them, with health and readiness probes, on a small admin HTTP server.
//
// A *Metrics is a bot.Observer: add it to the engine with bot.WithObserver
// and every event the engine, the adapters and the plug-ins emit becomes a
// counter, gauge or histogram on the registry given to New. There is no
// global registry. Every label value comes from a small fixed set: platform
// names, command names and model names outside the configured lists are
// counted as "other", so a follower can't grow the number of series by
// typing a new /command and no user, chat or message id ever becomes a
// label.
//
// Active users over 5 minutes, a day and 30 days are estimated with one
// HyperLogLog sketch per time bucket, merged at scrape time, so memory stays
// bounded whatever the number of users. At start, Seen fills them from the
// last time stored activity saw each user (analytics' records), so that a
// restart does not reset the figure.
package metrics
