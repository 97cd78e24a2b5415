// Package analytics tells community managers what the community feels and
// talks about: it scores the sentiment of every message (an offline English
// and Chinese classifier shipped inside the binary, or an LLM in batches with
// the offline result as fallback), keeps hourly rollups per chat in a bot.KV,
// warns the managers' channel when a chat turns negative well above its own
// baseline, finds trending terms and competitor mentions, computes engagement
// figures, and answers the managers' /stats, /sentiment, /trends and
// /competitors commands with compact text and PNG charts.
//
// Analytics plugs into the engine twice: as a bot.Inspector (it scores each
// message and never stops one) and as a bot.Observer (reply and first-token
// events feed the engagement figures).
//
// Durability: rollups are aggregated in memory and written to the KV by
// Flush, which Run calls every Config.FlushEvery and on shutdown. A crash
// loses at most the counts since the last flush; alert baselines live in
// memory and are rebuilt from new traffic after a restart.
package analytics
