package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// ErrRunning is returned by Run when the server was already run; a Server
// runs once.
var ErrRunning = errors.New("web: server already run")

// Server is the public HTTP listener: one ServeMux that the console and
// other packages' public handlers are mounted on.
type Server struct {
	addr string
	log  *slog.Logger
	mux  *http.ServeMux

	ln *bot.Listener
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the server's logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// NewServer returns a server for addr (port 0 picks a free port, see
// Addr). It does no I/O.
func NewServer(addr string, opts ...Option) *Server {
	s := &Server{addr: addr, log: slog.New(slog.DiscardHandler), mux: http.NewServeMux()}
	s.ln = bot.NewListener("web", s.addr, ErrRunning)
	for _, o := range opts {
		o(s)
	}
	return s
}

// Handle mounts h on the listener for pattern, a Go 1.22 ServeMux pattern
// with optional method and wildcards ("GET /l/{code}", "POST
// /conversions"). Patterns are those of http.ServeMux: registering one
// that conflicts with an earlier one panics, as it does there. Call it
// before Run.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// HandleFunc is Handle for a function.
func (s *Server) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	s.mux.HandleFunc(pattern, h)
}

// Handler is everything mounted, with the headers every response carries;
// for tests and embedding.
func (s *Server) Handler() http.Handler { return securityHeaders(s.mux) }

// securityHeaders sets the headers that hold for every page: no sniffing,
// no framing, no referrer to other sites.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// Run listens, serves until ctx ends, then shuts down gracefully. It
// returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10}
	return s.ln.Serve(ctx, srv, s.log, "web listener listening")
}

// Listening is closed once Run is listening; Addr is then set.
func (s *Server) Listening() <-chan struct{} { return s.ln.Listening() }

// Addr is the address the server listens on (the port chosen when the
// configured one was 0), empty before Run began listening.
func (s *Server) Addr() string { return s.ln.Addr() }
