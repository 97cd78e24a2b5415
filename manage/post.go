package manage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/textkit"
)

// Variants is how many drafts /post offers.
const Variants = 3

// maxDraftsListed bounds /post list.
const maxDraftsListed = 10

// Target is a platform a post can be drafted for.
type Target struct {
	// Key is what the manager types (/post x ...).
	Key string
	// Name is how the prompt names it.
	Name string
	// Limit is the character limit, hashtags included.
	Limit int
	// Formatting is true when the platform renders Markdown-like
	// formatting (bold, italics, line breaks).
	Formatting bool
}

// Targets are the platforms /post knows, by key. Config.PostLimits
// overrides their limits.
var Targets = map[string]Target{
	"x":         {Key: "x", Name: "X (Twitter)", Limit: 280},
	"linkedin":  {Key: "linkedin", Name: "LinkedIn", Limit: 3000},
	"telegram":  {Key: "telegram", Name: "a Telegram channel post", Limit: 4096, Formatting: true},
	"discord":   {Key: "discord", Name: "a Discord announcement", Limit: 2000, Formatting: true},
	"instagram": {Key: "instagram", Name: "an Instagram caption", Limit: 2200},
}

var targetAliases = map[string]string{"twitter": "x", "tg": "telegram", "ig": "instagram"}

func (t *Tools) target(key string) (Target, bool) {
	key = strings.ToLower(key)
	if a, ok := targetAliases[key]; ok {
		key = a
	}
	tg, ok := Targets[key]
	if n, ok2 := t.cfg.PostLimits[key]; ok2 {
		if !ok {
			tg = Target{Key: key, Name: key}
		}
		tg.Limit, ok = n, true
	}
	return tg, ok
}

// variant is one draft offered.
type variant struct {
	Text    string
	Trimmed bool
	// Flags are what the output checks found in it, for the manager.
	Flags []bot.Flag
}

// postSession is a manager's last /post: what /post again and /post keep
// work on.
type postSession struct {
	Target   Target
	Brief    string
	Variants []variant
	Sources  []string
}

// Draft is a kept post, stored in BucketDrafts as JSON.
type Draft struct {
	ID       string    `json:"id"`
	Platform string    `json:"platform"`
	Brief    string    `json:"brief"`
	Text     string    `json:"text"`
	Author   string    `json:"author"`
	Sources  []string  `json:"sources,omitempty"`
	Created  time.Time `json:"created"`
	// Flags are the output checks' findings on the draft ("ungrounded:
	// promo code ..."), kept so that /post show repeats them.
	Flags []string `json:"flags,omitempty"`
}

func (t *Tools) cmdPost(ctx context.Context, env *bot.Env, c *bot.Command) error {
	sub, rest, _ := strings.Cut(strings.TrimSpace(c.Args), " ")
	rest = strings.TrimSpace(rest)
	user := env.Message().UserKey()
	switch strings.ToLower(sub) {
	case "":
		return env.Reply(ctx, t.postUsage(env))
	case "again":
		s := t.session(user)
		if s == nil {
			return env.Reply(ctx, env.T("manage.post_no_session"))
		}
		return t.draft(ctx, env, s.Target, s.Brief, s)
	case "keep":
		return t.keep(ctx, env, rest)
	case "list":
		return t.listDrafts(ctx, env)
	case "show":
		return t.showDraft(ctx, env, rest)
	case "publish", "scheduled", "cancel":
		return t.publishing(ctx, env, strings.ToLower(sub), rest)
	}
	tg, ok := t.target(sub)
	if !ok || rest == "" {
		return env.Reply(ctx, t.postUsage(env))
	}
	return t.draft(ctx, env, tg, rest, nil)
}

func (t *Tools) postUsage(env *bot.Env) string {
	keys := make([]string, 0, len(Targets)+len(t.cfg.PostLimits))
	for k := range Targets {
		keys = append(keys, k)
	}
	for k := range t.cfg.PostLimits {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return env.T("manage.post_usage", "platforms", strings.Join(keys, ", "))
}

func (t *Tools) session(user string) *postSession {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	return t.sessions[user]
}

// draft asks the model for Variants drafts on brief for tg and offers them.
func (t *Tools) draft(ctx context.Context, env *bot.Env, tg Target, brief string, prev *postSession) error {
	if t.prompts == nil {
		return env.Reply(ctx, env.T("manage.post_needs_llm"))
	}
	var passages []bot.Passage
	if kb := t.kb; kb != nil {
		ps, err := kb.Search(ctx, brief, t.cfg.PostPassages)
		if err != nil {
			t.log.Warn("manage: post: knowledge search failed", "err", err)
		}
		passages = ps
	}
	p := env.Persona()
	in := bot.PostInput{Persona: p, Lang: env.Lang, Platform: tg.Name, Limit: tg.Limit, Formatting: tg.Formatting, Drafts: Variants,
		Brief: brief, Passages: passages}
	if prev != nil {
		for _, v := range prev.Variants {
			in.Previous = append(in.Previous, v.Text)
		}
	}
	msgs, err := t.prompts.Post(in)
	if err != nil {
		return fmt.Errorf("manage: post prompt: %w", err)
	}
	resp, err := t.complete(ctx, env, bot.Request{Purpose: bot.PurposePost, Messages: msgs, Lang: env.Lang, Persona: p, Passages: passages,
		Query: brief, Temperature: 0.9, MaxTokens: min(4000, tg.Limit*Variants/2+300)})
	if errors.Is(err, errOffline) {
		return env.Reply(ctx, env.T("manage.post_needs_llm"))
	}
	if err != nil {
		t.log.Warn("manage: post: drafting failed", "err", err)
		return env.Reply(ctx, env.T("manage.post_failed"))
	}
	texts := parseVariants(resp.Text)
	if len(texts) == 0 {
		return env.Reply(ctx, env.T("manage.post_failed"))
	}
	s := &postSession{Target: tg, Brief: brief}
	for _, p := range passages {
		if !slices.Contains(s.Sources, p.Source) {
			s.Sources = append(s.Sources, p.Source)
		}
	}
	g := &bot.Grounding{Query: brief, Lang: env.Lang, Persona: p, Passages: passages}
	for _, tx := range texts {
		v := variant{Text: tx}
		v.Text, v.Trimmed = trimToLimit(tx, tg.Limit)
		v.Flags = bot.CheckText(ctx, t.checks, v.Text, g)
		s.Variants = append(s.Variants, v)
	}
	t.pmu.Lock()
	t.sessions[env.Message().UserKey()] = s
	t.pmu.Unlock()

	var b strings.Builder
	b.WriteString(env.T("manage.post_header", "platform", tg.Name, "limit", tg.Limit, "brief", clip(brief, 120)))
	if len(s.Sources) > 0 {
		b.WriteString("\n" + env.T("manage.post_sources", "sources", strings.Join(s.Sources, ", ")))
	}
	var tags []string
	for i, v := range s.Variants {
		fmt.Fprintf(&b, "\n\n%d. %s\n", i+1, v.Text)
		n := utf8.RuneCountInString(v.Text)
		if v.Trimmed {
			b.WriteString(env.T("manage.post_len_trimmed", "n", n, "limit", tg.Limit))
		} else {
			b.WriteString(env.T("manage.post_len", "n", n, "limit", tg.Limit))
		}
		for _, f := range v.Flags {
			b.WriteString("\n" + env.T("manage.post_flagged", "check", string(f.Check), "detail", f.Detail))
		}
		for _, h := range hashtags(v.Text) {
			if !slices.Contains(tags, h) {
				tags = append(tags, h)
			}
		}
	}
	if len(tags) == 0 {
		tags = suggestTags(brief, passages)
	}
	if len(tags) > 0 {
		b.WriteString("\n\n" + env.T("manage.post_hashtags", "tags", strings.Join(tags[:min(6, len(tags))], " ")))
	}
	b.WriteString("\n\n" + env.T("manage.post_footer", "n", len(s.Variants)))
	return env.Reply(ctx, b.String())
}

var (
	fenceRE = regexp.MustCompile("(?s)^```[a-zA-Z]*\\s*\n?(.*?)\\s*```$")
	// numberRE finds a variant's number at the start of a line: "1.",
	// "2)", "**3.**", "Draft 1:", "### Variant 2", "1．". The number is
	// in group 1 or 2.
	numberRE = regexp.MustCompile(`(?mi)^[ \t]*(?:#{1,4}[ \t]*)?(?:\*\*|__)?[ \t]*(?:(?:variant|draft|option|post|版本|方案)[ \t]*([1-9])[ \t]*(?:[.):：．、\-–—])?|([1-9])[ \t]*(?:[.):：．、]|\*\*))[ \t]*(?:\*\*|__)?[ \t]*`)
)

// parseVariants reads the model's drafts: a JSON array or object (of
// strings or {text, hashtags}), or a numbered list, or failing both the
// whole text as one draft. At most Variants are returned.
func parseVariants(text string) []string {
	text = strings.TrimSpace(text)
	if m := fenceRE.FindStringSubmatch(text); m != nil {
		text = strings.TrimSpace(m[1])
	}
	if vs := parseJSONVariants(text); len(vs) > 0 {
		return vs[:min(Variants, len(vs))]
	}
	starts, ends := numberedStarts(text, true)
	if len(starts) < 2 {
		starts, ends = numberedStarts(text, false)
	}
	var out []string
	if len(starts) >= 2 {
		for i := range starts {
			stop := len(text)
			if i+1 < len(starts) {
				stop = starts[i+1]
			}
			if v := cleanVariant(text[ends[i]:stop]); v != "" {
				out = append(out, v)
			}
		}
	} else if v := cleanVariant(text); v != "" {
		out = append(out, v)
	}
	return out[:min(Variants, len(out))]
}

// numberedStarts finds the markers numbering 1, 2, 3 in order; with
// paragraphs set, only markers opening a paragraph count, so that a
// numbered list inside a draft doesn't split it.
func numberedStarts(text string, paragraphs bool) (starts, ends []int) {
	want := 1
	for _, l := range numberRE.FindAllStringSubmatchIndex(text, -1) {
		if paragraphs && l[0] > 0 && !strings.HasSuffix(strings.TrimRight(text[:l[0]], " \t"), "\n\n") {
			continue
		}
		d := l[2]
		if d < 0 {
			d = l[4]
		}
		if int(text[d]-'0') == want {
			starts, ends = append(starts, l[0]), append(ends, l[1])
			want++
		}
	}
	return starts, ends
}

func cleanVariant(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "\""), "\"")
	return strings.TrimSpace(s)
}

func parseJSONVariants(text string) []string {
	if !strings.HasPrefix(text, "{") && !strings.HasPrefix(text, "[") {
		return nil
	}
	type item struct {
		Text     string   `json:"text"`
		Post     string   `json:"post"`
		Content  string   `json:"content"`
		Hashtags []string `json:"hashtags"`
	}
	fromItems := func(raw []json.RawMessage) []string {
		var out []string
		for _, r := range raw {
			var s string
			if json.Unmarshal(r, &s) == nil {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
				continue
			}
			var it item
			if json.Unmarshal(r, &it) != nil {
				continue
			}
			s = strings.TrimSpace(it.Text + it.Post + it.Content)
			if s == "" {
				continue
			}
			var missing []string
			for _, h := range it.Hashtags {
				h = strings.TrimSpace(h)
				if h == "" {
					continue
				}
				if !strings.HasPrefix(h, "#") {
					h = "#" + h
				}
				if !strings.Contains(s, h) {
					missing = append(missing, h)
				}
			}
			if len(missing) > 0 {
				s += "\n\n" + strings.Join(missing, " ")
			}
			out = append(out, s)
		}
		return out
	}
	var arr []json.RawMessage
	if json.Unmarshal([]byte(text), &arr) == nil {
		return fromItems(arr)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(text), &obj) != nil {
		return nil
	}
	for _, k := range []string{"variants", "drafts", "posts", "options"} {
		if raw, ok := obj[k]; ok && json.Unmarshal(raw, &arr) == nil {
			return fromItems(arr)
		}
	}
	return nil
}

// suggestTags makes hashtags from the terms the brief and the passages
// share most, for drafts that came without any.
func suggestTags(brief string, passages []bot.Passage) []string {
	counts := map[string]int{}
	var labels textkit.Labels
	for _, w := range textkit.Words(brief) {
		if textkit.Topic(w) && (utf8.RuneCountInString(w.Text) >= 4 || w.Han) {
			counts[w.Term] += 2
			labels.Add(w)
		}
	}
	for _, p := range passages {
		for t := range termSet(p.Text) {
			if counts[t] > 0 {
				counts[t]++
			}
		}
	}
	var out []string
	for _, t := range topTerms(counts, 3, 1) {
		out = append(out, "#"+labels.Label(t))
	}
	return out
}

func (t *Tools) keep(ctx context.Context, env *bot.Env, arg string) error {
	s := t.session(env.Message().UserKey())
	if s == nil {
		return env.Reply(ctx, env.T("manage.post_no_session"))
	}
	n, err := strconv.Atoi(strings.TrimSpace(arg))
	if err != nil || n < 1 || n > len(s.Variants) {
		return env.Reply(ctx, env.T("manage.post_keep_usage", "n", len(s.Variants)))
	}
	now := t.now()
	d := Draft{Platform: s.Target.Key, Brief: s.Brief, Text: s.Variants[n-1].Text, Author: env.Message().UserKey(), Sources: s.Sources, Created: now}
	for _, f := range s.Variants[n-1].Flags {
		d.Flags = append(d.Flags, string(f.Check)+": "+f.Detail)
	}
	base := "d" + strconv.FormatInt(now.UnixMilli(), 36)
	d.ID = base
	for i := 2; i < 100; i++ {
		if _, err := t.kv.Get(ctx, BucketDrafts, d.ID); errors.Is(err, bot.ErrNotFound) {
			break
		} else if err != nil {
			return fmt.Errorf("manage: post keep: %w", err)
		}
		d.ID = base + "-" + strconv.Itoa(i)
	}
	js, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("manage: post keep: %w", err)
	}
	if err := t.kv.Put(ctx, BucketDrafts, d.ID, js); err != nil {
		return fmt.Errorf("manage: post keep: %w", err)
	}
	return env.Reply(ctx, env.T("manage.post_kept", "id", d.ID, "n", n))
}

// recentDrafts returns the newest kept drafts, newest first, at most
// maxDraftsListed: what /post list numbers and /post publish N counts in.
func (t *Tools) recentDrafts(ctx context.Context) ([]Draft, error) {
	var ds []Draft
	err := t.kv.Scan(ctx, BucketDrafts, "", "", func(_ string, v []byte) error {
		var d Draft
		if json.Unmarshal(v, &d) == nil {
			ds = append(ds, d)
			if len(ds) > maxDraftsListed {
				ds = ds[1:]
			}
		}
		return nil
	})
	slices.Reverse(ds)
	return ds, err
}

func (t *Tools) listDrafts(ctx context.Context, env *bot.Env) error {
	ds, err := t.recentDrafts(ctx)
	if err != nil {
		return fmt.Errorf("manage: post list: %w", err)
	}
	if len(ds) == 0 {
		return env.Reply(ctx, env.T("manage.post_none"))
	}
	var b strings.Builder
	b.WriteString(env.T("manage.post_list"))
	for i, d := range ds {
		fmt.Fprintf(&b, "\n%d. %s · %s · %s · %s", i+1, d.ID, d.Platform, d.Created.UTC().Format("2006-01-02 15:04"), clip(d.Text, 70))
	}
	return env.Reply(ctx, b.String())
}

// Publisher publishes kept drafts to the brand's channels, now or at a
// time (package campaigns): /post publish, /post scheduled and /post
// cancel hand over to it.
type Publisher interface {
	// Publish publishes d; args are what followed the draft in the
	// command ("[CHANNEL] [at TIME]").
	Publish(ctx context.Context, env *bot.Env, d Draft, args string) error
	// Scheduled lists the posts waiting for their time.
	Scheduled(ctx context.Context, env *bot.Env) error
	// Cancel cancels a scheduled post by its id.
	Cancel(ctx context.Context, env *bot.Env, id string) error
	// Announce sends a confirmed /announce text by author to one
	// channel, as a campaign of its own (its links tracked, its reach
	// kept).
	Announce(ctx context.Context, author, text, platform, chat string) error
}

// WithPublisher lets /post publish, schedule and cancel kept drafts.
func WithPublisher(p Publisher) Option { return func(t *Tools) { t.publisher = p } }

// publishing runs /post publish N|ID [CHANNEL] [at TIME], /post
// scheduled and /post cancel ID through the Publisher.
func (t *Tools) publishing(ctx context.Context, env *bot.Env, sub, rest string) error {
	if t.publisher == nil {
		return env.Reply(ctx, env.T("manage.post_no_publisher"))
	}
	switch sub {
	case "scheduled":
		return t.publisher.Scheduled(ctx, env)
	case "cancel":
		if rest == "" {
			return env.Reply(ctx, env.T("manage.post_publish_usage"))
		}
		return t.publisher.Cancel(ctx, env, rest)
	}
	ref, args, _ := strings.Cut(rest, " ")
	if ref == "" {
		return env.Reply(ctx, env.T("manage.post_publish_usage"))
	}
	d, ok, err := t.findDraft(ctx, ref)
	if err != nil {
		return fmt.Errorf("manage: post publish: %w", err)
	}
	if !ok {
		return env.Reply(ctx, env.T("manage.post_not_found", "id", ref))
	}
	return t.publisher.Publish(ctx, env, d, strings.TrimSpace(args))
}

// findDraft finds a kept draft by its id, or by its number in /post list
// (1 is the newest).
func (t *Tools) findDraft(ctx context.Context, ref string) (Draft, bool, error) {
	if n, err := strconv.Atoi(ref); err == nil {
		ds, err := t.recentDrafts(ctx)
		if err != nil || n < 1 || n > len(ds) {
			return Draft{}, false, err
		}
		return ds[n-1], true, nil
	}
	v, err := t.kv.Get(ctx, BucketDrafts, ref)
	if errors.Is(err, bot.ErrNotFound) {
		return Draft{}, false, nil
	}
	if err != nil {
		return Draft{}, false, err
	}
	var d Draft
	if err := json.Unmarshal(v, &d); err != nil {
		return Draft{}, false, err
	}
	return d, true, nil
}

func (t *Tools) showDraft(ctx context.Context, env *bot.Env, id string) error {
	id = strings.TrimSpace(id)
	if id == "" {
		return env.Reply(ctx, env.T("manage.post_show_usage"))
	}
	v, err := t.kv.Get(ctx, BucketDrafts, id)
	if errors.Is(err, bot.ErrNotFound) {
		return env.Reply(ctx, env.T("manage.post_not_found", "id", id))
	}
	if err != nil {
		return fmt.Errorf("manage: post show: %w", err)
	}
	var d Draft
	if err := json.Unmarshal(v, &d); err != nil {
		return fmt.Errorf("manage: post show: %w", err)
	}
	text := env.T("manage.post_show", "id", d.ID, "platform", d.Platform, "brief", d.Brief,
		"date", d.Created.UTC().Format("2006-01-02 15:04")) + "\n\n" + d.Text
	for _, f := range d.Flags {
		check, detail, _ := strings.Cut(f, ": ")
		text += "\n" + env.T("manage.post_flagged", "check", check, "detail", detail)
	}
	return env.Reply(ctx, text)
}

// maxDraftRunes bounds a draft edited in the console.
const maxDraftRunes = 4000

// Drafts lists the kept drafts, newest first.
func (t *Tools) Drafts(ctx context.Context) ([]Draft, error) {
	var ds []Draft
	err := t.kv.Scan(ctx, BucketDrafts, "", "", func(_ string, v []byte) error {
		var d Draft
		if json.Unmarshal(v, &d) == nil {
			ds = append(ds, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("manage: drafts: %w", err)
	}
	slices.SortFunc(ds, func(a, b Draft) int { return b.Created.Compare(a.Created) })
	return ds, nil
}

// EditDraft replaces a kept draft's text; bot.ErrNotFound when there is
// no such draft.
func (t *Tools) EditDraft(ctx context.Context, id, text string) error {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > maxDraftRunes {
		return fmt.Errorf("manage: a draft holds 1 to %d characters", maxDraftRunes)
	}
	v, err := t.kv.Get(ctx, BucketDrafts, id)
	if err != nil {
		return err
	}
	var d Draft
	if err := json.Unmarshal(v, &d); err != nil {
		return fmt.Errorf("manage: edit draft: %w", err)
	}
	d.Text, d.Flags = text, nil
	js, _ := json.Marshal(d)
	if err := t.kv.Put(ctx, BucketDrafts, id, js); err != nil {
		return fmt.Errorf("manage: edit draft: %w", err)
	}
	return nil
}

// DeleteDraft deletes a kept draft.
func (t *Tools) DeleteDraft(ctx context.Context, id string) error {
	if _, err := t.kv.Get(ctx, BucketDrafts, id); err != nil {
		return err
	}
	return t.kv.Delete(ctx, BucketDrafts, id)
}

// LastPost is a manager's last /post, not kept yet: the platform it was
// written for, the brief, and each variant with what the output checks
// found in it.
type LastPost struct {
	Platform, Brief string
	Variants        []string
	Flags           [][]string
}

// LastPostOf returns user's last /post (held in memory until they post
// again or the process ends); ok is false when there is none.
func (t *Tools) LastPostOf(user string) (LastPost, bool) {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	s, ok := t.sessions[user]
	if !ok || s == nil {
		return LastPost{}, false
	}
	out := LastPost{Platform: s.Target.Key, Brief: s.Brief}
	for _, v := range s.Variants {
		var fl []string
		for _, f := range v.Flags {
			fl = append(fl, string(f.Check)+": "+f.Detail)
		}
		out.Variants = append(out.Variants, v.Text)
		out.Flags = append(out.Flags, fl)
	}
	return out, true
}
