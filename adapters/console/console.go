// Package console is the terminal adapter: one conversation between the
// person at the keyboard (the owner, with full rights) and Chorus. It is
// what `chorus chat` runs and what `chorus serve` falls back to when no
// platform token is configured.
//
// Each input line is one message. When stdin is piped, each reply is
// printed in full on stdout once it is complete, and nothing else is: logs
// and prompts go to stderr, so the output can be compared or piped on.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

var _ bot.Platform = (*Adapter)(nil)

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

// Limits implements bot.Platform: no length limit, and the reply is shown
// once, complete.
func (a *Adapter) Limits() bot.Limits { return bot.Limits{Markup: bot.MarkupPlain} }

// Run reads lines until EOF or ctx ends. Every line, empty ones included,
// is handed to the engine; an empty line is simply not answered.
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
		m := bot.Message{
			Platform: Name,
			Chat:     bot.Chat{ID: ChatID, Kind: bot.ChatDM, Title: "console"},
			ID:       a.runID + "-" + strconv.Itoa(n),
			Author:   bot.User{ID: a.user, Name: a.user, Role: bot.RoleOwner, Lang: a.lang},
			Text:     line,
			Time:     time.Now(),
		}
		if err := a.h.Handle(ctx, m); err != nil {
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

// Send implements bot.Platform: it prints the text, and saves attachments.
func (a *Adapter) Send(_ context.Context, out bot.Out) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	id := "r" + strconv.Itoa(a.seq)
	a.texts[id] = out.Text
	if !out.Final {
		// A streamed reply: print it when it is final.
		a.order = append(a.order, id)
		return id, nil
	}
	return id, a.print(out)
}

// Edit implements bot.Platform.
func (a *Adapter) Edit(_ context.Context, out bot.Out, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.texts[id]; !ok {
		return fmt.Errorf("console: edit of unknown message %q", id)
	}
	a.texts[id] = out.Text
	if !out.Final {
		return nil
	}
	// The final edit prints every streamed piece still waiting.
	for _, pid := range a.order {
		o := out
		o.Text = a.texts[pid]
		if err := a.print(o); err != nil {
			return err
		}
	}
	a.order = a.order[:0]
	return nil
}

func (a *Adapter) print(out bot.Out) error {
	text := strings.TrimRight(out.Text, "\n")
	for _, att := range out.Attachments {
		name := filepath.Base(att.Name)
		if name == "." || name == "/" || name == "" {
			name = "attachment"
		}
		path := filepath.Join(a.saveDir, name)
		if err := os.WriteFile(path, att.Data, 0o600); err != nil {
			return fmt.Errorf("console: save attachment: %w", err)
		}
		text += fmt.Sprintf("\n[saved %s]", path)
	}
	if _, err := fmt.Fprintln(a.out, text); err != nil {
		return fmt.Errorf("console: write: %w", err)
	}
	return nil
}

// Delete implements bot.Platform; the terminal can't unprint.
func (a *Adapter) Delete(context.Context, bot.Chat, string) error { return bot.ErrUnsupported }

// Typing implements bot.Platform; the console shows no indicator.
func (a *Adapter) Typing(context.Context, bot.Chat) error { return nil }

// Restrict implements bot.Platform.
func (a *Adapter) Restrict(context.Context, bot.Chat, string, time.Time) error {
	return bot.ErrUnsupported
}

// Ban implements bot.Platform.
func (a *Adapter) Ban(context.Context, bot.Chat, string) error { return bot.ErrUnsupported }
