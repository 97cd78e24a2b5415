package memory

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
)

func TestChunk(t *testing.T) {
	sentence := "This sentence has exactly ten words in it, you see. "
	long := strings.Repeat(sentence, 60) // 600 words, one paragraph
	short := strings.Repeat("word ", 40)
	doc := "Intro line before any heading.\n\n# Title\n\n" + short + "\n\n" + short + "\n\n" +
		"## Long one ##\n\n" + long + "\n\n```\n# not a heading\n\ncode\n```\n\nSetext\n======\n\nunder setext\n"
	chunks := Chunk("doc.md", []byte(doc))
	var heads []string
	for _, c := range chunks {
		heads = append(heads, c.Heading)
		if w := words(c.Text); w > chunkHard {
			t.Errorf("chunk of %d words", w)
		}
	}
	// Intro; Title (two short paragraphs packed); the long paragraph in 3
	// pieces with the code block packed onto the last; Setext.
	want := []string{"", "Title", "Long one", "Long one", "Long one", "Setext"}
	if !slices.Equal(heads, want) {
		t.Fatalf("headings = %q, want %q", heads, want)
	}
	if words(chunks[1].Text) != 80 || !strings.Contains(chunks[1].Text, "\n\n") {
		t.Errorf("short paragraphs not packed: %q", chunks[1].Text)
	}
	for _, c := range chunks[2:4] {
		if !strings.HasSuffix(c.Text, "you see.") || !strings.HasPrefix(c.Text, "This sentence") {
			t.Errorf("long paragraph split mid-sentence: ...%q", c.Text[max(0, len(c.Text)-30):])
		}
	}
	if !strings.Contains(chunks[4].Text, "# not a heading") {
		t.Errorf("fenced code lost: %q", chunks[4].Text)
	}
	if chunks[5].Text != "under setext" {
		t.Errorf("setext section = %q", chunks[5].Text)
	}
	// Plain text has no headings.
	for _, c := range Chunk("notes.txt", []byte("# not a heading\n\nbody")) {
		if c.Heading != "" {
			t.Errorf("txt chunk has heading %q", c.Heading)
		}
	}
	if got := Chunk("empty.md", nil); len(got) != 0 {
		t.Errorf("empty doc gave %d chunks", len(got))
	}
	// Chinese without spaces is cut by character count at sentence ends.
	zh := strings.Repeat("我们的咖啡都是按订单现烘焙的。", 60) // 840 Han characters
	zc := Chunk("zh.md", []byte(zh))
	if len(zc) < 3 {
		t.Fatalf("Chinese paragraph gave %d chunks", len(zc))
	}
	for _, c := range zc {
		if words(c.Text) > chunkTarget || !strings.HasSuffix(c.Text, "。") {
			t.Errorf("Chinese chunk of %d words ends %q", words(c.Text), c.Text[len(c.Text)-3:])
		}
	}
}

func knowledgeDir(t testing.TB) string {
	dir := filepath.Join("..", "configs", "knowledge")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("example knowledge base not found: %v", err)
	}
	return dir
}

func TestKBSearchRanking(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	kb := s.KB()
	rep, err := kb.Ingest(ctx, knowledgeDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Added) != 7 || rep.Passages < 14 {
		t.Fatalf("report = %+v", rep)
	}
	for _, tc := range []struct {
		query, source, heading string
	}{
		{"How long does shipping to Canada take?", "shipping.md", "Shipping times and costs"},
		{"I forgot my password", "app.md", "Signing in and passwords"},
		{"can I pause my subscription for a holiday", "subscriptions.md", "Pausing, skipping and cancelling"},
		{"my espresso shot tastes sour", "brewing-guide.md", "Espresso"},
		{"is a gift card refundable", "returns.md", "Gift cards and subscriptions"},
		{"are your bags compostable", "about.md", "Sustainability"},
		{"the bag arrived damaged", "returns.md", "Damaged or wrong items"},
		{"退货", "faq-zh.md", "退货政策"},
		{"怎么查询物流", "faq-zh.md", "如何查询物流"},
		{"退款多久到账", "faq-zh.md", "退款多久到账"},
		{"订阅可以暂停吗", "faq-zh.md", "订阅可以暂停吗"},
		// Paraphrases: the thesaurus, the kind of fact asked for, the
		// heading as context, Chinese characters.
		{"I typed the wrong address and the parcel bounced back, can you resend it?", "shipping.md", "Lost or late parcels"},
		{"what water temperature for pour over?", "brewing-guide.md", "Pour over (V60, Kalita, Chemex)"},
		{"how can I reach customer support?", "about.md", "Contact"},
		{"能寄到邮政信箱吗？", "faq-zh.md", "配送范围"},
		{"排气阀坏了怎么办？", "faq-zh.md", "包裹破损或发错商品"},
		// A country answered by its region's table row, a day by "every
		// day", a Chinese question by an English page, "reach" in its two
		// senses.
		{"how long does shipping to Germany take?", "shipping.md", "Shipping times and costs"},
		{"how long will a parcel take to reach Australia?", "shipping.md", "Shipping times and costs"},
		{"what time do you open on Sunday?", "about.md", "The roastery café"},
		{"寄到德国要几天？", "shipping.md", "Shipping times and costs"},
		{"how can I reach you?", "about.md", "Contact"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			ps, err := kb.Search(ctx, tc.query, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) == 0 {
				t.Fatal("no results")
			}
			if ps[0].Relevance < bot.DefaultMinRelevance {
				t.Errorf("top relevance %.2f is under the floor %.2f", ps[0].Relevance, bot.DefaultMinRelevance)
			}
			if ps[0].Source != tc.source || ps[0].Heading != tc.heading {
				t.Errorf("top = %s / %s (%.2f), want %s / %s", ps[0].Source, ps[0].Heading, ps[0].Score, tc.source, tc.heading)
				for _, p := range ps {
					t.Logf("  %s / %s %.2f", p.Source, p.Heading, p.Score)
				}
			}
			for i := 1; i < len(ps); i++ {
				if ps[i].Score > ps[i-1].Score {
					t.Errorf("results not sorted by score")
				}
			}
		})
	}
	if ps, _ := kb.Search(ctx, "xylophone zebra", 3); len(ps) != 0 {
		t.Errorf("unrelated query found %d passages", len(ps))
	}
	if ps, _ := kb.Search(ctx, "the and of", 3); len(ps) != 0 {
		t.Errorf("stop words found %d passages", len(ps))
	}
	if ps, _ := kb.Search(ctx, "coffee", 0); ps != nil {
		t.Errorf("k=0 returned %d", len(ps))
	}
}

func TestKBCompaction(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	kb := s.KB()
	body := strings.Repeat("Short paragraph about beans.\n\n# H\n\n", 600)
	seen := map[uint64]bool{kb.Version(): true}
	for i := range 5 {
		if _, err := kb.IngestFile(ctx, "s", "x.md", []byte(body+strings.Repeat("v", i+1))); err != nil {
			t.Fatal(err)
		}
		// Every change, compactions included, moves to a version never
		// seen before (the engine keeps search results by version).
		if v := kb.Version(); seen[v] {
			t.Errorf("version %d repeated after change %d", v, i)
		} else {
			seen[v] = true
		}
	}
	kb.mu.RLock()
	n, live := len(kb.idx.pass), kb.idx.live
	kb.mu.RUnlock()
	if n > 2*live+1024 {
		t.Errorf("index holds %d slots for %d passages", n, live)
	}
	ps, _ := kb.Search(ctx, "vvvvv", 3)
	if len(ps) != 1 {
		t.Errorf("search after compaction = %+v", ps)
	}
	if err := kb.Remove(ctx, "s", "x.md"); err != nil || seen[kb.Version()] {
		t.Errorf("remove: err %v, version %d seen before", err, kb.Version())
	}
}

func TestKBBadInput(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	kb := s.KB()
	for name, body := range map[string]string{
		"utf8.md":    "# Bad \xff\xfe heading\n\nbody with \xc3 broken bytes",
		"control.md": "a\x00b\x07 c\x1b[31m red\r\nline two\rline three",
		"empty.txt":  "",
		"big.txt":    strings.Repeat("lorem ipsum dolor sit amet consectetur ", 100<<10/40),
		"nospace.md": strings.Repeat("x", 100<<10),
	} {
		if _, err := kb.IngestFile(ctx, "s", name, []byte(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, q := range []string{"broken", "red", "lorem", "\xff", ""} {
		ps, err := kb.Search(ctx, q, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if !utf8.ValidString(p.Text) || !utf8.ValidString(p.Heading) || strings.ContainsAny(p.Text, "\x00\x07\x1b\r") {
				t.Errorf("unsafe passage for %q: %q", q, p.Text)
			}
		}
	}
	docs, _ := kb.List(ctx)
	for _, d := range docs {
		if d.Path == "empty.txt" && d.Passages != 0 {
			t.Errorf("empty doc has %d passages", d.Passages)
		}
		if d.Path == "nospace.md" && d.Passages != 100<<10/chunkMaxBytes {
			t.Errorf("100 KB word cut into %d passages", d.Passages)
		}
	}
	if _, err := kb.IngestFile(ctx, "s", "", []byte("x")); err == nil {
		t.Error("empty name accepted")
	}
	if _, err := kb.IngestFile(ctx, "s", "../../etc/x.md", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if docs, _ := kb.List(ctx); !slices.ContainsFunc(docs, func(d Doc) bool { return d.Path == "etc/x.md" }) {
		t.Errorf("source name not cleaned: %+v", docs)
	}
}

func nonSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// FuzzChunk checks that any input gives valid, bounded passages, and that
// plain text loses nothing but white space.
func FuzzChunk(f *testing.F) {
	f.Add("a.md", []byte("# H\n\npara one.\n\npara two"))
	f.Add("b.txt", []byte("我们的咖啡。都是现烘的！\n\nplain"))
	f.Add("c.md", []byte("```\n# x\n\n"))
	f.Fuzz(func(t *testing.T, name string, content []byte) {
		chunks := Chunk(name, content)
		var all strings.Builder
		for _, c := range chunks {
			if c.Text == "" || c.Text != strings.TrimSpace(c.Text) {
				t.Fatalf("chunk %q is empty or untrimmed", c.Text)
			}
			if !utf8.ValidString(c.Text) || !utf8.ValidString(c.Heading) {
				t.Fatalf("invalid UTF-8 in %q", c.Text)
			}
			if len(c.Text) > chunkMaxBytes || words(c.Text) > chunkHard || len(c.Heading) > maxHeading {
				t.Fatalf("chunk too big: %d bytes, %d words", len(c.Text), words(c.Text))
			}
			for _, r := range c.Text {
				if unicode.IsControl(r) && r != '\n' && r != '\t' {
					t.Fatalf("control character %U in chunk", r)
				}
			}
			all.WriteString(c.Text)
		}
		if !isMarkdown(name) {
			if got, want := nonSpace(all.String()), nonSpace(sanitizeDoc(content)); got != want {
				t.Fatalf("plain text changed:\n got %q\nwant %q", got, want)
			}
		}
	})
}

// TestKBSearchKeepQueryTerms: cutting each sentence's terms down to the
// query's before matching changes no score, relevance or order, over the
// knowledge base's own sentences and headings asked as questions.
func TestKBSearchKeepQueryTerms(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	kb := s.KB()
	if _, err := kb.Ingest(ctx, knowledgeDir(t)); err != nil {
		t.Fatal(err)
	}
	var queries []string
	kb.mu.RLock()
	for _, p := range kb.idx.pass {
		queries = append(queries, p.heading, p.title)
		for _, line := range strings.Split(p.text, "\n") {
			if len(queries) < 2000 {
				queries = append(queries, line)
			}
		}
	}
	kb.mu.RUnlock()
	queries = append(queries, "how long does shipping take to Berlin and can I pause my subscription", "contact customer help email team", "联系 客服 邮箱 团队")
	defer func() { keepQueryTerms = true }()
	compared := 0
	for _, q := range queries {
		keepQueryTerms = false
		want, err := kb.Search(ctx, q, 5)
		if err != nil {
			t.Fatal(err)
		}
		keepQueryTerms = true
		got, err := kb.Search(ctx, q, 5)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Fatalf("Search(%q):\ncut to the query's terms: %+v\nwhole sets: %+v", q, got, want)
		}
		if len(want) > 0 {
			compared++
		}
	}
	if compared < 50 {
		t.Errorf("only %d queries found passages", compared)
	}
}
