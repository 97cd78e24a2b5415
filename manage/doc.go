// Package manage holds the community managers' tools: /digest (what a chat
// discussed, map-reduced over long chats), /post (social-media drafts in
// the brand's voice, grounded in the knowledge base), /gaps (questions the
// knowledge base could not answer, grouped), /persona (the persona at run
// time) and /announce (owners' announcements to every platform's channels,
// after confirmation).
//
// It plugs into the engine only through package bot: its dependencies (the
// KV its state lives in, the conversations, the knowledge base, the model
// and its prompts, the persona in force) come through New, and what it adds
// is declared by its Plugin:
//
//	t, err := manage.New(cfg, manage.Deps{KV: kv, History: store, Model: model, Prompts: set, Personas: personas})
//	engine, err := bot.New(ecfg, store, model, bot.WithPlugin(t.Plugin()), ...)
//
// The engine applies the stored persona override when it starts, runs the
// flush of the recorded questions while it runs, and ends it (with a last
// flush) when it closes.
package manage
