// Package console is the terminal adapter: one conversation between the
// person at the keyboard (the owner, with full rights) and Chorus. It is
// what `chorus chat` runs and what `chorus serve` falls back to when no
// platform token is configured.
//
// Each input line is one message. When stdin is piped, each reply is
// printed in full on stdout once it is complete, and nothing else is: logs
// and prompts go to stderr, so the output can be compared or piped on.
//
// Its files follow every adapter's layout where it has the part: adapter.go
// (options, Run), convert.go (a line becomes a bot.Message), platform.go
// (bot.Platform). It has no config section (it runs when no platform is
// configured, or for chorus chat), no command menu and no fake: its tests
// drive it through readers and writers.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Name is the platform key of console messages.
const Name = "console"

// ChatID is the console's only chat.
const ChatID = "console"

// Adapter reads lines from In and prints replies to Out.
type Adapter struct {
	in      io.Reader
	out     io.Writer
	prompt  io.Writer
	h       bot.Handler
	user    string
	idle    func(context.Context) error
	saveDir string
	lang    string

	mu    sync.Mutex
	texts map[string]string
	order []string
	seq   int
	runID string
}

var _ bot.Adapter = (*Adapter)(nil)

// Option configures an Adapter.
type Option func(*Adapter)

// WithUser sets the name of the person at the terminal (default "owner").
func WithUser(name string) Option { return func(a *Adapter) { a.user = name } }

// WithPrompt makes the adapter interactive: it writes a prompt to w before
// each line.
func WithPrompt(w io.Writer) Option { return func(a *Adapter) { a.prompt = w } }

// WithIdle sets a function that waits until the engine has handled
// everything; the adapter calls it after each line so that replies print
// before the next prompt.
func WithIdle(f func(context.Context) error) Option { return func(a *Adapter) { a.idle = f } }

// WithSaveDir sets where attachments (charts, exports) are saved (default
// the working directory).
func WithSaveDir(dir string) Option { return func(a *Adapter) { a.saveDir = dir } }

// WithLang sets the user's locale hint.
func WithLang(lang string) Option { return func(a *Adapter) { a.lang = lang } }

// New returns a console adapter. It does no I/O.
func New(in io.Reader, out io.Writer, h bot.Handler, opts ...Option) (*Adapter, error) {
	if in == nil || out == nil || h == nil {
		return nil, errors.New("console: New: in, out and handler are required")
	}
	a := &Adapter{in: in, out: out, h: h, user: "owner", saveDir: ".", texts: map[string]string{},
		runID: strconv.FormatInt(time.Now().UnixNano(), 36)}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// Name implements bot.Platform.
func (a *Adapter) Name() string { return Name }

// Ready implements bot.Adapter: the terminal is always there.
func (a *Adapter) Ready() bool { return true }

// Run implements bot.Adapter: it reads lines until EOF or ctx ends, then
// returns nil. Every line but an empty one is handed to the engine.
func (a *Adapter) Run(ctx context.Context) error {
	sc := bufio.NewScanner(a.in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() {
		defer close(lines)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		errc <- sc.Err()
	}()
	n := 0
	for {
		if a.prompt != nil {
			fmt.Fprint(a.prompt, "> ")
		}
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			select {
			case err := <-errc:
				if err != nil {
					return fmt.Errorf("console: read: %w", err)
				}
			default:
			}
			return nil
		}
		n++
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := a.h.Handle(ctx, a.message(n, line)); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("console: handle: %w", err)
		}
		if a.idle != nil {
			if err := a.idle(ctx); err != nil && ctx.Err() == nil {
				return fmt.Errorf("console: wait for reply: %w", err)
			}
		}
	}
}
