package console

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Limits implements bot.Platform: no length limit, and the reply is shown
// once, complete.
func (a *Adapter) Limits() bot.Limits { return bot.Limits{Markup: bot.MarkupPlain} }

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
