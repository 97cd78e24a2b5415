// Package bot is the kernel of Chorus: the normalised message every
// platform adapter produces, the small interfaces the engine consumes
// (Platform, LLM, Store, Knowledge, Prompts, Inspector, Observer,
// OutputChecker, Keeper), the typed vocabulary of events and audit entries,
// the contract of a plug-in (Plugin) and the dialogue engine itself.
//
// Dependencies point inward: adapters, memory, moderation, llm, analytics,
// manage, prompts and metrics import bot; bot imports only the standard
// library. Everything that touches a network, a disk or a model lives
// behind an interface declared here, so that tests can swap in real
// in-memory implementations (package bottest).
//
// A plug-in (moderation, analytics, the managers' tools) gets what it needs
// through its own constructor and declares what it adds as a Plugin value:
// an inspector, an output checker, an observer, commands, catalogue
// messages, a Keeper of user data, its label values, work at start and in
// the background. The engine installs each once, when it is built
// (WithPlugin). While a message is handled the plug-in reaches the engine
// only through the narrow Env it is handed; it never holds the engine.
//
// Data flows one way, adapter -> engine -> plug-in -> engine -> adapter: an
// adapter turns a platform event into a Message and hands it to
// Engine.Handle, which drops a redelivery, writes it to the durable inbox
// (Store.Accept) and queues it on its lane (a conversation, and in a group
// each member's messages in it, is handled strictly in order, different
// lanes in parallel on a bounded pool; when the Store is shared by several
// replicas, a Leaser, a conversation is worked by the replica holding its
// lease, and an Elector runs fleet-wide work on one replica at a time). On
// its turn the plug-ins' inspectors look at it
// (moderation, sentiment); then, when the reply policy says so, it is
// answered by a command or by the LLM with a prompt (Prompts) assembled
// from the persona, knowledge-base passages, the conversation summary and
// the recent window, every sentence checked before the adapter shows it.
// Events describing each step go to observers (metrics, analytics).
package bot
