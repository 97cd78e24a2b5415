package textkit

import (
	"slices"
	"strings"
	"testing"
)

func concept(q Query, text string) (Concept, bool) {
	for _, c := range q.Concepts {
		if c.Text == text {
			return c, true
		}
	}
	return Concept{}, false
}

func TestParseQuery(t *testing.T) {
	q := ParseQuery("how long should cold brew steep?")
	if q.Wants != KindDuration {
		t.Errorf("Wants = %b, want a duration", q.Wants)
	}
	steep, ok := concept(q, "steep")
	if !ok || !slices.ContainsFunc(steep.Synonyms, func(s []string) bool { return slices.Equal(s, []string{"leav"}) }) {
		t.Errorf("steep = %+v: no synonym leave", steep)
	}
	if long, _ := concept(q, "long"); !long.Filler {
		t.Errorf("long is not filler: %+v", long)
	}

	// A thesaurus phrase is one concept; so is a capitalised name.
	q = ParseQuery("Can I get my money back or pay with Apple Pay?")
	if c, ok := concept(q, "money back"); !ok || !slices.Equal(c.Terms, []string{PhraseTerm("money", "back")}) {
		t.Errorf("money back = %+v, %v; concepts %+v", c, ok, q.Concepts)
	}
	if c, ok := concept(q, "apple pay"); !ok || !slices.Equal(c.Terms, []string{"appl", "pay"}) {
		t.Errorf("Apple Pay = %+v, %v", c, ok)
	}

	// Chinese: characters as a fallback, and the kind a word names.
	q = ParseQuery("订阅能不能先停一段时间？")
	if c, ok := concept(q, "先停"); !ok || !slices.Contains(c.Chars, CharTerm('停')) {
		t.Errorf("先停 = %+v, %v", c, ok)
	}
	if c, _ := concept(ParseQuery("what does it cost?"), "cost"); c.Kind != KindPrice {
		t.Errorf("cost names kind %b, want a price", c.Kind)
	}
	if q := ParseQuery("the and of"); len(q.Concepts) != 0 {
		t.Errorf("function words made concepts: %+v", q.Concepts)
	}
}

func TestMatch(t *testing.T) {
	q := ParseQuery("how long should cold brew steep?")
	w := q.Weights(func(int, Concept) float64 { return 1 })
	ctx := PassageContext("Cold brew", "Brewing guide", "guides/brewing-guide.md")
	answer := "Mix 100 g of coarse coffee with cold water and leave it in the fridge for 14 to 18 hours."
	other := "Cold brew keeps well."
	ma := q.Match(ctx.Unit(IndexTermSet(answer), Kinds(answer), nil), w, nil)
	mo := q.Match(ctx.Unit(IndexTermSet(other), Kinds(other), nil), w, nil)
	if ma.Rank <= mo.Rank || ma.Coverage < 0.8 {
		t.Errorf("the answer ranks %.2f (coverage %.2f), a sentence without it %.2f", ma.Rank, ma.Coverage, mo.Rank)
	}
	// Only the heading holds "brew": it counts, a little less.
	if c, _ := concept(q, "brew"); c.Credit(ctx.Unit(IndexTermSet(answer), 0, nil)) != HeadingCredit {
		t.Errorf("brew in the heading only has credit %.2f, want %.2f", c.Credit(ctx.Unit(IndexTermSet(answer), 0, nil)), HeadingCredit)
	}
	// The sentence before, in the same paragraph, is context too.
	q = ParseQuery("how much is Roaster's Choice?")
	w = q.Weights(func(int, Concept) float64 { return 1 })
	plain := PassageContext("Plans", "", "subscriptions.md")
	first, price := "Roaster's Choice: a new coffee every delivery.", "From $17 per bag."
	mp := q.Match(plain.Unit(IndexTermSet(price), Kinds(price), IndexTermSet(first)), w, nil)
	if mp.Score == 0 || mp.Rank <= mp.Score {
		t.Errorf("the price after its plan: %+v, want a match with the kind's bonus", mp)
	}
	var best []float64
	best = make([]float64, len(q.Concepts))
	q.Match(plain.Unit(IndexTermSet(first), Kinds(first), nil), w, best)
	q.Match(plain.Unit(IndexTermSet(price), Kinds(price), nil), w, best)
	if cov := Coverage(best, w); cov < 0.9 {
		t.Errorf("coverage of the two sentences together = %.2f", cov)
	}
}

func TestIndexTermsPhrasesAndChars(t *testing.T) {
	ts := IndexTermSet("You can pick up your order at the cafe.")
	if !ts.Has(PhraseTerm("pick", "up")) || !ts.Has("pick") {
		t.Errorf("IndexTermSet = %q: no pick up", ts)
	}
	if ts := IndexTermSet("Pick the coffee, then look it up."); ts.Has(PhraseTerm("pick", "up")) {
		t.Errorf("pick and up apart made the phrase: %q", ts)
	}
	ts = IndexTermSet("订阅随时可以暂停")
	if !ts.Has("暂停") || !ts.Has(CharTerm('停')) || ts.Has(CharTerm('以')) {
		t.Errorf("IndexTermSet = %q", ts)
	}
}

func TestKindsAndAsks(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want Kind
	}{
		{"Standard shipping takes 2 to 5 business days.", KindDuration},
		{"PayPal 大约一天到账。", KindDuration},
		{"The café is open from 7:00 to 15:00.", KindTime},
		{"请在上午 9 点之前修改。", KindTime},
		{"Express costs $14.95, free over $40.", KindPrice},
		{"运费 19.95 美元。", KindPrice},
		{"There is no fee.", KindPrice},
		{"Dose: 18 g of coffee.", KindQuantity},
		{"Water: 94 °C.", KindTemperature},
		{"Choose a delivery every two weeks.", KindFrequency},
		{"Our café at 1120 SE Division Street.", KindPlace},
		{"See it under Account, then Wallet.", KindPlace},
	} {
		if got := Kinds(tc.s); got&tc.want == 0 {
			t.Errorf("Kinds(%q) = %b, want %b among them", tc.s, got, tc.want)
		}
	}
	for _, s := range []string{"Every plan comes with a bag.", "Change one thing at a time.", "Come in any time."} {
		if k := Kinds(s); k&(KindFrequency|KindTime|KindDuration) != 0 {
			t.Errorf("Kinds(%q) = %b: no time, duration or frequency in it", s, k)
		}
	}
	for q, want := range map[string]Kind{
		"how long does shipping take?":  KindDuration,
		"寄到日本要几天？":                      KindDuration,
		"how much does express cost?":   KindPrice,
		"运费多少钱？":                        KindPrice,
		"how much coffee for a shot?":   KindQuantity | KindPrice,
		"what time do you open?":        KindTime,
		"when will my refund arrive?":   KindTime | KindDuration,
		"how often can deliveries come": KindFrequency,
		"where is the café?":            KindPlace,
		"do you sell tea?":              0,
	} {
		if got := Asks(q); got != want {
			t.Errorf("Asks(%q) = %b, want %b", q, got, want)
		}
	}
}

// Every line of the thesaurus is a group of at least two entries, each a
// word or a two-word phrase, or a one-way line whose every word is an
// entry: a line that lost its words to the stop list or the stemmer would
// silently do nothing.
func TestThesaurusGroups(t *testing.T) {
	thesOnce.Do(loadThesaurus)
	lines := 0
	for _, line := range strings.Split(thesaurusText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if from, to, ok := strings.Cut(line, "->"); ok {
			for _, f := range append(strings.Fields(from), strings.Fields(to)...) {
				if _, ok := thesEntry(f); !ok {
					t.Errorf("%q of one-way line %q is no entry", f, line)
				}
			}
			if len(strings.Fields(from)) == 0 || len(strings.Fields(to)) == 0 {
				t.Errorf("one-way line %q lacks a side", line)
			}
			continue
		}
		lines++
	}
	if len(thesGroups) != lines {
		t.Errorf("%d thesaurus lines made %d groups", lines, len(thesGroups))
	}
	if got := Synonyms(Stem("refund")); !slices.ContainsFunc(got, func(s []string) bool { return slices.Equal(s, []string{PhraseTerm("money", "back")}) }) {
		t.Errorf("Synonyms(refund) = %q", got)
	}
}

func TestAcronymsAndStems(t *testing.T) {
	ws := Words("Do you ship to the US? Tell us.")
	var us []Word
	for _, w := range ws {
		if w.Text == "us" {
			us = append(us, w)
		}
	}
	if len(us) != 2 || us[0].Stop || !us[1].Stop {
		t.Errorf("US and us = %+v, want the country a content word, the pronoun a function word", us)
	}
	if Stem("customer") == Stem("customs") || Stem("cupping") == Stem("cup") || Stem("customers") != Stem("customer") {
		t.Errorf("stems: customer %q, customs %q, cupping %q, cup %q", Stem("customer"), Stem("customs"), Stem("cupping"), Stem("cup"))
	}
}

// oneWay reports whether c may be answered by a text holding the terms ts
// through a one-way line.
func oneWay(c Concept, ts ...string) bool {
	return slices.ContainsFunc(c.OneWay, func(s []string) bool { return slices.Equal(s, ts) })
}

// A country is answered by its region, never a region by a country; the
// same for a day and "every day", and a Chinese word and its English one.
func TestOneWay(t *testing.T) {
	eu := "UK and EU: service DHL eCommerce; typical time 5 to 10 business days."
	de := "Germany: service DHL Paket; typical time 2 to 4 business days."
	unit := func(s string) Unit { return Unit{Terms: IndexTermSet(s), Kinds: Kinds(s)} }

	germany, ok := concept(ParseQuery("how long does shipping to germany take?"), "germany")
	if !ok || !oneWay(germany, "eu") || !germany.Name {
		t.Fatalf("germany = %+v, %v: want a name answered by the EU", germany, ok)
	}
	if got := germany.Credit(unit(eu)); got != OneWayCredit {
		t.Errorf("a row about the EU holds Germany with credit %.2f, want %.2f", got, OneWayCredit)
	}
	euc, ok := concept(ParseQuery("how long does shipping to the EU take?"), "eu")
	if !ok {
		t.Fatal("no concept eu")
	}
	if got := euc.Credit(unit(de)); got != 0 {
		t.Errorf("a row about Germany holds the EU with credit %.2f, want 0", got)
	}
	if got := euc.Credit(unit(eu)); got != 1 {
		t.Errorf("the EU row holds the EU with credit %.2f", got)
	}

	// A hyphen joins a phrase: "Asia-Pacific" is one place.
	ap := "Asia-Pacific: service DHL Express; 3 to 6 business days."
	if !IndexTermSet(ap).Has(PhraseTerm("asia", "pacif")) {
		t.Errorf("IndexTerms(%q) = %v: no phrase asia-pacific", ap, IndexTerms(ap))
	}
	au, _ := concept(ParseQuery("how long does shipping to Australia take?"), "australia")
	if got := au.Credit(unit(ap)); got != OneWayCredit {
		t.Errorf("the Asia-Pacific row holds Australia with credit %.2f", got)
	}
	if got := au.Credit(unit("Pacific time is UTC-8.")); got != 0 {
		t.Errorf("a sentence about Pacific time holds Australia with credit %.2f", got)
	}

	// Opening hours are when a place is open, not any hours.
	oh, ok := concept(ParseQuery("what are your opening hours?"), "opening hours")
	if !ok || oh.Credit(unit("We pack within 48 hours.")) != 0 || oh.Credit(unit("The café is open every day.")) != OneWayCredit {
		t.Errorf("opening hours = %+v, %v", oh, ok)
	}

	// Days, and Chinese questions about English text.
	sunday, _ := concept(ParseQuery("are you open on Sunday?"), "sunday")
	if got := sunday.Credit(unit("The café is open every day from 7:00 to 15:00.")); got != OneWayCredit {
		t.Errorf("every day holds Sunday with credit %.2f", got)
	}
	weekends, ok := concept(ParseQuery("are you open at weekends?"), "weekends")
	if got := weekends.Credit(unit("The café is open on Sunday.")); !ok || got != 0 {
		t.Errorf("Sunday holds weekends with credit %.2f (%v)", got, ok)
	}
	de2, ok := concept(ParseQuery("寄到德国要几天？"), "德国")
	if !ok || de2.Credit(unit(eu)) != OneWayCredit || !de2.Name {
		t.Errorf("德国 = %+v, %v: want a name the EU row holds", de2, ok)
	}
	if c, _ := concept(ParseQuery("shipping to the EU"), "eu"); c.Credit(unit("寄往德国的包裹。")) != 0 {
		t.Errorf("a Chinese sentence about Germany holds the EU")
	}
}

// A word of two senses takes the one its cues pick: "reach you" is
// contact, "reach Canada" arrival (and so delivery).
func TestSenses(t *testing.T) {
	syn := func(c Concept, ts ...string) bool {
		return slices.ContainsFunc(c.Synonyms, func(s []string) bool { return slices.Equal(s, ts) })
	}
	for _, q := range []string{"how can I reach you?", "how do I reach customer support?", "can I reach someone on the team?"} {
		c, _ := concept(ParseQuery(q), "reach")
		if !syn(c, "contact") || syn(c, "arriv") || len(c.OneWay) > 0 {
			t.Errorf("%q: reach = %+v, want contact only", q, c)
		}
	}
	for _, q := range []string{"how long does a parcel take to reach Canada?", "when will my order reach me?"} {
		c, _ := concept(ParseQuery(q), "reach")
		if !syn(c, "arriv") || syn(c, "contact") || !oneWay(c, "ship") {
			t.Errorf("%q: reach = %+v, want arrival, answered by shipping", q, c)
		}
	}
}

// A name weighs NameWeight times more in ranking but not in coverage;
// the kind of fact asked for counts in both.
func TestNamesAndKinds(t *testing.T) {
	q := ParseQuery("is shipping to Europe free?")
	w := q.Weights(func(int, Concept) float64 { return 1 })
	europe := q.Match(Unit{Terms: IndexTermSet("Europe is far.")}, w, nil)
	other := q.Match(Unit{Terms: IndexTermSet("Shipping is quick.")}, w, nil)
	if europe.Rank <= other.Rank || europe.Coverage != other.Coverage {
		t.Errorf("Europe: rank %.2f coverage %.2f; shipping: rank %.2f coverage %.2f", europe.Rank, europe.Coverage, other.Rank, other.Coverage)
	}

	q = ParseQuery("how long does shipping take?")
	w = q.Weights(func(int, Concept) float64 { return 1 })
	unit := func(s string) Unit { return Unit{Terms: IndexTermSet(s), Kinds: Kinds(s)} }
	days := q.Match(unit("We ship in 2 to 5 days."), w, nil)
	none := q.Match(unit("We ship to Canada."), w, nil)
	if days.Coverage <= none.Coverage || days.Rank <= none.Rank {
		t.Errorf("a duration: coverage %.2f rank %.2f; none: coverage %.2f rank %.2f", days.Coverage, days.Rank, none.Coverage, none.Rank)
	}

	// 多少钱 asks for a price and is held by one.
	c, ok := concept(ParseQuery("运费多少钱？"), "多少钱")
	if !ok || c.Kind != KindPrice || !c.Filler {
		t.Errorf("多少钱 = %+v, %v: want filler naming a price", c, ok)
	}
}
