package main

import (
	"log/slog"

	"github.com/chorusbot/chorus/web"
)

// newWebServer builds the public web listener (web.listen) with every
// package's public handlers mounted: nil when the listener is disabled.
// A package with public pages mounts them here with srv.Handle and a Go
// 1.22 ServeMux pattern ("GET /l/{code}").
func newWebServer(cfg *Config, log *slog.Logger, a *app) *web.Server {
	if cfg.Web.Listen == "" {
		return nil
	}
	srv := web.NewServer(cfg.Web.Listen, web.WithLogger(log.With("component", "web")))
	mountWeb(cfg, a, srv)
	return srv
}

// mountWeb mounts the public handlers of the packages that serve any on
// the web listener.
func mountWeb(cfg *Config, a *app, srv *web.Server) {
	// Tracked links and the brand site's conversions (package campaigns).
	links := a.plug.camp.Handler()
	srv.Handle("GET /l/{code}", links)
	srv.Handle("POST /conversions", links)
}
