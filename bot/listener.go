package bot

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

// Listener runs one HTTP server on an address, once: the web console's
// public listener and the admin listener both use it. Port 0 picks a free
// port, which Addr reports once Listening is closed.
type Listener struct {
	name       string // for errors and the log line: "web", "metrics"
	addr       string
	errRunning error

	mu        sync.Mutex
	running   bool
	bound     string
	listening chan struct{}
}

// ListenerShutdownTimeout bounds the graceful shutdown when Serve's ctx
// ends.
const ListenerShutdownTimeout = 5 * time.Second

// NewListener returns a listener for addr; name prefixes its errors, and
// errRunning is what a second Serve returns. It does no I/O.
func NewListener(name, addr string, errRunning error) *Listener {
	return &Listener{name: name, addr: addr, errRunning: errRunning, listening: make(chan struct{})}
}

// Serve listens, logs what with the bound address, serves srv until ctx
// ends, then shuts it down gracefully. It returns nil after a clean
// shutdown.
func (l *Listener) Serve(ctx context.Context, srv *http.Server, log *slog.Logger, what string) error {
	l.mu.Lock()
	if l.running {
		l.mu.Unlock()
		return l.errRunning
	}
	l.running = true
	l.mu.Unlock()
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return fmt.Errorf("%s: listen %s: %w", l.name, l.addr, err)
	}
	l.mu.Lock()
	l.bound = ln.Addr().String()
	close(l.listening)
	l.mu.Unlock()
	log.Info(what, "addr", ln.Addr().String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("%s: serve: %w", l.name, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ListenerShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("%s: shutdown: %w", l.name, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: serve: %w", l.name, err)
	}
	return nil
}

// Listening is closed once Serve is listening; Addr is then set.
func (l *Listener) Listening() <-chan struct{} { return l.listening }

// Addr is the address the server listens on (the port chosen when the
// configured one was 0), empty before Serve began listening.
func (l *Listener) Addr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bound
}
