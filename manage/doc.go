// Package manage holds the community managers' tools: /digest (what a chat
// discussed, map-reduced over long chats), /post (social-media drafts in
// the brand's voice, grounded in the knowledge base), /gaps (questions the
// knowledge base could not answer, grouped), /persona (the persona at run
// time) and /announce (owners' announcements to every platform's channels,
// after confirmation).
//
// It plugs into the engine only through package bot: commands with
// bot.CommandSpec, state in the engine's bot.KV, knowledge gaps from
// bot.EventQuestion events. Wire it with
//
//	t, err := manage.New(cfg)
//	err = manage.Register(engine, t) // also adds t as an event observer
//	go t.Run(ctx)                    // flushes recorded questions to KV
//
// and call t.Flush on shutdown after the engine drained.
package manage
