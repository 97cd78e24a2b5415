package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultAddr is where the admin server listens unless told otherwise:
// loopback only, since /metrics and /readyz describe the deployment.
// Binding to a public address is a deliberate configuration choice.
const DefaultAddr = "127.0.0.1:9464"

// Admin endpoints.
const (
	PathMetrics = "/metrics"
	PathHealthz = "/healthz"
	PathReadyz  = "/readyz"
)

// CheckOK is the status a passing readiness check reports.
const CheckOK = "ok"

// DefaultCheckTimeout bounds each readiness check.
const DefaultCheckTimeout = 2 * time.Second

// ErrRunning is returned by Run when the server was already run; a Server
// runs once.
var ErrRunning = errors.New("metrics: server already run")

// CheckFunc reports whether one part of Chorus is ready; the error's text
// is shown in /readyz, so it must not carry secrets.
type CheckFunc func(ctx context.Context) error

// ServerOption configures a Server.
type ServerOption func(*Server)

// WithCheck adds a named readiness check to /readyz ("bbolt", "telegram",
// "llm"). A later check with the same name replaces the earlier one.
func WithCheck(name string, fn CheckFunc) ServerOption {
	return func(s *Server) { s.checks[name] = fn }
}

// WithCheckTimeout bounds each readiness check (default
// DefaultCheckTimeout).
func WithCheckTimeout(d time.Duration) ServerOption {
	return func(s *Server) { s.checkTimeout = d }
}

// WithHandler serves h at pattern (an http.ServeMux pattern) beside the
// admin endpoints: the binary's own admin operations. h does its own
// authentication; the server's write timeout is h's to extend
// (http.ResponseController) for long operations.
func WithHandler(pattern string, h http.Handler) ServerOption {
	return func(s *Server) { s.extra = append(s.extra, route{pattern, h}) }
}

// route is one handler added by WithHandler.
type route struct {
	pattern string
	h       http.Handler
}

// WithLogger sets the server's logger (default: discard).
func WithLogger(l *slog.Logger) ServerOption {
	return func(s *Server) { s.log = l }
}

// Server is the admin HTTP server: /metrics, /healthz and /readyz, and
// what WithHandler adds.
type Server struct {
	addr         string
	gatherer     prometheus.Gatherer
	checks       map[string]CheckFunc
	checkTimeout time.Duration
	log          *slog.Logger
	extra        []route

	ln *bot.Listener
}

// NewServer returns a server for addr (DefaultAddr when empty; port 0 picks
// a free port, see Addr) exporting what gatherer gathers. It does no I/O.
func NewServer(addr string, gatherer prometheus.Gatherer, opts ...ServerOption) *Server {
	if addr == "" {
		addr = DefaultAddr
	}
	s := &Server{addr: addr, gatherer: gatherer, checks: map[string]CheckFunc{}, checkTimeout: DefaultCheckTimeout,
		log: slog.New(slog.DiscardHandler)}
	s.ln = bot.NewListener("metrics", s.addr, ErrRunning)
	for _, o := range opts {
		o(s)
	}
	return s
}

// Handler returns the admin endpoints as one handler, for embedding.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(PathMetrics, promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError, MaxRequestsInFlight: 4, Timeout: 10 * time.Second}))
	mux.HandleFunc(PathHealthz, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc(PathReadyz, s.readyz)
	for _, r := range s.extra {
		mux.Handle(r.pattern, r.h)
	}
	return mux
}

// Readiness is the JSON body of /readyz.
type Readiness struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"`
}

// Ready runs every check concurrently, each within the check timeout.
func (s *Server) Ready(ctx context.Context) Readiness {
	r := Readiness{Ready: true, Checks: make(map[string]string, len(s.checks))}
	names := make([]string, 0, len(s.checks))
	for n := range s.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	results := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, s.checkTimeout)
			defer cancel()
			results[i] = runCheck(cctx, s.checks[n])
		}()
	}
	wg.Wait()
	for i, n := range names {
		if results[i] != nil {
			r.Ready = false
			r.Checks[n] = results[i].Error()
			continue
		}
		r.Checks[n] = CheckOK
	}
	return r
}

// runCheck runs fn, turning a panic into an error and giving up when ctx
// ends even if fn does not.
func runCheck(ctx context.Context, fn CheckFunc) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("check panicked: %v", p)
			}
		}()
		done <- fn(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("check timed out: %w", ctx.Err())
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	res := s.Ready(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !res.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	if err := json.NewEncoder(w).Encode(res); err != nil {
		s.log.Debug("write readyz", "err", err)
	}
}

// Run listens, serves until ctx ends, then shuts down gracefully. It
// returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	return s.ln.Serve(ctx, srv, s.log, "admin server listening")
}

// AdminConfig is the "admin" section of the configuration: the HTTP
// server for /metrics, /healthz and /readyz.
type AdminConfig struct {
	// Listen is host:port; empty disables the server. Bind to loopback
	// unless a proxy or firewall guards it.
	Listen string `yaml:"listen"`
}

// DefaultAdmin is the "admin" section as Chorus ships it: DefaultAddr.
func DefaultAdmin() AdminConfig { return AdminConfig{Listen: DefaultAddr} }

// Validate checks the "admin" section.
func (c AdminConfig) Validate() error {
	var p bot.Problems
	if c.Listen != "" {
		p.Listen("listen", c.Listen)
	}
	return p.Err()
}

// Listening is closed once Run is listening; Addr is then set.
func (s *Server) Listening() <-chan struct{} { return s.ln.Listening() }

// Addr is the address the server listens on (the port chosen when the
// configured one was 0), empty before Run began listening.
func (s *Server) Addr() string { return s.ln.Addr() }
