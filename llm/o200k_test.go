package llm

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// reference is tiktoken-go's o200k_base encoder, which Chorus used until
// its own counter (bpe.go) replaced it: the tests hold the counter to it.
var reference = sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
	tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
	return tiktoken.GetEncoding(Encoding)
})

// referenceRanks is the o200k_base vocabulary as tiktoken-go-loader ships
// it, token bytes by rank.
func referenceRanks(t testing.TB) [][]byte {
	t.Helper()
	ranks, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe("https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken")
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(ranks))
	for tok, r := range ranks {
		if r < 0 || r >= len(out) || out[r] != nil {
			t.Fatalf("rank %d of %q is out of range or taken", r, tok)
		}
		out[r] = []byte(tok)
	}
	return out
}

// TestO200kTable: the embedded table (o200k.bin) holds exactly the
// o200k_base vocabulary. CHORUS_UPDATE_O200K=1 writes it from
// tiktoken-go-loader's copy.
func TestO200kTable(t *testing.T) {
	ranks := referenceRanks(t)
	if os.Getenv("CHORUS_UPDATE_O200K") != "" {
		var b bytes.Buffer
		for _, tok := range ranks {
			if len(tok) == 0 || len(tok) > 255 {
				t.Fatalf("token of %d bytes", len(tok))
			}
			b.WriteByte(byte(len(tok)))
		}
		for _, tok := range ranks {
			b.Write(tok)
		}
		if err := os.WriteFile("o200k.bin", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v := vocab()
	if v.n != len(ranks) {
		t.Fatalf("table has %d tokens, want %d (CHORUS_UPDATE_O200K=1 rewrites it)", v.n, len(ranks))
	}
	for r, tok := range ranks {
		if got := v.token(r); got != string(tok) {
			t.Fatalf("rank %d is %q, want %q", r, got, tok)
		}
		if got, ok := v.rank(string(tok)); !ok || got != r {
			t.Fatalf("rank(%q) = %d, %v, want %d", tok, got, ok, r)
		}
	}
	for _, s := range []string{"", "not a token at all, surely", "\xff\xfe\xfd\xfc\xfb"} {
		if r, ok := v.rank(s); ok {
			t.Errorf("rank(%q) = %d, want none", s, r)
		}
	}
}

// countCorpus is text of every kind the counter meets: the test
// paragraphs, generated strings of tricky characters (whitespace runs,
// line breaks, contractions in both cases, digits, punctuation, marks,
// emoji, CJK, invalid UTF-8), and the labelled data sets when present.
func countCorpus(t *testing.T) []string {
	var out []string
	for _, p := range approxParagraphs {
		out = append(out, p.text)
	}
	pieces := []string{" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n ", "\u00a0", "\u3000", "\u2028", "\u0085", "\v", "\f",
		"'s", "'S", "'re", "'RE", "'Ll", "'d", "'ve", "'m", "'t", "'ſ", "'x", "don't", "WE'LL", "It'S",
		"1", "12", "123", "1234", "12345", "٣٤٥", "½", "3.14", "1,000", "$9.99", "#48213", "!!!", "...", "?!", "/", "//", "\\",
		"Hello", "hello", "HELLO", "hELLO", "ǅungla", "Ⅻ", "é", "e\u0301", "naïve", "Straße", "İstanbul", "Kelvin \u212a",
		"😂", "👍🏽", "🇩🇪", "你好", "我的订单号是", "コーヒー", "한국어", "مرحبا", "שלום", "Привет", "ΑΒΓ",
		"\xff", "\xe4\xbd", "a\x80b", "<b>", "</p>", "&amp;", "@user", "http://example.com/a?b=c", "```go", "\x00", "\x1b[0m"}
	rng := rand.New(rand.NewPCG(200, 1))
	for range 4000 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		out = append(out, b.String())
	}
	dir := os.Getenv("CHORUS_DATASETS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "datasets")
	}
	read := func(name string, col int, sep rune) {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Logf("%s not present under %s (set CHORUS_DATASETS): %v", name, dir, err)
			return
		}
		defer f.Close()
		if sep == '\t' {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if f := strings.Split(sc.Text(), "\t"); len(f) > col {
					out = append(out, f[col])
				}
			}
			return
		}
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1
		for {
			rec, err := r.Read()
			if err == io.EOF {
				return
			}
			if err == nil && len(rec) > col {
				out = append(out, rec[col])
			}
		}
	}
	read(filepath.Join("spam", "sms", "SMSSpamCollection_dev.tsv"), 1, '\t')
	read(filepath.Join("airline", "airline_train.csv"), 1, ',')
	read(filepath.Join("zh-sentiment", "chnsenticorp_dev.tsv"), 1, '\t')
	read(filepath.Join("spam", "youtube", "Youtube01-Psy.csv"), 3, ',')
	return out
}

// TestCountMatchesTiktoken: the counter gives exactly tiktoken-go's count
// (o200k_base, EncodeOrdinary) on the corpus, and its pieces are
// tiktoken-go's tokens.
func TestCountMatchesTiktoken(t *testing.T) {
	ref, err := reference()
	if err != nil {
		t.Fatal(err)
	}
	tc, err := NewTokenCounter()
	if err != nil {
		t.Fatal(err)
	}
	corpus := countCorpus(t)
	total := 0
	for _, s := range corpus {
		want := ref.EncodeOrdinary(s)
		got := tc.Count(s)
		total += got
		if got != len(want) {
			t.Fatalf("Count(%q) = %d, tiktoken-go %d: %v\npieces %q", s, got, len(want), want, pretokenize(s))
		}
	}
	t.Logf("%d texts, %d tokens", len(corpus), total)
}

// FuzzCount holds the counter to tiktoken-go on any text.
func FuzzCount(f *testing.F) {
	for _, s := range []string{"", "hello world", "  \n\t x", "don't 'S 123456", "你好😂", "\xff\xfe a", "a  \u00a0b\u3000\n"} {
		f.Add(s)
	}
	ref, err := reference()
	if err != nil {
		f.Fatal(err)
	}
	tc, err := NewTokenCounter()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := tc.Count(s), len(ref.EncodeOrdinary(s)); got != want {
			t.Fatalf("Count(%q) = %d, tiktoken-go %d", s, got, want)
		}
	})
}

// TestSpaceClass: the pre-tokenizer's whitespace is unicode.IsSpace, as
// tiktoken-go's regexp2 reads \s.
func TestSpaceClass(t *testing.T) {
	spaceRE := regexp.MustCompile(`^[` + spaceClass + `]$`)
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := string(r)
		if got := spaceRE.MatchString(s); got != unicode.IsSpace(r) {
			t.Fatalf("%U: space %v, unicode.IsSpace %v", r, got, unicode.IsSpace(r))
		}
	}
}

// BenchmarkCount compares the counter with tiktoken-go on a reply-sized
// text.
func BenchmarkCount(b *testing.B) {
	text := strings.Repeat(approxParagraphs[0].text+" ", 2)
	ref, err := reference()
	if err != nil {
		b.Fatal(err)
	}
	tc, err := NewTokenCounter()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		count func(string) int
	}{{"chorus", tc.Count}, {"tiktoken-go", func(s string) int { return len(ref.EncodeOrdinary(s)) }}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.count(text)
			}
		})
	}
}
