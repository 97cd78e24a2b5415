// Package bot is the core of Chorus: the normalised message that every
// platform adapter produces, the small interfaces the engine consumes
// (Platform, LLM, Store, Knowledge, Inspector, Observer), the engine events,
// and the dialogue engine itself.
//
// Dependencies point inward: adapters, memory, moderation, llm, analytics and
// metrics import bot; bot imports only the standard library. Everything that
// touches a network, a disk or a model lives behind an interface declared
// here, so that tests can swap in real in-memory implementations.
//
// A message flows through Engine.Handle: it is deduplicated and written to the
// durable inbox (Store.Accept), queued on its conversation (one conversation is
// handled strictly in order, different conversations in parallel on a bounded
// pool), inspected (moderation, sentiment), and, when the reply policy says so,
// answered by a command or by the LLM with a prompt assembled from the
// persona, knowledge-base passages, the conversation summary and the recent
// window. Events describing each step go to observers.
package bot
