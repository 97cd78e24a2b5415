package textkit

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Credits: how much a question's word counts when a text holds it only in
// another form. The word itself counts 1.
const (
	// SynonymCredit is the credit of a word of the same thesaurus group
	// ("leave" for "steep").
	SynonymCredit = 0.7
	// OneWayCredit is the credit of a word a one-way line of the
	// thesaurus lets stand for the question's: "EU" for "Germany" (a rule
	// for the EU holds for Germany, but may not be all there is to say
	// about it), "refund" for "退款".
	OneWayCredit = 0.6
	// NeighbourCredit scales what only the sentence before, in the same
	// paragraph, holds: "From $17 per 12 oz bag." follows the plan it
	// prices.
	NeighbourCredit = 0.6
	// CharCredit is the credit of a Chinese word whose characters the text
	// holds, though not as that word ("停" for "暂停"), scaled by the share
	// of its characters found.
	CharCredit = 0.5
	// HeadingCredit scales what only a sentence's section heading holds:
	// a row of the table under "Shipping times" is about shipping.
	HeadingCredit = 0.9
	// TitleCredit scales what only the title (or name) of a sentence's
	// document holds, which speaks for every section of it.
	TitleCredit = 0.7
	// FillerWeight scales the weight of a filler word ("take", "long"):
	// "how long does shipping take?" is about shipping.
	FillerWeight = 0.1
	// NameWeight scales the weight of a name the question writes with a
	// capital ("Germany", "Apple Pay"): "how long does shipping to
	// Germany take?" is about Germany more than about shipping, which
	// every section of a shop's help mentions.
	NameWeight = 3
)

//go:embed data/thesaurus.txt
var thesaurusText string

// An entry is one word or two-word phrase of the thesaurus: seq its terms
// as written, match the term a text must hold: the word's, or for a
// phrase its PhraseTerm, which IndexTerms adds where the two words stand
// together ("pick up" is not "pick" and "up" anywhere in a sentence).
type entry struct {
	seq, match []string
	// cues, when set, are the terms of which a question must hold one
	// for the entry to stand in its group: the sense of a word of several
	// groups ("reach" is "contact" beside "you" or "team", else
	// "arrive"). Written word{cue,cue} in the thesaurus.
	cues []string
}

// PhraseTerm is the term of a two-word thesaurus phrase ("pick up").
func PhraseTerm(a, b string) string { return a + "_" + b }

var (
	thesOnce sync.Once
	// thesIndex maps the first term of an entry to the entries starting
	// with it, each with its group (an index of thesGroups).
	thesIndex  map[string][]thesHit
	thesGroups [][]entry
	// thesPhrases are the PhraseTerms of the thesaurus.
	thesPhrases map[string]bool
	// thesOneWay maps the terms of a question's word or two-word phrase
	// (joined with a space) to the entries of the one-way lines that may
	// stand for it in a text ("germany" -> "eu"), never the reverse.
	thesOneWay map[string][][]string
	// thesNames are the keys of thesOneWay whose forms are names (written
	// with a capital: "德国 -> EU"): the question's word is a name too.
	thesNames map[string]bool
)

type thesHit struct {
	e     entry
	group int
}

func loadThesaurus() {
	thesIndex = map[string][]thesHit{}
	thesPhrases = map[string]bool{}
	thesOneWay = map[string][][]string{}
	thesNames = map[string]bool{}
	for _, line := range strings.Split(thesaurusText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if from, to, ok := strings.Cut(line, "->"); ok {
			loadOneWay(from, to)
			continue
		}
		var g []entry
		for _, f := range strings.Fields(line) {
			e, ok := thesEntry(f)
			if !ok || slices.ContainsFunc(g, func(x entry) bool { return slices.Equal(x.seq, e.seq) && slices.Equal(x.cues, e.cues) }) {
				continue
			}
			g = append(g, e)
		}
		if len(g) < 2 {
			continue
		}
		gi := len(thesGroups)
		thesGroups = append(thesGroups, g)
		for _, e := range g {
			thesIndex[e.seq[0]] = append(thesIndex[e.seq[0]], thesHit{e: e, group: gi})
		}
	}
}

// thesEntry reads one word or "_"-joined phrase of the thesaurus, with
// its cues ("reach{you,team}"); a function word alone or three words are
// no entry.
func thesEntry(f string) (entry, bool) {
	var e entry
	if i := strings.IndexByte(f, '{'); i > 0 && strings.HasSuffix(f, "}") {
		for _, c := range strings.Split(f[i+1:len(f)-1], ",") {
			for _, w := range Words(c) {
				e.cues = append(e.cues, w.Term)
			}
		}
		f = f[:i]
	}
	ws := Words(strings.ReplaceAll(f, "_", " "))
	for _, w := range ws {
		e.seq = append(e.seq, w.Term)
	}
	switch {
	case len(ws) == 1 && !ws[0].Stop:
		e.match = e.seq
	case len(ws) == 2:
		e.match = []string{PhraseTerm(e.seq[0], e.seq[1])}
		thesPhrases[e.match[0]] = true
	default:
		return entry{}, false
	}
	return e, true
}

// loadOneWay reads a one-way line "germany france -> EU Europe": each
// word of a question on the left may be answered by a text holding a word
// on the right (a country by its region, a Chinese word by its English
// one), but a question about the right is not answered by the left: a
// rule for the EU holds for Germany, a rule for Germany not for the EU.
// When the right is written with capitals, the left are names.
func loadOneWay(from, to string) {
	var tos [][]string
	names := false
	for _, f := range strings.Fields(to) {
		if e, ok := thesEntry(f); ok {
			tos = append(tos, e.match)
			r, _ := utf8.DecodeRuneInString(f)
			names = names || unicode.IsUpper(r)
		}
	}
	for _, f := range strings.Fields(from) {
		e, ok := thesEntry(f)
		if !ok {
			continue
		}
		k := strings.Join(e.seq, " ")
		thesNames[k] = thesNames[k] || names
		for _, t := range tos {
			if !slices.ContainsFunc(thesOneWay[k], func(x []string) bool { return slices.Equal(x, t) }) {
				thesOneWay[k] = append(thesOneWay[k], t)
			}
		}
	}
}

// Concept is one thing a question asks about: a content word (or a
// two-word phrase of the thesaurus), with the forms a text may hold it
// in.
type Concept struct {
	// Terms are the question's own terms for it: one, or two for a
	// phrase ("money back"). A text matches when it holds them all.
	Terms []string
	// Text is the concept as the question wrote it.
	Text string
	// Filler is set for a word too general to weigh much ("take").
	Filler bool
	// Name is set for a name the question writes with a capital
	// ("Germany", "US", "Apple Pay"): it weighs NameWeight times more.
	Name bool
	// Synonyms are other entries of its thesaurus groups, each one or
	// two terms, worth SynonymCredit.
	Synonyms [][]string
	// OneWay are the entries the thesaurus's one-way lines let stand for
	// it (its region for a country, English words for a Chinese one),
	// worth OneWayCredit.
	OneWay [][]string
	// Chars are the character terms (CharTerm) of a Chinese word, worth
	// CharCredit by the share found.
	Chars []string
	// Kind is the kind of fact the word names (WordKind: "cost" names a
	// price); a sentence stating one holds the concept with
	// SynonymCredit.
	Kind Kind
}

// Query is a question read for search: what it asks about, and what kind
// of fact answers it.
type Query struct {
	Concepts []Concept
	// Wants are the kinds of fact that answer it (Asks); 0 when its
	// phrasing doesn't say.
	Wants Kind
}

// CharTerm is the term a Chinese character is indexed under, apart from
// the words it is part of: a search falls back on characters when the
// question segments a word differently from the text ("先停" and "暂停").
func CharTerm(r rune) string { return "#" + string(r) }

// CharTerms returns the character terms of the Chinese content words of
// ws (function characters left out).
func CharTerms(ws []Word) []string {
	var out []string
	for _, w := range ws {
		if !w.Han || w.Stop {
			continue
		}
		for _, r := range w.Text {
			if s := string(r); !zhStop[s] && !zhStopChar[r] {
				out = append(out, CharTerm(r))
			}
		}
	}
	return out
}

// zhStopChar are characters that say nothing alone, even inside a word.
var zhStopChar = func() map[rune]bool {
	m := map[rune]bool{}
	for _, r := range "的了是在我你他她它们吗呢吧啊呀哦嗯和就都也很又还这那有个么之与及或被把给让对从到说要会能着过得地可以一不没" {
		m[r] = true
	}
	return m
}()

// IndexTerms returns what a text is searched by: Terms, the PhraseTerm
// of each thesaurus phrase whose words stand together ("pick up"), and the
// CharTerms of its Chinese words.
func IndexTerms(text string) []string {
	thesOnce.Do(loadThesaurus)
	ws := Words(text)
	out := make([]string, 0, len(ws))
	for i, w := range ws {
		if !w.Stop {
			out = append(out, w.Term)
		}
		if i > 0 && !w.Break {
			if p := PhraseTerm(ws[i-1].Term, w.Term); thesPhrases[p] {
				out = append(out, p)
			}
		}
	}
	return append(out, CharTerms(ws)...)
}

// IndexTermSet is the set of IndexTerms of text.
func IndexTermSet(text string) SortedSet { return NewSortedSet(IndexTerms(text)) }

// ParseQuery reads a question: its content words become concepts (two
// neighbouring words that are a thesaurus phrase become one, and so does a
// capitalised name), each with its thesaurus synonyms, the words the
// thesaurus's one-way lines let stand for it (a country's region) and,
// for Chinese, its characters; and Asks says what kind of fact it wants.
// A word of several thesaurus groups takes the sense its cues pick among
// the question's words.
func ParseQuery(q string) Query {
	thesOnce.Do(loadThesaurus)
	ws := Words(q)
	var out Query
	out.Wants = Asks(q)
	names := nameRuns(q)
	// Every term of the question, function words too: the cues of a
	// word's senses ("reach you").
	cues := make(map[string]bool, len(ws))
	for _, w := range ws {
		cues[w.Term] = true
	}
	seen := map[string]bool{}
	// add adds a concept, with what the one-way lines give the words
	// seq (its terms as written).
	add := func(c Concept, seq []string) {
		key := strings.Join(c.Terms, " ")
		if len(c.Terms) == 0 || seen[key] {
			return
		}
		seen[key] = true
		c.Name = c.Name || thesNames[strings.Join(seq, " ")]
		for _, t := range thesOneWay[strings.Join(seq, " ")] {
			if !slices.Equal(t, c.Terms) && !slices.ContainsFunc(c.Synonyms, func(x []string) bool { return slices.Equal(x, t) }) {
				c.OneWay = append(c.OneWay, t)
			}
		}
		out.Concepts = append(out.Concepts, c)
	}
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		// A name of two or more capitalised words ("Apple Pay", "Roaster's
		// Choice") is one concept: a text holds it only when it holds
		// every word of it.
		if n := nameAt(names, ws, i); n > 1 {
			c := Concept{Text: ws[i].Text, Name: true}
			for _, x := range ws[i : i+n] {
				if !x.Stop {
					c.Terms = append(c.Terms, x.Term)
				}
			}
			for _, x := range ws[i+1 : i+n] {
				c.Text = joinSurface(c.Text, x.Text)
			}
			if n == 2 {
				if e, groups := phraseGroups(ws[i].Term, ws[i+1].Term); len(groups) > 0 {
					c.Synonyms = synonyms(groups, c.Terms)
					c.Synonyms = append(c.Synonyms, e.match)
				}
			}
			add(c, c.Terms)
			i += n - 1
			continue
		}
		if i+1 < len(ws) && !ws[i+1].Break {
			// A two-word thesaurus phrase ("money back", "sign in") may
			// start with a function word's neighbour; its words need no
			// break between them.
			if e, groups := phraseGroups(w.Term, ws[i+1].Term); len(groups) > 0 {
				add(Concept{Terms: e.match, Text: joinSurface(w.Text, ws[i+1].Text), Synonyms: synonyms(groups, e.match)}, e.seq)
				i++
				continue
			}
			// A two-word place of a one-way line ("hong kong").
			if seq := []string{w.Term, ws[i+1].Term}; thesOneWay[strings.Join(seq, " ")] != nil {
				add(Concept{Terms: seq, Text: joinSurface(w.Text, ws[i+1].Text)}, seq)
				i++
				continue
			}
		}
		if w.Stop || seen[w.Term] {
			continue
		}
		c := Concept{Terms: []string{w.Term}, Text: w.Text, Filler: IsFiller(w), Kind: WordKind(w.Text), Name: nameAt(names, ws, i) == 1}
		groups, cued := wordGroups(w.Term, cues)
		c.Synonyms = synonyms(groups, c.Terms)
		if w.Han {
			c.Chars = CharTerms([]Word{w})
		}
		if cued {
			// A sense its cues picked ("reach you") is all it means: the
			// one-way lines are for its plain sense.
			add(c, nil)
			continue
		}
		add(c, c.Terms)
	}
	return out
}

// nameRuns are the runs of capitalised Latin words in q, lower-cased: the
// names it mentions. The first word of a sentence and "I" don't count.
func nameRuns(q string) [][]string {
	var out [][]string
	var run []string
	flush := func() {
		if len(run) > 0 {
			out = append(out, run)
		}
		run = nil
	}
	first := true
	for _, f := range strings.Fields(q) {
		t := strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		r, _ := utf8.DecodeRuneInString(t)
		wasFirst := first
		first = strings.ContainsAny(f[len(f)-1:], ".!?")
		if wasFirst || t == "" || t == "I" || !unicode.IsUpper(r) || IsHan(r) {
			flush()
			continue
		}
		for _, w := range Words(t) {
			run = append(run, w.Text)
		}
		if t != f && strings.ContainsAny(f[len(f)-1:], ",.;:!?") {
			flush()
		}
	}
	flush()
	return out
}

// nameAt returns the length of the name run that starts at ws[i], or 0.
func nameAt(names [][]string, ws []Word, i int) int {
	for _, n := range names {
		if i+len(n) > len(ws) {
			continue
		}
		ok := true
		for j, x := range n {
			if ws[i+j].Text != x {
				ok = false
				break
			}
		}
		if ok {
			return len(n)
		}
	}
	return 0
}

// wordGroups are the groups a one-term entry belongs to in the sense the
// question's terms cue: the groups where the entry's cues are among
// them (cued), else those where it has none. Without cues (nil), every
// group.
func wordGroups(t string, cues map[string]bool) (groups []int, cued bool) {
	var plain, picked []int
	for _, h := range thesIndex[t] {
		switch {
		case len(h.e.seq) != 1:
		case len(h.e.cues) == 0 || cues == nil:
			plain = append(plain, h.group)
		case slices.ContainsFunc(h.e.cues, func(c string) bool { return cues[c] }):
			picked = append(picked, h.group)
		}
	}
	if len(picked) > 0 {
		return picked, true
	}
	return plain, false
}

// phraseGroups finds the two-term entry a b and the groups it belongs to.
func phraseGroups(a, b string) (entry, []int) {
	var e entry
	var out []int
	for _, h := range thesIndex[a] {
		if len(h.e.seq) == 2 && h.e.seq[1] == b {
			e = h.e
			out = append(out, h.group)
		}
	}
	return e, out
}

func synonyms(groups []int, own []string) [][]string {
	var out [][]string
	for _, g := range groups {
		for _, e := range thesGroups[g] {
			if slices.Equal(e.match, own) || slices.ContainsFunc(out, func(x []string) bool { return slices.Equal(x, e.match) }) {
				continue
			}
			out = append(out, e.match)
		}
	}
	return out
}

// Synonyms returns the thesaurus entries that may stand for a term (each
// one or two terms), not the term itself.
func Synonyms(term string) [][]string {
	thesOnce.Do(loadThesaurus)
	groups, _ := wordGroups(term, nil)
	return synonyms(groups, []string{term})
}

// Unit is a piece of text a question is matched against: a sentence's
// index terms, and those of its context, its section's heading (which
// count HeadingCredit) and its document's title and name (TitleCredit);
// the kinds of fact it states (Kinds), and those its heading says its
// section holds (TopicKinds).
type Unit struct {
	Terms, Heading, Title SortedSet
	// Before are the index terms of the sentence before, in the same
	// paragraph (NeighbourCredit).
	Before              SortedSet
	Kinds, HeadingKinds Kind
}

// Context is what a passage gives each of its sentences: the index terms
// of its section's heading and of its document (title and file name, "-"
// and "_" read as spaces), and the kinds of fact the heading names.
type Context struct {
	Heading, Title SortedSet
	HeadingKinds   Kind
}

// PassageContext reads a passage's heading, its document's title and its
// path within its source ("shipping-times.md").
func PassageContext(heading, title, docPath string) Context {
	name := docPath
	if i := strings.LastIndexAny(name, "/\\"); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	name = strings.NewReplacer("-", " ", "_", " ").Replace(name)
	return Context{Heading: IndexTermSet(heading), Title: IndexTermSet(title + "\n" + name), HeadingKinds: TopicKinds(heading)}
}

// Unit returns the unit of a sentence of the passage with index terms
// terms and kinds, after the sentence before (nil for the first of its
// paragraph).
func (c Context) Unit(terms SortedSet, kinds Kind, before SortedSet) Unit {
	return Unit{Terms: terms, Heading: c.Heading, Title: c.Title, Before: before, Kinds: kinds, HeadingKinds: c.HeadingKinds}
}

// Bonuses for a unit that states the kind of fact a question asks for, as
// shares of its score.
const (
	// KindBonus: the sentence states it ("2 to 5 business days" for "how
	// long?").
	KindBonus = 0.5
	// TopicBonus: its heading names it ("Shipping times and costs").
	TopicBonus = 0.15
	// KindShare is the weight of the kind of fact a question asks for,
	// as a share of the mean weight of its words: "how long" is part of
	// "how long does shipping to Germany take?", which a sentence stating
	// a duration holds (its heading naming durations, by HeadingCredit)
	// and one stating none lacks.
	KindShare = 0.5
)

// has is the credit of the unit for holding all of ts: the least credit
// of the places where it holds each.
func (u Unit) has(ts []string) float64 {
	c := 1.0
	for _, t := range ts {
		c = min(c, u.credit(t))
	}
	return c
}

func (u Unit) credit(t string) float64 {
	switch {
	case u.Terms.Has(t):
		return 1
	case u.Heading.Has(t):
		return HeadingCredit
	case u.Title.Has(t):
		return TitleCredit
	case u.Before.Has(t):
		return NeighbourCredit
	}
	return 0
}

// Credit is how much of concept c unit u holds: 1 for its own terms,
// SynonymCredit for a synonym, OneWayCredit for a one-way form, CharCredit times the share of its
// characters, each scaled by HeadingCredit or TitleCredit when only the
// context has it.
func (c Concept) Credit(u Unit) float64 {
	best := u.has(c.Terms)
	if best == 1 {
		return 1
	}
	for _, s := range c.Synonyms {
		best = max(best, SynonymCredit*u.has(s))
	}
	for _, s := range c.OneWay {
		best = max(best, OneWayCredit*u.has(s))
	}
	if len(c.Chars) > 0 {
		n := 0.0
		for _, ch := range c.Chars {
			n += u.credit(ch)
		}
		sh := n / float64(len(c.Chars))
		best = max(best, CharCredit*sh*sh)
	}
	if c.Kind&u.Kinds != 0 {
		best = max(best, SynonymCredit)
	}
	return best
}

// Match is how well a unit answers a query.
type Match struct {
	// Score is the weight of the concepts the unit holds, each by its
	// credit.
	Score float64
	// Coverage is Score over the weight of all the query's concepts: 1
	// when the unit holds them all, in their own words.
	Coverage float64
	// Rank is Score with names weighing NameWeight times more, and
	// KindBonus and TopicBonus: what to rank candidate answers by. (How
	// much of a question a unit holds, Coverage, counts a name like any
	// word: "do you have a store in Germany?" is no more answered by a
	// rule for the EU.)
	Rank float64
}

// Weights returns each concept's weight, by weight (an inverse document
// frequency, say), scaled by FillerWeight for filler: what Match takes.
func (q Query) Weights(weight func(i int, c Concept) float64) []float64 {
	ws := make([]float64, len(q.Concepts))
	for i, c := range q.Concepts {
		ws[i] = weight(i, c)
		if c.Filler {
			ws[i] *= FillerWeight
		}
	}
	return ws
}

// Match scores u against q with the concepts' weights w (Weights). When
// best is not nil, best[i] is raised to concept i's credit in u, so that
// the credits of several units (the sentences of a passage) can be
// summed up with Coverage.
func (q Query) Match(u Unit, w, best []float64) Match {
	var m Match
	total, rank := 0.0, 0.0
	for i, c := range q.Concepts {
		cr := c.Credit(u)
		total += w[i]
		m.Score += w[i] * cr
		if c.Name {
			rank += (NameWeight - 1) * w[i] * cr
		}
		if best != nil {
			best[i] = max(best[i], cr)
		}
	}
	if content := 0.0; q.Wants&^KindQuantity != 0 && KindShare > 0 {
		n := 0
		for i, c := range q.Concepts {
			if !c.Filler {
				content += w[i]
				n++
			}
		}
		kw := KindShare * content / float64(max(n, 1))
		total += kw
		switch {
		case u.Kinds&q.Wants&^KindQuantity != 0:
			m.Score += kw
		case u.HeadingKinds&q.Wants&^KindQuantity != 0:
			m.Score += HeadingCredit * kw
		}
	}
	if total > 0 {
		m.Coverage = m.Score / total
	}
	bonus := 1.0
	if u.Kinds&q.Wants != 0 {
		bonus += KindBonus
	}
	if u.HeadingKinds&q.Wants != 0 {
		bonus += TopicBonus
	}
	m.Rank = (m.Score + rank) * bonus
	return m
}

// Coverage is the share of the query's weight held with the concepts'
// credits cr (as Match's best gathers them).
func Coverage(cr, w []float64) float64 {
	s, total := 0.0, 0.0
	for i := range w {
		s += w[i] * cr[i]
		total += w[i]
	}
	if total == 0 {
		return 0
	}
	return s / total
}

// AllTerms returns every term the query may match: own terms, synonyms'
// terms and character terms, each once.
func (q Query) AllTerms() []string {
	seen := map[string]bool{}
	var out []string
	add := func(ts ...string) {
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	for _, c := range q.Concepts {
		add(c.Terms...)
		for _, s := range c.Synonyms {
			add(s...)
		}
		for _, s := range c.OneWay {
			add(s...)
		}
		add(c.Chars...)
	}
	return out
}

// SortedSet is a sorted set of terms: smaller than a map for the many
// sentences a knowledge base keeps.
type SortedSet []string

// NewSortedSet makes a SortedSet of ts (which it sorts in place), in a
// slice of its own exact size.
func NewSortedSet(ts []string) SortedSet {
	slices.Sort(ts)
	return SortedSet(slices.Clone(slices.Compact(ts)))
}

// Has reports whether t is in s.
func (s SortedSet) Has(t string) bool {
	_, ok := slices.BinarySearch(s, t)
	return ok
}
