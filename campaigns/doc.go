// Package campaigns is what tells a brand whether a post worked: it
// publishes kept /post drafts to the brand's channels now or at a time
// (scheduled posts are stored and survive a restart; one whose time passed
// while Chorus was down goes out once at start, marked late), stores each
// post's reach (the chat's member count when it went out), rewrites links
// to the brand's domains into tracked short links, counts their clicks
// (unique clicks by a daily-salted hash of the client address, never the
// address; preview fetchers not counted), takes signed conversions and
// attributes them to the click's campaign, platform and chat, and reports
// it all (/campaigns, /campaign ID, Prometheus counters by platform and
// campaign kind).
//
// It is a plug-in (Plugin) built over a KV, with the output checks and the
// knowledge base that ground what it publishes; its HTTP side (Handler:
// the /l/CODE redirect and POST /conversions) is mounted on the public
// listener by the binary. Its configuration is two sections: "campaigns"
// (Config: brand channels, time zone) and "links" (LinksConfig: domains,
// base URL, the conversion secret).
package campaigns
