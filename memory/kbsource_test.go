package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func docNames(t *testing.T, kb *KB) []string {
	t.Helper()
	docs, err := kb.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range docs {
		out = append(out, filepath.Base(d.Source)+":"+d.Path)
	}
	return out
}

// Two folders are two sources: re-ingesting one adds, replaces and removes
// its own documents only, and a returns.md in each is two documents.
func TestKBSourcesKeepEachOther(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	kb := s.KB()
	root := t.TempDir()
	a, b := filepath.Join(root, "alpha"), filepath.Join(root, "beta")
	writeFile(t, a, "returns.md", "# Returns\n\nAlpha takes zebras back within 30 days.\n")
	writeFile(t, a, "sub/notes.txt", "Alpha kettle notes.\n")
	writeFile(t, b, "returns.md", "# Returns\n\nBeta takes giraffes back within 14 days.\n")
	writeFile(t, b, "faq.md", "# FAQ\n\nBeta answers questions about llamas.\n")

	ra, err := kb.Ingest(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ra.Added, []string{"returns.md", "sub/notes.txt"}) || ra.Source != a {
		t.Fatalf("ingest alpha = %+v", ra)
	}
	if _, err := kb.Ingest(ctx, b); err != nil {
		t.Fatal(err)
	}
	want := []string{"alpha:returns.md", "alpha:sub/notes.txt", "beta:faq.md", "beta:returns.md"}
	if got := docNames(t, kb); !slices.Equal(got, want) {
		t.Fatalf("after two folders: %q, want %q", got, want)
	}
	// Re-ingest beta with faq.md deleted and returns.md changed.
	os.Remove(filepath.Join(b, "faq.md"))
	writeFile(t, b, "returns.md", "# Returns\n\nBeta takes giraffes back within 60 days.\n")
	rb, err := kb.Ingest(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rb.Removed, []string{"faq.md"}) || !slices.Equal(rb.Updated, []string{"returns.md"}) || len(rb.Added) != 0 {
		t.Fatalf("re-ingest beta = %+v", rb)
	}
	want = []string{"alpha:returns.md", "alpha:sub/notes.txt", "beta:returns.md"}
	if got := docNames(t, kb); !slices.Equal(got, want) {
		t.Fatalf("after re-ingest: %q, want %q", got, want)
	}
	ps, _ := kb.Search(ctx, "zebras", 5)
	if len(ps) != 1 || ps[0].Source != "returns.md" || !strings.Contains(ps[0].Text, "Alpha") {
		t.Errorf("alpha's returns.md lost: %+v", ps)
	}
	if ps, _ := kb.Search(ctx, "llamas", 5); len(ps) != 0 {
		t.Errorf("deleted faq.md still found: %+v", ps)
	}
	// The same folder given another way is the same source.
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, a)
	if err == nil {
		r, err := kb.Ingest(ctx, rel+string(filepath.Separator))
		if err != nil || r.Source != a || len(r.Unchanged) != 2 || len(r.Added) != 0 {
			t.Errorf("relative path ingest = %+v, %v", r, err)
		}
	}
	// A single file is a source of its own.
	single := filepath.Join(root, "policy.txt")
	writeFile(t, root, "policy.txt", "Single file about okapis.")
	r, err := kb.Ingest(ctx, single)
	if err != nil || !slices.Equal(r.Added, []string{"policy.txt"}) || r.Source != single {
		t.Fatalf("single file = %+v, %v", r, err)
	}
	srcs, _ := kb.Sources(ctx)
	if len(srcs) != 3 {
		t.Fatalf("sources = %+v", srcs)
	}
	// Nothing is removed when a source can't be read.
	if _, err := kb.Ingest(ctx, filepath.Join(root, "missing")); err == nil {
		t.Error("ingest of a missing folder succeeded")
	}
	if got := docNames(t, kb); len(got) != 4 {
		t.Errorf("missing folder removed documents: %q", got)
	}
}

func TestKBExampleSeedsOnlyAnEmptyBase(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	kb := s.KB()
	dir := knowledgeDir(t)
	rep, err := kb.IngestFS(ctx, ExampleSource, os.DirFS(dir))
	if err != nil || len(rep.Added) != 7 {
		t.Fatalf("example = %+v, %v", rep, err)
	}
	mine := t.TempDir()
	writeFile(t, mine, "hours.md", "# Hours\n\nOur shop opens at 8.\n")
	rep, err = kb.Ingest(ctx, mine)
	if err != nil || !rep.ExampleRemoved {
		t.Fatalf("own docs = %+v, %v", rep, err)
	}
	if got := docNames(t, kb); len(got) != 1 {
		t.Errorf("example not removed when own documents came: %q", got)
	}
	if !strings.Contains(rep.String(), "example") {
		t.Errorf("report doesn't say the example went: %s", rep)
	}
}

func TestKBResolveAndRemove(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	kb := s.KB()
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	writeFile(t, a, "returns.md", "alpha returns")
	writeFile(t, a, "only.md", "only in a")
	writeFile(t, b, "returns.md", "beta returns")
	for _, d := range []string{a, b} {
		if _, err := kb.Ingest(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ arg, src, path string }{
		{a, a, ""},
		{"only.md", a, "only.md"},
		{b + "/returns.md", b, "returns.md"},
		{filepath.Join(b, "returns.md"), b, "returns.md"},
	} {
		src, p, err := kb.Resolve(ctx, tc.arg)
		if err != nil || src != tc.src || p != tc.path {
			t.Errorf("Resolve(%q) = %q, %q, %v; want %q, %q", tc.arg, src, p, err, tc.src, tc.path)
		}
	}
	if _, _, err := kb.Resolve(ctx, "returns.md"); !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), a+"/returns.md") {
		t.Errorf("ambiguous path: %v", err)
	}
	if _, _, err := kb.Resolve(ctx, "nothing.md"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("unknown: %v", err)
	}
	if err := kb.Remove(ctx, b, "returns.md"); err != nil {
		t.Fatal(err)
	}
	if n, err := kb.RemoveSource(ctx, a); err != nil || n != 2 {
		t.Fatalf("RemoveSource = %d, %v", n, err)
	}
	if kb.Len() != 0 {
		t.Errorf("Len = %d after removing everything", kb.Len())
	}
	if _, err := kb.RemoveSource(ctx, a); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("second RemoveSource: %v", err)
	}
}

// A file written before sources existed (documents keyed by path alone)
// opens with its documents moved into a source, passages and all.
func TestKBMigratesDocumentsWithoutSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chorus.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	type oldDoc struct {
		Source   string `json:"source"`
		Passages int    `json:"passages"`
		Bytes    int    `json:"bytes"`
		Hash     string `json:"hash"`
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for i, name := range []string{"shipping.md", "mine.md"} {
			body, _ := json.Marshal(oldDoc{Source: name, Passages: 1, Bytes: 10, Hash: fmt.Sprintf("h%d", i)})
			if err := tx.Bucket(bKBDocs).Put([]byte(name), body); err != nil {
				return err
			}
			pb, err := tx.Bucket(bKBPass).CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			c, _ := json.Marshal(TextChunk{Heading: "H", Text: "old passage about " + strings.TrimSuffix(name, ".md")})
			if err := pb.Put(u64(0), c); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	legacy := func(p, hash string) string {
		if hash == "h0" {
			return ExampleSource
		}
		return LegacySource
	}
	for round := 0; round < 2; round++ { // migrated once, then read as new
		s, err = Open(path, WithLegacyKBSource(legacy))
		if err != nil {
			t.Fatal(err)
		}
		if got := docNames(t, s.KB()); !slices.Equal(got, []string{LegacySource + ":mine.md", ExampleSource + ":shipping.md"}) {
			t.Fatalf("round %d: docs = %q", round, got)
		}
		ps, _ := s.KB().Search(context.Background(), "passage mine", 3)
		if len(ps) == 0 || ps[0].Source != "mine.md" {
			t.Errorf("round %d: passages lost: %+v", round, ps)
		}
		s.Close()
	}
}

// minimalPDF writes a one-page PDF with the lines in Helvetica, xref and
// all, as a PDF writer would.
func minimalPDF(lines ...string) []byte {
	var content strings.Builder
	content.WriteString("BT /F1 12 Tf 72 720 Td 14 TL\n")
	for _, l := range lines {
		fmt.Fprintf(&content, "(%s) Tj T*\n", strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(l))
	}
	content.WriteString("ET")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", content.Len(), content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return []byte(b.String())
}

func TestKBFormats(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	kb := s.KB()
	dir := t.TempDir()
	writeFile(t, dir, "page.html", `<!doctype html><html><head><title>Store hours</title><style>p{color:red}</style>
<script>var secret = "tracking";</script></head><body><nav>Home | Shop</nav>
<h1>Opening hours</h1><p>The tasting room opens <b>every day</b> from 7:00 to 15:00.</p>
<h2>Prices</h2><table><tr><th>Drink</th><th>Price</th></tr><tr><td>Flat white</td><td>$4.50</td></tr></table>
<ul><li>Dogs welcome on the terrace.</li></ul></body></html>`)
	if err := os.WriteFile(filepath.Join(dir, "manual.pdf"), minimalPDF("Descaling the kettle", "Run vinegar through the kettle every month."), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "faq.csv", "Question,Answer\n\"Do you ship to Mars?\",\"Not yet, sorry.\"\nCan I pay with cash?,\"Only in the shop, not online.\"\n,missing question\n")
	writeFile(t, dir, "empty.csv", "a\nb\n")
	writeFile(t, dir, "broken.pdf", "%PDF-1.4 this is not really a pdf")
	writeFile(t, dir, "scan.pdf", string(minimalPDF()))
	writeFile(t, dir, "report.docx", "PK...")
	writeFile(t, dir, ".DS_Store", "junk")
	rep, err := kb.Ingest(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Added, []string{"faq.csv", "manual.pdf", "page.html"}) {
		t.Errorf("added = %q", rep.Added)
	}
	wantSkipped := map[string]string{
		".DS_Store":   "hidden",
		"broken.pdf":  "pdf",
		"empty.csv":   "no question,answer rows",
		"report.docx": "unsupported format",
		"scan.pdf":    "no text layer",
	}
	if len(rep.Skipped) != len(wantSkipped) {
		t.Errorf("skipped = %q", rep.Skipped)
	}
	for name, why := range wantSkipped {
		if !slices.ContainsFunc(rep.Skipped, func(s string) bool { return strings.HasPrefix(s, name+": ") && strings.Contains(s, why) }) {
			t.Errorf("%s not listed as skipped for %q: %q", name, why, rep.Skipped)
		}
	}
	docs, _ := kb.List(ctx)
	titles := map[string]string{}
	for _, d := range docs {
		titles[d.Path] = d.Title + "/" + d.Format
	}
	if titles["page.html"] != "Store hours/html" || titles["faq.csv"] != "faq/csv" || titles["manual.pdf"] != "manual/pdf" {
		t.Errorf("titles = %v", titles)
	}
	for _, tc := range []struct{ q, heading, text string }{
		{"when does the tasting room open", "Opening hours", "every day from 7:00 to 15:00"},
		{"flat white price", "Prices", "| Flat white | $4.50 |"},
		{"can I bring my dog", "Prices", "Dogs welcome on the terrace."},
		{"descaling vinegar kettle", "", "Run vinegar through the kettle every month."},
		{"ship to mars", "Do you ship to Mars?", "Not yet, sorry."},
		{"pay with cash", "Can I pay with cash?", "Only in the shop, not online."},
	} {
		ps, err := kb.Search(ctx, tc.q, 1)
		if err != nil || len(ps) == 0 {
			t.Errorf("%q: nothing found (%v)", tc.q, err)
			continue
		}
		if ps[0].Heading != tc.heading || !strings.Contains(ps[0].Text, tc.text) {
			t.Errorf("%q: got %q / %q", tc.q, ps[0].Heading, ps[0].Text)
		}
	}
	if ps, _ := kb.Search(ctx, "tracking secret color", 3); len(ps) != 0 {
		t.Errorf("script or style text indexed: %+v", ps)
	}
}

func TestKBRelevance(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	kb := s.KB()
	if _, err := kb.Ingest(ctx, knowledgeDir(t)); err != nil {
		t.Fatal(err)
	}
	rel := func(q string) float64 {
		ps, _ := kb.Search(ctx, q, 1)
		if len(ps) == 0 {
			return 0
		}
		return ps[0].Relevance
	}
	if r := rel("pause subscription"); r < 0.99 {
		t.Errorf("a question every word of which is in the passage has relevance %.2f", r)
	}
	if a, b := rel("pause subscription"), rel("pause subscription dinosaur"); b >= a || b > 0.7 {
		t.Errorf("an unknown word doesn't lower relevance: %.2f then %.2f", a, b)
	}
	if r := rel("xylophone"); r != 0 {
		t.Errorf("unknown word relevance %.2f", r)
	}
}
