package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/memory/pgstore"
)

// answerCase is one line of an answers dataset: a question with the facts
// a right answer holds (any one of them), or marked unanswerable.
type answerCase struct {
	Question     string   `json:"question"`
	Expect       []string `json:"expect,omitempty"`
	Unanswerable bool     `json:"unanswerable,omitempty"`
}

// answerResult is how one question went.
type answerResult struct {
	answerCase
	Answer   string `json:"answer"`
	DontKnow bool   `json:"dont_know"`
	Right    bool   `json:"right"`
	Gap      bool   `json:"gap"`
}

// answersReport is what `chorus eval answers` prints.
type answersReport struct {
	Dataset      string `json:"dataset"`
	Model        string `json:"model"`
	N            int    `json:"n"`
	Answerable   int    `json:"answerable"`
	Unanswerable int    `json:"unanswerable"`
	// Right is the share of answerable questions whose answer holds an
	// expected fact.
	Right float64 `json:"answerable_right"`
	// DontKnow is the share of unanswerable questions answered with an
	// honest "I don't know".
	DontKnow float64 `json:"unanswerable_dont_know"`
	// Gaps is the share of those recorded as knowledge gaps (/gaps).
	Gaps float64 `json:"dont_know_in_gaps"`
	// FalseDontKnow counts answerable questions answered "I don't know".
	FalseDontKnow int            `json:"answerable_dont_know"`
	Results       []answerResult `json:"results"`
}

// loadAnswerCases reads a JSONL answers dataset; a bad line is an error
// naming it.
func loadAnswerCases(path string) ([]answerCase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []answerCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "//") {
			continue
		}
		var c answerCase
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if strings.TrimSpace(c.Question) == "" || (len(c.Expect) == 0) == !c.Unanswerable {
			return nil, fmt.Errorf("%s:%d: want a question with either expect [facts] or unanswerable true", path, line)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no questions", path)
	}
	return out, nil
}

// copyKnowledge copies the knowledge base of the configured PostgreSQL
// store into a new bbolt file at path.
func copyKnowledge(ctx context.Context, cfg *Config, log *slog.Logger, path string) error {
	src, err := openStore(cfg, log)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := memory.Open(path)
	if err != nil {
		return err
	}
	defer dst.Close()
	return src.(memory.KBStore).LoadKB(ctx, nil, func(d memory.Doc, chunks []memory.TextChunk) error {
		return dst.PutKBDoc(ctx, d, chunks)
	})
}

// evalAnswers asks every question of the dataset through the binary's own
// wiring (engine, knowledge base, model, manager tools) on a copy of the
// data directory, each from a follower of their own in a DM, and scores
// the answers.
func evalAnswers(ctx context.Context, env *cliEnv, g *globalFlags, dataset string, asJSON bool) error {
	cases, err := loadAnswerCases(dataset)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(g, env)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "chorus-eval-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	log := newLogger(cfg, env.stderr, env.redactor())
	if cfg.Store.Postgres() {
		// The questions run on a bbolt copy of the knowledge base, so
		// that they touch nothing of the shared database.
		if err := copyKnowledge(ctx, cfg, log, filepath.Join(tmp, dbFile)); err != nil {
			return err
		}
		cfg.Store = pgstore.DefaultConfig()
	} else if real := filepath.Join(cfg.DataDir, dbFile); fileExists(real) {
		src, err := memory.Open(real, memory.WithReadOnly(), memory.WithLegacyKBSource(legacyKBSource))
		if err != nil {
			return err
		}
		err = src.CopyTo(filepath.Join(tmp, dbFile))
		src.Close()
		if err != nil {
			return err
		}
	}
	cfg.DataDir = tmp
	cfg.Engine.RatePerMinute, cfg.Engine.RateBurst = 0, 0
	st, err := openStore(cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := newApp(cfg, log, st)
	if err != nil {
		return err
	}
	a.ingestKB(ctx)
	p := &capturePlatform{replies: map[string]string{}}
	a.engine.AddPlatform(p)
	if err := a.engine.Start(ctx); err != nil {
		return err
	}
	defer a.engine.Close()
	start := time.Now().Add(-time.Minute)
	for i, c := range cases {
		id := strconv.Itoa(i + 1)
		m := bot.Message{Platform: p.Name(), Chat: bot.Chat{ID: "c" + id, Kind: bot.ChatDM}, ID: "m" + id,
			Author: bot.User{ID: "u" + id, Name: "follower"}, Text: c.Question, Time: time.Now()}
		if err := a.engine.Handle(ctx, m); err != nil {
			return fmt.Errorf("question %d: %w", i+1, err)
		}
	}
	if err := a.engine.WaitIdle(ctx); err != nil {
		return err
	}
	gaps, err := a.plug.man.GapQuestions(ctx, start)
	if err != nil {
		return err
	}
	inGaps := map[string]bool{}
	for _, q := range gaps {
		inGaps[q] = true
	}
	rep := answersReport{Dataset: dataset, Model: a.model, N: len(cases)}
	dontKnows := 0
	for i, c := range cases {
		r := answerResult{answerCase: c}
		r.Answer, r.DontKnow = p.reply("c"+strconv.Itoa(i+1), a.store, ctx)
		r.Gap = inGaps[c.Question]
		if c.Unanswerable {
			rep.Unanswerable++
			r.Right = r.DontKnow
			if r.DontKnow {
				rep.DontKnow++
				dontKnows++
				if r.Gap {
					rep.Gaps++
				}
			}
		} else {
			rep.Answerable++
			for _, f := range c.Expect {
				if containsFold(r.Answer, f) {
					r.Right = true
				}
			}
			if r.Right {
				rep.Right++
			}
			if r.DontKnow {
				rep.FalseDontKnow++
			}
		}
		rep.Results = append(rep.Results, r)
	}
	rep.Right = share(rep.Right, rep.Answerable)
	rep.DontKnow = share(rep.DontKnow, rep.Unanswerable)
	rep.Gaps = share(rep.Gaps, dontKnows)
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(env.stdout, "answers on %s (model %s): %d questions\n", dataset, rep.Model, rep.N)
	fmt.Fprintf(env.stdout, "  answerable right:          %5.1f%% of %d (%d answered \"I don't know\")\n", 100*rep.Right, rep.Answerable, rep.FalseDontKnow)
	fmt.Fprintf(env.stdout, "  unanswerable \"don't know\": %5.1f%% of %d\n", 100*rep.DontKnow, rep.Unanswerable)
	fmt.Fprintf(env.stdout, "  of those, in /gaps:        %5.1f%% of %d\n", 100*rep.Gaps, dontKnows)
	fmt.Fprintln(env.stdout, "misses:")
	for _, r := range rep.Results {
		if r.Right && (!r.Unanswerable || r.Gap) {
			continue
		}
		want := "\"I don't know\" and a gap"
		if !r.Unanswerable {
			want = strings.Join(r.Expect, " | ")
		}
		fmt.Fprintf(env.stdout, "  - %s\n      want: %s\n      got:  %s\n", r.Question, want, bot.Excerpt(r.Answer, 200))
	}
	return nil
}

func share(n float64, of int) float64 {
	if of == 0 {
		return 0
	}
	return n / float64(of)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// containsFold reports whether s holds sub, ignoring case and runs of
// white space.
func containsFold(s, sub string) bool {
	norm := func(x string) string { return strings.ToLower(strings.Join(strings.Fields(x), " ")) }
	return strings.Contains(norm(s), norm(sub))
}

// capturePlatform is the platform `chorus eval answers` talks through: it
// keeps the last text sent or edited in each chat.
type capturePlatform struct {
	mu      sync.Mutex
	n       int
	replies map[string]string
}

var _ bot.Platform = (*capturePlatform)(nil)

func (p *capturePlatform) Name() string { return "eval" }

func (p *capturePlatform) Send(_ context.Context, out bot.Out) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.replies[out.Chat.ID] = out.Text
	return strconv.Itoa(p.n), nil
}

func (p *capturePlatform) Edit(_ context.Context, out bot.Out, _ string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replies[out.Chat.ID] = out.Text
	return nil
}

func (p *capturePlatform) Delete(context.Context, bot.Chat, string) error { return nil }
func (p *capturePlatform) Typing(context.Context, bot.Chat) error         { return nil }
func (p *capturePlatform) Restrict(context.Context, bot.Chat, string, time.Time) error {
	return bot.ErrUnsupported
}
func (p *capturePlatform) Ban(context.Context, bot.Chat, string) error { return bot.ErrUnsupported }
func (p *capturePlatform) Limits() bot.Limits                          { return bot.Limits{MaxLen: 1 << 20} }

// reply returns the answer shown in chat and whether the bot stored it as
// an "I don't know" (bot.Turn.Unanswered), which is how the engine marks
// one whatever the model.
func (p *capturePlatform) reply(chat string, st memory.Backend, ctx context.Context) (string, bool) {
	p.mu.Lock()
	text := p.replies[chat]
	p.mu.Unlock()
	win, err := st.Window(ctx, bot.ConversationKey(p.Name(), chat, ""), 4000)
	if err != nil {
		return text, false
	}
	for i := len(win) - 1; i >= 0; i-- {
		if win[i].Role == bot.RoleAssistant {
			return text, win[i].Unanswered
		}
	}
	return text, false
}
