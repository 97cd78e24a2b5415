package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// shutdownTimeout bounds the graceful shutdown when Run's ctx ends.
const shutdownTimeout = 5 * time.Second

// ErrRunning is returned by Run when the server was already run; a Server
// runs once.
var ErrRunning = errors.New("web: server already run")

// Server is the public HTTP listener: one ServeMux that the console and
// other packages' public handlers are mounted on.
type Server struct {
	addr string
	log  *slog.Logger
	mux  *http.ServeMux

	mu        sync.Mutex
	running   bool
	bound     string
	listening chan struct{}
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the server's logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// NewServer returns a server for addr (port 0 picks a free port, see
// Addr). It does no I/O.
func NewServer(addr string, opts ...Option) *Server {
	s := &Server{addr: addr, log: slog.New(slog.DiscardHandler), mux: http.NewServeMux(), listening: make(chan struct{})}
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
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return ErrRunning
	}
	s.running = true
	s.mu.Unlock()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("web: listen %s: %w", s.addr, err)
	}
	s.mu.Lock()
	s.bound = ln.Addr().String()
	close(s.listening)
	s.mu.Unlock()
	s.log.Info("web listener listening", "addr", s.bound)

	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web: serve: %w", err)
	}
	return nil
}

// Listening is closed once Run is listening; Addr is then set.
func (s *Server) Listening() <-chan struct{} { return s.listening }

// Addr is the address the server listens on (the port chosen when the
// configured one was 0), empty before Run began listening.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bound
}
