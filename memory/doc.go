// Package memory is Chorus's durable state: one bbolt file under the data
// directory holding the inbox (dedup and pending messages), conversation
// history with rolling summaries, user profiles, a key-value space for the
// parts that plug into the engine, the audit log and the knowledge base.
// *Store implements bot.Store, bot.KV and bot.Auditor; *KB (Store.KB)
// implements bot.Knowledge.
//
// The file is opened with a lock timeout, so a second process on the same
// file fails with ErrInUse rather than hanging. Writes on the hot path
// (Accept, Done, Append, Touch, KV Put) go through bbolt's Batch when other
// writers are in flight, so concurrent conversations share one fsync.
//
// # Bucket schema
//
// Integers in keys are 8-byte big-endian, so byte order is numeric order;
// times in keys are Unix nanoseconds. A name (conversation, user, dedup key,
// message id) longer than 512 bytes is replaced in keys by "\xff" followed by
// its SHA-256, so hostile ids can't exceed bbolt's key limit.
//
//	meta
//	  "version"                      -> schema version (uint64)
//	inbox
//	  dedup/   <dedup key>           -> accepted time
//	  dtime/   <time><dedup key>     -> ""  (pruning walks this from the start)
//	  pending/ <seq>                 -> JSON bot.Message (accepted, not Done)
//	  pidx/    <dedup key>           -> <seq> of its pending entry
//	conv/<conversation>/             one bucket per conversation key
//	  "name"                         -> the conversation key in full
//	  "summary"                      -> JSON bot.Summary
//	  t/       <seq>                 -> encoded bot.Turn (see encodeTurn)
//	  m/       <msg id>              -> <seq> of the user turn with that id
//	ttime
//	  <time><conversation><seq>      -> ""  (retention walks this from the start)
//	users/<user key>/                per-user references, so forget and export
//	                                 never scan the history
//	  "t" <conversation><seq>        -> ""  a turn by or answering the user
//	  "s" <conversation>             -> ""  a summary built from the user
//	  "a" <audit key>                -> ""  an audit entry about the user
//	profiles
//	  <user key>                     -> JSON bot.Profile
//	kv/<bucket>/<key>                -> value (bot.KV)
//	audit
//	  <time><seq>                    -> JSON bot.AuditEntry
//	kbdocs
//	  <source>                       -> JSON Doc
//	kbpass/<source>/<index>          -> JSON TextChunk
//
// A turn's Seq is its conversation's bucket sequence, so it is unique and
// increasing per conversation whatever the concurrency. Window opens a
// cursor at the end of t/ and walks backward, so its cost depends on the
// budget, not on the length of the history.
package memory
