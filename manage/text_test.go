package manage

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/textkit"
)

func TestParseVariants(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"numbered", "1. One\n\n2. Two\n#tag\n\n3. Three", []string{"One", "Two\n#tag", "Three"}},
		{"parens and preamble", "Here you go!\n1) One\n2) Two\n3) Three", []string{"One", "Two", "Three"}},
		{"bold labels", "**Draft 1:** One\n\n**Draft 2:** Two\n\n**Draft 3:** Three", []string{"One", "Two", "Three"}},
		{"heading labels", "### Variant 1\nOne line\n\n### Variant 2\nTwo line\n\n### Variant 3\nThree line", []string{"One line", "Two line", "Three line"}},
		{"inner list kept", "1. Top three reasons:\n1. fast\n2. cheap\n\n2. Two\n\n3. Three", []string{"Top three reasons:\n1. fast\n2. cheap", "Two", "Three"}},
		{"json array", `["a", "b", "c", "d"]`, []string{"a", "b", "c"}},
		{"json object with tags", "```json\n{\"drafts\": [{\"text\": \"Hi\", \"hashtags\": [\"One\", \"#Two\"]}, {\"post\": \"Yo #Two\", \"hashtags\": [\"Two\"]}]}\n```", []string{"Hi\n\n#One #Two", "Yo #Two"}},
		{"plain", "Just one post, no numbers.", []string{"Just one post, no numbers."}},
		{"quoted", "1. \"One\"\n2. \"Two\"", []string{"One", "Two"}},
		{"chinese", "1．太棒了\n2：新品上市\n3、三", []string{"太棒了", "新品上市", "三"}},
		{"empty", "  ", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseVariants(tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("parseVariants(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzParseVariants(f *testing.F) {
	for _, s := range []string{"1. a\n2. b", `{"variants":["x"]}`, "```\n[\"a\"]\n```", "**1.** x", "3. c\n1. a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vs := parseVariants(s)
		if len(vs) > Variants {
			t.Fatalf("%d variants", len(vs))
		}
		for _, v := range vs {
			if strings.TrimSpace(v) == "" {
				t.Fatal("empty variant")
			}
		}
	})
}

func TestTrimToLimit(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int
		want  string
		cut   bool
	}{
		{"Short one.", 50, "Short one.", false},
		{"First sentence here. Second sentence is longer than the rest.", 30, "First sentence here.", true},
		{"One. Two! Three? Four is long enough to spill.\n\n#a #b", 30, "One. Two! Three?\n\n#a #b", true},
		{"第一句话。第二句话比较长一些。", 10, "第一句话。", true},
		{"nosentenceboundaryatallhere just words going on and on", 30, "nosentenceboundaryatallhere…", true},
	} {
		got, cut := trimToLimit(tc.in, tc.limit)
		if got != tc.want || cut != tc.cut {
			t.Errorf("trimToLimit(%q, %d) = %q, %v; want %q, %v", tc.in, tc.limit, got, cut, tc.want, tc.cut)
		}
		if n := utf8.RuneCountInString(got); n > tc.limit {
			t.Errorf("trimToLimit(%q, %d) is %d runes", tc.in, tc.limit, n)
		}
	}
}

func TestTermsAndQuestions(t *testing.T) {
	var labels textkit.Labels
	if got := topicSet("Shipping to Canada? The ships shipped!", &labels); !got["ship"] || !got["canada"] || len(got) != 2 || labels.Label("ship") == "ship" {
		t.Errorf("topics = %v, label of ship = %q", got, labels.Label("ship"))
	}
	if got := topicSet("发货到加拿大", &labels); !got["发货"] || !got["加拿大"] || got["拿大"] {
		t.Errorf("Chinese topics = %v", got)
	}
	for s, want := range map[string]bool{"is it?": true, "是吗": true, "好吗？ ": true, "really?!": true, "ok.": false, "what": false, "你呢": true,
		"can I pause my subscription": true, "I love this coffee!": false, "怎么退货": true} {
		if textkit.IsQuestion(s) != want {
			t.Errorf("IsQuestion(%q) = %v", s, !want)
		}
	}
}

func TestUnanswered(t *testing.T) {
	tu := func(role, user, text string) bot.Turn {
		return bot.Turn{Role: role, User: user, Name: user, Text: text}
	}
	span := []bot.Turn{
		tu(bot.RoleUser, "a", "Does the grinder fit the old machine?"),
		tu(bot.RoleUser, "b", "Yes it does"), // next message from someone else
		tu(bot.RoleUser, "c", "Is the sale on Friday?"),
		tu(bot.RoleUser, "c", "anyone?"),
		tu(bot.RoleUser, "d", "Something else entirely"),
		tu(bot.RoleUser, "e", "where is my parcel?"),
		tu(bot.RoleAssistant, "e", "It left on Monday."), // the bot answered e
		tu(bot.RoleUser, "f", "How do refunds work?"),
		tu(bot.RoleUser, "f", "hello?"),
		tu(bot.RoleUser, "g", "refunds take a week"), // shares a term
		tu(bot.RoleUser, "h", "what about gift cards?"),
	}
	var got []string
	for _, q := range unanswered(span) {
		got = append(got, q.Text)
	}
	want := []string{"Is the sale on Friday?", "what about gift cards?"}
	if !slices.Equal(got, want) {
		t.Errorf("unanswered = %q, want %q", got, want)
	}
}

func TestGroupGaps(t *testing.T) {
	qs := []string{"Do you ship to Canada?", "shipping to canada?", "你们发货到加拿大吗", "可以发货到加拿大吗", "gift cards?", "Do you sell gift cards", "warranty length"}
	recs := make([]gapRecord, len(qs))
	for i, q := range qs {
		recs[i] = gapRecord{Text: q, Time: time.Unix(int64(i), 0)}
	}
	groups := groupGaps(recs, 0.3)
	var sizes []int
	for _, g := range groups {
		sizes = append(sizes, len(g.members))
	}
	if !slices.Equal(sizes, []int{2, 2, 2, 1}) {
		t.Errorf("group sizes = %v", sizes)
	}
	// Equal sizes: the most recent group first.
	if ex := example(recs, groups[0]); !strings.Contains(ex.Text, "gift") {
		t.Errorf("first group example %q, want the gift cards (newest)", ex.Text)
	}
}

func TestClusterTopics(t *testing.T) {
	var users []bot.Turn
	for i := range 6 {
		users = append(users, bot.Turn{Role: bot.RoleUser, Name: "u", Text: fmt.Sprintf("shipping delay %d to canada", i)})
	}
	for i := range 3 {
		users = append(users, bot.Turn{Role: bot.RoleUser, Name: "u", Text: fmt.Sprintf("espresso blend tasting %d", i)})
	}
	users = append(users, bot.Turn{Role: bot.RoleUser, Name: "u", Text: "random lonely words"})
	tps := clusterTopics(users)
	if len(tps) != 2 || tps[0].Count != 6 || tps[1].Count != 3 {
		t.Fatalf("topics = %+v", tps)
	}
	if !slices.Contains(tps[0].Terms, "canada") || !slices.Contains(tps[1].Terms, "espresso") {
		t.Errorf("topic terms = %q, %q", tps[0].Terms, tps[1].Terms)
	}
	if len(tps[0].Examples) != 2 {
		t.Errorf("examples = %d", len(tps[0].Examples))
	}
}

// TestCatalogue checks that every key the code uses has an English and a
// Chinese text, and that both languages have the same keys.
func TestCatalogue(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	keyRE := regexp.MustCompile(`"(manage\.[a-z_]+)"`)
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "catalog.go" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = true
		}
	}
	for _, k := range []string{"manage.mood_neutral", "manage.mood_positive", "manage.mood_negative", "manage.mood_mixed"} {
		used[k] = true
	}
	if len(used) < 30 {
		t.Fatalf("found only %d keys: the scan is broken", len(used))
	}
	for k := range used {
		if catalogEN[k] == "" || catalogZH[k] == "" {
			t.Errorf("key %s lacks a text (en %q, zh %q)", k, catalogEN[k], catalogZH[k])
		}
	}
	for k := range catalogEN {
		if _, ok := catalogZH[k]; !ok {
			t.Errorf("%s has no Chinese text", k)
		}
	}
	for k := range catalogZH {
		if _, ok := catalogEN[k]; !ok {
			t.Errorf("%s has no English text", k)
		}
	}
	// Placeholders agree across languages.
	ph := regexp.MustCompile(`\{[a-z]+\}`)
	for k, en := range catalogEN {
		a, b := ph.FindAllString(en, -1), ph.FindAllString(catalogZH[k], -1)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(slices.Compact(a), slices.Compact(b)) {
			t.Errorf("%s placeholders differ: en %v, zh %v", k, a, b)
		}
	}
}

func BenchmarkGroupGaps(b *testing.B) {
	subjects := []string{"shipping to canada", "refund policy", "gift cards", "warranty", "store hours", "loyalty points", "发货到加拿大", "退款政策"}
	recs := make([]gapRecord, 2000)
	for i := range recs {
		recs[i] = gapRecord{Text: fmt.Sprintf("question %d about %s and item%d?", i, subjects[i%len(subjects)], i%50), Time: time.Unix(int64(i), 0)}
	}
	b.ReportAllocs()
	for b.Loop() {
		groupGaps(recs, 0.3)
	}
}

func BenchmarkAnalyse(b *testing.B) {
	words := strings.Fields("shipping canada espresso blend refund policy grinder machine love terrible late great sale winter parcel")
	turns := make([]bot.Turn, 5000)
	for i := range turns {
		turns[i] = bot.Turn{Role: bot.RoleUser, User: fmt.Sprint("u", i%40), Name: fmt.Sprint("u", i%40),
			Text: fmt.Sprintf("%s %s %s number %d?", words[i%len(words)], words[(i*7)%len(words)], words[(i*13)%len(words)], i)}
	}
	b.ReportAllocs()
	for b.Loop() {
		clusterTopics(turns)
		unanswered(turns[:1000])
	}
}
