package replycheck

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/configs"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/moderation"
	"github.com/chorusbot/chorus/textclass"
	"gopkg.in/yaml.v3"
)

func TestNormalizeNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"thirty days", "30 days"},
		{"Twenty-One days", "21 days"},
		{"one hundred and fifty beans", "150 beans"},
		{"two thousand and five", "2005"},
		{"one day", "one day"},
		{"at one point", "at one point"},
		{"someone", "someone"},
		{"三十天", "30天"},
		{"十四天", "14天"},
		{"两周", "2周"},
		{"一百二十", "120"},
		{"二〇一六年", "2016年"},
		{"一两天", "一两天"},
		{"一起", "一起"},
		{"十九点九五美元", "19.95美元"},
		{"九点半", "9点半"},
		{"３０％", "30%"},
		{"1,000 bags and 12,500,000", "1000 bags and 12500000"},
		{"1,5 is not a thousands group", "1,5 is not a thousands group"},
	}
	for _, tt := range tests {
		if got := NormalizeNumbers(tt.in); got != tt.want {
			t.Errorf("NormalizeNumbers(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func keys(sp []Specific) []string {
	var out []string
	for _, s := range sp {
		out = append(out, s.Key)
	}
	return out
}

func TestSpecifics(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Returns within 60 days.", []string{"duration:day:60"}},
		{"within thirty days", []string{"duration:day:30"}},
		{"a 30-day guarantee", []string{"duration:day:30"}},
		{"收货后 30 天内", []string{"duration:day:30"}},
		{"三十天内", []string{"duration:day:30"}},
		{"two weeks", []string{"duration:day:14"}},
		{"3 to 10 business days", []string{"duration:day:3", "duration:day:10"}},
		{"3 到 6 个工作日", []string{"duration:day:3", "duration:day:6"}},
		{"up to three months", []string{"duration:month:3"}},
		{"It costs $5.95, free over $40.", []string{"price:usd:5.95", "price:usd:40"}},
		{"5 dollars", []string{"price:usd:5"}},
		{"运费 19.95 美元", []string{"price:usd:19.95"}},
		{"€12 or 12 euros", []string{"price:eur:12"}},
		{"a 5 pound bag", nil},
		{"Use code SAVE20 for 20% off!", []string{"promo code:SAVE20", "percentage:20"}},
		{"use promo code LUMEN today", []string{"promo code:LUMEN"}},
		{"the code in the app", nil},
		{"订阅用户全场九折", []string{"percentage:10"}},
		{"八五折", []string{"percentage:15"}},
		{"ten percent off", []string{"percentage:10"}},
		{"百分之十", []string{"percentage:10"}},
		{"Call +1 (503) 555-0199.", []string{"phone number:5035550199"}},
		{"Email hello@lumen.coffee", []string{"e-mail address:hello@lumen.coffee"}},
		{"visit https://lumen.coffee/help.", []string{"link:lumen.coffee"}},
		{"see deals.example.shop/win", []string{"link:deals.example.shop"}},
		{"see shipping.md", nil},
		{"Follow @lumencoffee", []string{"handle:lumencoffee"}},
		{"Founded in 2016.", []string{"date:2016"}},
		{"March 5th", []string{"date:3-5"}},
		{"on 5 March", []string{"date:3-5"}},
		{"3月5日", []string{"date:3-5"}},
		{"these 2 may be fine", nil},
		{"open 7:00 to 15:00", []string{"time:7:00", "time:15:00"}},
		{"before 9 a.m.", []string{"time:9:00"}},
		{"9:00 am", []string{"time:9:00"}},
		{"at 3pm", []string{"time:15:00"}},
		{"上午 9 点之前", []string{"time:9:00"}},
		{"下午3点半", []string{"time:15:30"}},
		{"a 1:16 ratio", nil},
		{"our decaf 12 oz bag", nil},
		{"one day", nil},
		{"祝你有美好的一天", nil},
		{"多一点耐心", nil},
		{"the V60 and the Chemex", nil},
		{"from 2016 - 2024", []string{"date:2016", "date:2024"}},
	}
	for _, tt := range tests {
		got := keys(Specifics(tt.in))
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("Specifics(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// spell writes n in English words ("one hundred and twenty-one").
func spell(n int) string {
	small := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
		"twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	tens := []string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
	var under1000 func(n int) string
	under1000 = func(n int) string {
		switch {
		case n < 20:
			return small[n]
		case n < 100:
			if n%10 == 0 {
				return tens[n/10]
			}
			return tens[n/10] + "-" + small[n%10]
		}
		s := small[n/100] + " hundred"
		if n%100 != 0 {
			s += " and " + under1000(n%100)
		}
		return s
	}
	if n < 1000 {
		return under1000(n)
	}
	s := under1000(n/1000) + " thousand"
	if n%1000 != 0 {
		s += " " + under1000(n%1000)
	}
	return s
}

// spellZH writes n in standard Chinese numerals (一百二十一).
func spellZH(n int) string {
	digits := []rune("零一二三四五六七八九")
	if n == 0 {
		return "零"
	}
	var b []rune
	units := []struct {
		v int
		r rune
	}{{1000, '千'}, {100, '百'}, {10, '十'}}
	zero := false
	started := false
	for _, u := range units {
		d := n / u.v % 10
		switch {
		case d > 0:
			if zero {
				b = append(b, '零')
				zero = false
			}
			if !(u.v == 10 && d == 1 && !started) {
				b = append(b, digits[d])
			}
			b = append(b, u.r)
			started = true
		case started:
			zero = true
		}
	}
	if d := n % 10; d > 0 {
		if zero {
			b = append(b, '零')
		}
		b = append(b, digits[d])
	}
	return string(b)
}

func FuzzNumbers(f *testing.F) {
	for _, s := range []string{"thirty days", "三十天", "$5.95", "十九点九五", "twenty-one hundred", "1,000,000", "one and",
		"hundred", "thousand thousand", "二〇〇〇", "零零", "万", "一万二", "$", "九折", "@x", "a.b.c", "9:99pm"} {
		f.Add(s, uint16(42))
	}
	f.Fuzz(func(t *testing.T, s string, n uint16) {
		norm := NormalizeNumbers(s)
		if again := NormalizeNumbers(norm); again != norm {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, norm, again)
		}
		for _, x := range Specifics(s) {
			if !strings.HasPrefix(x.Key, string(x.Kind)+":") {
				t.Fatalf("key %q of kind %q", x.Key, x.Kind)
			}
		}
		// Every number below 10,000 reads back from its words, except
		// the word "one" and a lone 一, which stay words.
		v := int(n) % 10000
		want := strconv.Itoa(v)
		if v != 1 {
			if got := NormalizeNumbers(spell(v) + " days"); got != want+" days" {
				t.Fatalf("%q -> %q, want %q", spell(v), got, want+" days")
			}
			if got := NormalizeNumbers(spellZH(v) + "天"); got != want+"天" {
				t.Fatalf("%q -> %q, want %q", spellZH(v), got, want+"天")
			}
		}
	})
}

// noModels scripts both classifiers to zero, so a test depends on the
// patterns only.
var noModels = []Option{
	WithClassifier(moderation.TaskOffensive, func(string) float64 { return 0 }),
	WithClassifier(moderation.TaskHate, func(string) float64 { return 0 }),
}

func newChecker(t testing.TB, cfg Config, opts ...Option) *Checker {
	t.Helper()
	c, err := New(cfg, append(append([]Option(nil), noModels...), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type rulesFunc func(ctx context.Context, text string) (string, string)

func (f rulesFunc) ReplyRules(ctx context.Context, text string) (string, string) { return f(ctx, text) }

func TestChecks(t *testing.T) {
	persona := bot.Persona{Brand: "Lumen Coffee", Dont: []string{"promise discounts", "discuss competitors' products"}}
	open := bot.Persona{Brand: "Lumen Coffee"}
	kb := []bot.Passage{{Source: "returns.md", Text: "Tell us within 30 days of delivery. Email hello@lumen.coffee or see https://lumen.coffee/help."}}
	c := newChecker(t, Config{
		Allow: []string{"lumen.coffee", "@lumencoffee", "WELCOME10"},
	}, WithCompetitors(Competitor{Name: "Bean There", Aliases: []string{"beanthere", "豆在"}}), WithRules(rulesFunc(func(_ context.Context, s string) (string, string) {
		if strings.Contains(s, "darn") {
			return "words", "darn"
		}
		return "", ""
	})), WithPolarity(PolarityFunc(func(s string) float64 {
		if strings.Contains(s, "sad") {
			return -0.9
		}
		return 0
	})))
	tests := []struct {
		s       string
		persona bot.Persona
		query   string
		want    bot.Check
	}{
		// abuse
		{"You are an idiot for asking that.", persona, "", bot.CheckAbuse},
		{"You are an 1d10t.", persona, "", bot.CheckAbuse},
		{"你们都是废物，傻逼。", persona, "", bot.CheckAbuse},
		{"Those people are vermin.", persona, "", bot.CheckAbuse},
		{"They are animals and should stay out.", persona, "", bot.CheckAbuse},
		{"Well darn, I don't know.", persona, "", bot.CheckAbuse},
		{"Put the grounds in the compost or the trash.", persona, "", ""},
		// generalisations
		{"Women are bad at choosing coffee.", persona, "", bot.CheckGeneralisation},
		{"Immigrants ruin every neighbourhood.", persona, "", bot.CheckGeneralisation},
		{"Chinese people always haggle.", persona, "", bot.CheckGeneralisation},
		{"The French are rude.", persona, "", bot.CheckGeneralisation},
		{"Typical boomers.", persona, "", bot.CheckGeneralisation},
		{"外国人都是骗子。", persona, "", bot.CheckGeneralisation},
		{"所有的女司机开车都不行。", persona, "", bot.CheckGeneralisation},
		{"Women and men are welcome at the cupping.", persona, "", ""},
		{"The French press is a classic.", persona, "", ""},
		{"Chinese is one of the languages I speak.", persona, "", ""},
		// competitors
		{"Bean There is a scam run by liars.", open, "", bot.CheckCompetitor},
		{"BeanThere makes sad coffee.", open, "", bot.CheckCompetitor},
		{"Bean There is another roaster in Portland.", open, "", ""},
		{"Bean There is another roaster in Portland.", persona, "", bot.CheckCompetitor},
		{"豆在的咖啡难喝。", open, "", bot.CheckCompetitor},
		{"I was there when the beans arrived.", persona, "", ""},
		// ungrounded specifics
		{"Returns are accepted within 60 days.", persona, "", bot.CheckUngrounded},
		{"Returns are accepted within thirty days.", persona, "", ""},
		{"Use code SAVE20 for a discount.", persona, "", bot.CheckUngrounded},
		{"Use code WELCOME10 for a discount.", persona, "", ""},
		{"Call us at +1 (503) 555-0199.", persona, "", bot.CheckUngrounded},
		{"Write to refunds@lumen.coffee.", persona, "", bot.CheckUngrounded},
		{"Write to hello@lumen.coffee.", persona, "", ""},
		{"See https://shop.lumen.coffee/deals for more.", persona, "", ""},
		{"Claim it at https://lumen-refunds.example/claim now.", persona, "", bot.CheckUngrounded},
		{"Follow @lumencoffee for news.", persona, "", ""},
		{"Ask @dave_support for help.", persona, "", bot.CheckUngrounded},
		{"Your order 60 days ago is still covered?", persona, "I ordered 60 days ago", ""},
		{"It's 20% off today.", persona, "", bot.CheckUngrounded},
	}
	ctx := context.Background()
	for _, tt := range tests {
		g := &bot.Grounding{Persona: tt.persona, Passages: kb, Query: tt.query}
		v := c.CheckSentence(ctx, tt.s, g)
		if v.Check != tt.want {
			t.Errorf("%q: check %q (%s), want %q", tt.s, v.Check, v.Detail, tt.want)
			continue
		}
		if v.Blocked() && (v.Reason == "" || v.Detail == "" || v.Masked == "") {
			t.Errorf("%q: violation %+v lacks a reason, detail or masked copy", tt.s, v)
		}
	}
	// The masked copy hides the word that fired.
	v := c.CheckSentence(ctx, "You are an idiot.", &bot.Grounding{})
	if strings.Contains(v.Masked, "idiot") || !strings.Contains(v.Masked, "i***t") {
		t.Errorf("masked copy %q", v.Masked)
	}
	// The reason tells the model what it invented.
	v = c.CheckSentence(ctx, "Returns within 60 days.", &bot.Grounding{Passages: kb})
	if !strings.Contains(v.Reason, "duration (60 days)") || !strings.Contains(v.Reason, "using only the facts given") {
		t.Errorf("reason %q", v.Reason)
	}
}

// TestShippedModelsBackTheLists: with the shipped classifiers on, the
// hostile sentences are still caught and the checker builds.
func TestShippedModelsBackTheLists(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Women are bad at choosing coffee.", "You are an idiot.", "你是个傻逼。"} {
		if v := c.CheckSentence(context.Background(), s, &bot.Grounding{}); !v.Blocked() {
			t.Errorf("%q passed", s)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, cfg := range []Config{{HateAt: 2}, {CompetitorNegativeAt: -3}, {Allow: []string{""}}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	if _, err := New(Config{}, WithCompetitors(Competitor{Name: " "})); err == nil {
		t.Errorf("a competitor without a name was accepted")
	}
}

// qa is one question and its good answer; source, when set, are words
// whose passages the answer's facts come from (a Chinese answer citing an
// English document).
type qa struct{ file, q, a, source string }

func readQA(t testing.TB, name string) []qa {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []qa
	var q, src string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Q: "):
			q, src = strings.TrimPrefix(line, "Q: "), ""
		case strings.HasPrefix(line, "S: "):
			src = strings.TrimPrefix(line, "S: ")
		case strings.HasPrefix(line, "A: "):
			out = append(out, qa{file: name, q: q, a: strings.TrimPrefix(line, "A: "), source: src})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// exampleKB is the example knowledge base in a temporary store, searched
// the way the engine searches it.
func exampleKB(t testing.TB) bot.Knowledge {
	t.Helper()
	st, err := memory.Open(filepath.Join(t.TempDir(), "kb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.KB().IngestFS(context.Background(), memory.ExampleSource, configs.ExampleKnowledge()); err != nil {
		t.Fatal(err)
	}
	return st.KB()
}

// defaultPersona is the persona Chorus ships, as the example
// configuration (which holds exactly the defaults) gives it.
func defaultPersona() bot.Persona {
	var cfg struct {
		Persona bot.Persona `yaml:"persona"`
	}
	if err := yaml.Unmarshal(configs.ExampleYAML, &cfg); err != nil {
		panic(err)
	}
	return cfg.Persona
}

// TestGoodAnswersPass is the false-positive count: every good answer
// (English and Chinese answers built from the example knowledge base's
// own facts, the same facts with their numbers written another way, and
// small talk) is checked sentence by sentence with the shipped
// classifiers, grounded like the engine grounds an answer: the question,
// the default persona and the top three passages the knowledge base finds
// for the question. The issue accepts at most 1% blocked; the aim is none.
func TestGoodAnswersPass(t *testing.T) {
	var all []qa
	for _, f := range []string{"good_answers_en.txt", "good_answers_zh.txt", "number_forms.txt", "small_talk.txt"} {
		all = append(all, readQA(t, f)...)
	}
	if len(all) < 300 {
		t.Fatalf("only %d good answers, want at least 300", len(all))
	}
	c, err := New(Config{}, WithCompetitors(Competitor{Name: "Bean There"}))
	if err != nil {
		t.Fatal(err)
	}
	kb := exampleKB(t)
	persona := defaultPersona()
	ctx := context.Background()
	// Grounded as the engine grounds: the passages found for the question.
	// A good answer can use a fact only when its passage was among them,
	// so the count that matters (asserted) grounds each answer in the
	// passages found for the question and for the answer itself: the
	// prompt a retrieval that worked would have built (and, for a Chinese
	// answer citing an English document, that document's passages). The
	// first count is logged to show what retrieval alone leaves out.
	blocked, blockedQuestionOnly := 0, 0
	for _, x := range all {
		ps, err := kb.Search(ctx, x.q, 3)
		if err != nil {
			t.Fatal(err)
		}
		g := &bot.Grounding{Query: x.q, Persona: persona, Passages: ps, Lang: bot.DetectLang(x.q, "", nil)}
		if fs := bot.CheckText(ctx, c, x.a, g); len(fs) > 0 {
			blockedQuestionOnly++
			if testing.Verbose() {
				t.Logf("question's passages only: blocked (%s, %s): %q: %s", x.file, fs[0].Check, fs[0].Sentence, fs[0].Detail)
			}
		}
		more, err := kb.Search(ctx, x.a, 3)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, more...)
		if x.source != "" {
			src, err := kb.Search(ctx, x.source, 3)
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, src...)
		}
		g = &bot.Grounding{Query: x.q, Persona: persona, Passages: ps, Lang: g.Lang}
		if fs := bot.CheckText(ctx, c, x.a, g); len(fs) > 0 {
			blocked++
			t.Logf("blocked (%s, %s): %q: %s", x.file, fs[0].Check, fs[0].Sentence, fs[0].Detail)
		}
	}
	t.Logf("good answers: %d; blocked: %d (%.1f%%); grounded in the question's passages only: %d blocked",
		len(all), blocked, 100*float64(blocked)/float64(len(all)), blockedQuestionOnly)
	if blocked*100 > len(all) {
		t.Errorf("%d of %d good answers blocked, more than 1%%", blocked, len(all))
	}
}

// BenchmarkCheckReply80Words is the cost of the checks on one reply of
// 80 words (five sentences with grounded numbers), grounding included:
// a fresh Grounding per reply, its passages' specifics cached across
// replies as in the engine.
func BenchmarkCheckReply80Words(b *testing.B) {
	c, err := New(Config{}, WithCompetitors(Competitor{Name: "Bean There"}))
	if err != nil {
		b.Fatal(err)
	}
	kb := exampleKB(b)
	q := "How long does shipping to Canada take and what does it cost?"
	ps, _ := kb.Search(context.Background(), q, 3)
	more, _ := kb.Search(context.Background(), "roasted rested packed 48 hours weekend Monday tracking number label email hello@lumen.coffee", 6)
	ps = append(ps, more...)
	reply := "Thanks for asking! Canada Post via Asendia takes 5 to 9 business days after roasting and costs $12.95, free over $80. " +
		"Every bag is roasted, rested for a day and packed within 48 hours of your order, Monday to Friday. " +
		"Orders placed on a weekend are roasted on Monday morning. " +
		"As soon as the label is printed you get an email with a tracking number. " +
		"If anything goes wrong on the way, just write to us at hello@lumen.coffee and we will sort it out."
	if n := len(strings.Fields(reply)); n < 75 || n > 85 {
		b.Fatalf("reply has %d words", n)
	}
	sentences := bot.Sentences(reply, bot.HardSentenceRunes)
	persona := defaultPersona()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g := &bot.Grounding{Query: q, Persona: persona, Passages: ps}
		for _, s := range sentences {
			if v := c.CheckSentence(ctx, s, g); v.Blocked() {
				b.Fatalf("blocked %q: %s", s, v.Detail)
			}
		}
	}
}

// TestModelThatFailsToLoadBlocks: a classifier whose model fails to load
// blocks every sentence long enough to score rather than let it through
// unchecked.
func TestModelThatFailsToLoadBlocks(t *testing.T) {
	damaged := lazyScore(func() (*textclass.Model, error) { return nil, errors.New("damaged model") })
	c := newChecker(t, Config{}, WithClassifier(moderation.TaskOffensive, damaged))
	v := c.CheckSentence(context.Background(), "Our café opens at seven every morning of the week.", &bot.Grounding{})
	if v.Check != bot.CheckAbuse {
		t.Errorf("check %q (%s), want the sentence blocked as %q", v.Check, v.Detail, bot.CheckAbuse)
	}
	ok := newChecker(t, Config{})
	if v := ok.CheckSentence(context.Background(), "Our café opens at seven every morning of the week.", &bot.Grounding{}); v.Blocked() {
		t.Errorf("without classifiers the sentence is blocked: %+v", v)
	}
}
