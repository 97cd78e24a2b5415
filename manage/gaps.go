package manage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/textkit"
)

const (
	// maxGapBuffer bounds questions held in memory between flushes; past
	// it the oldest are dropped (and counted), so a KV outage can't grow
	// memory without bound.
	maxGapBuffer = 4096
	// maxGapGroups bounds the groups /gaps lists.
	maxGapGroups = 10
	// gapCompare is how many members of a group a question is compared
	// with, which bounds grouping to O(questions × groups × gapCompare).
	gapCompare = 4
	maxGapDays = 90
	// gapTextRunes bounds a recorded question.
	gapTextRunes = 300
)

// gapRecord is one question the knowledge base could not answer. It holds
// no user id: gaps are about the documentation, not about who asked. The
// conversation keeps a report to the chats its room may see, and a
// one-way hash of the asker's key finds the question again when they are
// forgotten.
type gapRecord struct {
	Time     time.Time `json:"t"`
	Platform string    `json:"p"`
	Chat     string    `json:"c,omitempty"`
	User     string    `json:"u,omitempty"`
	Lang     string    `json:"l,omitempty"`
	Text     string    `json:"q"`
	Source   string    `json:"s,omitempty"`
	Score    float64   `json:"sc,omitempty"`
}

// unansweredQuestion is the one definition of an unanswered question that
// /gaps and /digest share: text reads as a question (not small talk: "who
// are you?" or "I love this coffee!" are no gap in the documentation),
// and nobody answered it or the bot's answer was an honest "I don't know"
// (botSaidNo: no relevant passage, or the model said the facts didn't
// cover it).
func unansweredQuestion(text string, answered, botSaidNo bool) bool {
	if strings.TrimSpace(text) == "" || !textkit.IsQuestion(text) || textkit.SmallTalk(text) != textkit.TalkNone {
		return false
	}
	return !answered || botSaidNo
}

// Observe implements bot.Observer. It records the questions the bot
// answered with an honest "I don't know" (bot.EventQuestion with
// bot.OutcomeUnanswered), by unansweredQuestion.
//
// It must be quick, so it only appends to a bounded in-memory buffer: Run
// writes the buffer to the KV as one record per batch (Config.GapBatch
// questions, or whatever is buffered every Config.FlushEvery), so that a
// busy chat costs one KV transaction per batch rather than one per
// question; /gaps and Flush write what is buffered first. Questions still
// buffered when the process dies are lost, which is acceptable for a
// statistic.
func (t *Tools) Observe(ev bot.Event) {
	if ev.Kind != bot.EventQuestion {
		return
	}
	text := clip(bot.MaskPII(ev.Text), gapTextRunes) // masked, then cut: no half address kept
	if !unansweredQuestion(text, true, ev.Outcome == bot.OutcomeUnanswered) {
		return
	}
	at := t.now() // the engine's clock, which /gaps reads by
	r := gapRecord{Time: at, Platform: ev.Platform, Chat: ev.Chat, Lang: ev.Lang, Text: text, Source: ev.Label, Score: ev.Score}
	if ev.User != "" {
		r.User = bot.UserHash(ev.User)
	}
	t.gmu.Lock()
	t.gbuf = append(t.gbuf, r)
	if len(t.gbuf) > maxGapBuffer {
		t.dropped += len(t.gbuf) - maxGapBuffer
		t.gbuf = t.gbuf[len(t.gbuf)-maxGapBuffer:]
	}
	full := len(t.gbuf) >= t.cfg.GapBatch
	t.gmu.Unlock()
	if full {
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
}

// Run writes buffered questions to the KV every Config.FlushEvery, or as
// soon as a batch is full, until ctx ends; then it flushes once more and
// returns nil.
func (t *Tools) Run(ctx context.Context) error {
	tick := time.NewTicker(t.cfg.FlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := t.Flush(fctx); err != nil {
				t.log.Warn("manage: final flush of knowledge gaps failed", "err", err)
			}
			return nil
		case <-tick.C:
		case <-t.kick:
		}
		if err := t.Flush(ctx); err != nil {
			t.log.Warn("manage: flush of knowledge gaps failed", "err", err)
		}
	}
}

// Flush writes the buffered questions to the KV as one record. On failure
// the questions stay buffered for the next try.
func (t *Tools) Flush(ctx context.Context) error {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	t.gmu.Lock()
	batch := t.gbuf
	t.gbuf = nil
	dropped := t.dropped
	t.dropped = 0
	t.gmu.Unlock()
	if dropped > 0 {
		t.log.Warn("manage: knowledge-gap buffer overflowed; questions dropped", "count", dropped)
	}
	if len(batch) == 0 {
		return nil
	}
	newest := batch[0].Time
	for _, r := range batch {
		if r.Time.After(newest) {
			newest = r.Time
		}
	}
	js, err := json.Marshal(batch)
	if err != nil {
		return fmt.Errorf("manage: flush gaps: %w", err)
	}
	t.gseq++
	key := gapKey(newest) + "-" + strconv.FormatUint(t.gseq, 10)
	if err := t.kv.Put(ctx, BucketGaps, key, js); err != nil {
		t.gmu.Lock()
		t.gbuf = append(batch, t.gbuf...)
		if len(t.gbuf) > maxGapBuffer {
			t.dropped += len(t.gbuf) - maxGapBuffer
			t.gbuf = t.gbuf[len(t.gbuf)-maxGapBuffer:]
		}
		t.gmu.Unlock()
		return fmt.Errorf("manage: flush gaps: %w", err)
	}
	return nil
}

// gapKey orders batches by the time of their newest question: every
// batch holding a question at or after since has a key at or after
// gapKey(since).
func gapKey(at time.Time) string { return fmt.Sprintf("%020d", at.UnixNano()) }

// gapGroup is questions alike enough to be one documentation gap.
type gapGroup struct {
	members []int
	sets    []map[string]bool
	newest  time.Time
}

// groupGaps clusters questions by token Jaccard (Chinese by character
// bigrams): each question joins the group it is most similar to, if at
// least sim, else starts one. Groups come largest first.
func groupGaps(recs []gapRecord, sim float64) []gapGroup {
	var groups []*gapGroup
	for i := len(recs) - 1; i >= 0; i-- { // newest first: examples are recent
		s := termSet(recs[i].Text)
		if len(s) == 0 {
			s = map[string]bool{strings.ToLower(strings.TrimSpace(recs[i].Text)): true}
		}
		var best *gapGroup
		bestSim := 0.0
		for _, g := range groups {
			for _, ms := range g.sets {
				if j := jaccard(s, ms); j > bestSim {
					best, bestSim = g, j
				}
			}
		}
		if best != nil && bestSim >= sim {
			best.members = append(best.members, i)
			if len(best.sets) < gapCompare {
				best.sets = append(best.sets, s)
			}
			continue
		}
		groups = append(groups, &gapGroup{members: []int{i}, sets: []map[string]bool{s}, newest: recs[i].Time})
	}
	out := make([]gapGroup, len(groups))
	for i, g := range groups {
		out[i] = *g
	}
	sort.SliceStable(out, func(a, b int) bool {
		if len(out[a].members) != len(out[b].members) {
			return len(out[a].members) > len(out[b].members)
		}
		return out[a].newest.After(out[b].newest)
	})
	return out
}

// example picks the group's most typical question: the one whose terms
// are most shared by the others.
func example(recs []gapRecord, g gapGroup) gapRecord {
	counts := map[string]int{}
	sets := make([]map[string]bool, len(g.members))
	for k, i := range g.members {
		sets[k] = termSet(recs[i].Text)
		for term := range sets[k] {
			counts[term]++
		}
	}
	best, bestScore := g.members[0], -1.0
	for k, i := range g.members {
		score := 0.0
		for term := range sets[k] {
			score += float64(counts[term])
		}
		if len(sets[k]) > 0 {
			score /= float64(len(sets[k]))
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return recs[best]
}

// parsePeriod reads "7d", "24h", "2w" or a number of days.
func parsePeriod(s string) (time.Duration, bool) {
	if s == "" {
		return 7 * 24 * time.Hour, true
	}
	unit := 24 * time.Hour
	switch {
	case strings.HasSuffix(s, "h"):
		s, unit = strings.TrimSuffix(s, "h"), time.Hour
	case strings.HasSuffix(s, "d"):
		s = strings.TrimSuffix(s, "d")
	case strings.HasSuffix(s, "w"):
		s, unit = strings.TrimSuffix(s, "w"), 7*24*time.Hour
	}
	n, err := strconv.Atoi(s)
	d := time.Duration(n) * unit
	if err != nil || n <= 0 || d > maxGapDays*24*time.Hour {
		return 0, false
	}
	return d, true
}

func fmtPeriod(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return fmt.Sprintf("%dh", d/time.Hour)
}

// loadGaps reads the questions recorded since, oldest first, at most
// GapMaxQuestions (the most recent).
func (t *Tools) loadGaps(ctx context.Context, since time.Time) ([]gapRecord, error) {
	var recs []gapRecord
	err := t.kv.Scan(ctx, BucketGaps, gapKey(since), "", func(_ string, v []byte) error {
		var batch []gapRecord
		if err := json.Unmarshal(v, &batch); err != nil {
			return nil // a damaged record loses its batch, not the report
		}
		for _, r := range batch {
			if !r.Time.Before(since) {
				recs = append(recs, r)
			}
		}
		if over := len(recs) - 2*t.cfg.GapMaxQuestions; over > 0 {
			recs = recs[over:]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("manage: gaps: %w", err)
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time.Before(recs[j].Time) })
	if len(recs) > t.cfg.GapMaxQuestions {
		recs = recs[len(recs)-t.cfg.GapMaxQuestions:]
	}
	return recs, nil
}

func (t *Tools) cmdGaps(ctx context.Context, env *bot.Env, c *bot.Command) error {
	arg := ""
	if f := c.Fields(); len(f) > 0 {
		arg = f[0]
	}
	d, ok := parsePeriod(arg)
	if !ok {
		return env.Reply(ctx, env.T("manage.gaps_usage", "max", maxGapDays))
	}
	if err := t.Flush(ctx); err != nil {
		t.log.Warn("manage: flush of knowledge gaps failed", "err", err)
	}
	recs, err := t.loadGaps(ctx, t.now().Add(-d))
	if err != nil {
		return err
	}
	// Only the questions of the chats this room may see; questions
	// recorded before they carried their chat, only where every chat is.
	recs = slices.DeleteFunc(recs, func(r gapRecord) bool {
		return r.Chat == "" && !env.View.All() || r.Chat != "" && !env.View.Covers(r.Chat)
	})
	if len(recs) == 0 {
		return env.Reply(ctx, env.T("manage.gaps_none", "period", fmtPeriod(d)))
	}
	groups := groupGaps(recs, t.cfg.GapSimilarity)
	var b strings.Builder
	b.WriteString(env.T("manage.gaps_header", "period", fmtPeriod(d), "count", len(recs), "groups", len(groups)))
	for i, g := range groups[:min(maxGapGroups, len(groups))] {
		ex := example(recs, g)
		fmt.Fprintf(&b, "\n%d. %s", i+1, env.T("manage.gaps_group", "count", len(g.members), "example", clip(bot.MaskPII(ex.Text), 160)))
		if ex.Source != "" {
			b.WriteString(" " + env.T("manage.gaps_closest", "source", ex.Source))
		}
	}
	if len(groups) > maxGapGroups {
		b.WriteString("\n" + env.T("manage.gaps_more", "n", len(groups)-maxGapGroups))
	}
	return env.Reply(ctx, b.String())
}

// GapQuestions returns the questions recorded as knowledge gaps since,
// oldest first, after writing what is buffered: what /gaps groups, for
// `chorus eval answers`.
func (t *Tools) GapQuestions(ctx context.Context, since time.Time) ([]string, error) {
	if err := t.Flush(ctx); err != nil {
		return nil, err
	}
	recs, err := t.loadGaps(ctx, since)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Text
	}
	return out, nil
}

// removeGaps deletes the recorded questions drop selects, buffered or
// stored, and returns how many.
func (t *Tools) removeGaps(ctx context.Context, drop func(gapRecord) bool) (int, error) {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	n := 0
	t.gmu.Lock()
	before := len(t.gbuf)
	t.gbuf = slices.DeleteFunc(t.gbuf, drop)
	n += before - len(t.gbuf)
	t.gmu.Unlock()

	type rewrite struct {
		key   string
		batch []gapRecord
	}
	var changed []rewrite
	err := t.kv.Scan(ctx, BucketGaps, "", "", func(k string, v []byte) error {
		var batch []gapRecord
		if json.Unmarshal(v, &batch) != nil {
			return nil
		}
		kept := slices.DeleteFunc(slices.Clone(batch), drop)
		if len(kept) != len(batch) {
			n += len(batch) - len(kept)
			changed = append(changed, rewrite{k, kept})
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	for _, c := range changed {
		if len(c.batch) == 0 {
			err = t.kv.Delete(ctx, BucketGaps, c.key)
		} else {
			b, _ := json.Marshal(c.batch)
			err = t.kv.Put(ctx, BucketGaps, c.key, b)
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ResolveGaps deletes the recorded knowledge gaps a new answer closes:
// the questions alike enough to question (Config.GapSimilarity, as /gaps
// groups them) or equal to it. It returns how many; /gaps and the digest
// no longer list them.
func (t *Tools) ResolveGaps(ctx context.Context, question string) (int, error) {
	if t.kv == nil {
		return 0, nil
	}
	q := termSet(question)
	norm := strings.ToLower(strings.TrimSpace(question))
	n, err := t.removeGaps(ctx, func(r gapRecord) bool {
		if strings.ToLower(strings.TrimSpace(r.Text)) == norm {
			return true
		}
		return len(q) > 0 && jaccard(q, termSet(r.Text)) >= t.cfg.GapSimilarity
	})
	if err != nil {
		return n, fmt.Errorf("manage: resolve gaps: %w", err)
	}
	return n, nil
}
