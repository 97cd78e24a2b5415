package memory

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

// BM25 parameters: the usual ones.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// MaxDocBytes bounds a knowledge-base file; Ingest skips larger ones.
const MaxDocBytes = 8 << 20

// maxSearchK bounds how many passages one Search returns.
const maxSearchK = 100

// Doc describes one ingested source file.
type Doc struct {
	// Source is the file's path relative to the ingested directory, with
	// forward slashes ("shipping.md", "faq/zh.md").
	Source   string    `json:"source"`
	Passages int       `json:"passages"`
	Bytes    int       `json:"bytes"`
	Hash     string    `json:"hash"` // SHA-256 of the content, hex
	Ingested time.Time `json:"ingested"`
}

// IngestReport says what Ingest did, by source.
type IngestReport struct {
	Added     []string `json:"added,omitempty"`
	Updated   []string `json:"updated,omitempty"`
	Unchanged []string `json:"unchanged,omitempty"`
	Removed   []string `json:"removed,omitempty"`
	// Skipped lists files not ingested, with the reason.
	Skipped []string `json:"skipped,omitempty"`
	// Passages is the number of passages written.
	Passages int `json:"passages"`
}

// KB is the knowledge base: passages stored in the bbolt file and an
// in-memory BM25 inverted index over them, built at Open and updated on
// every change, so Search never touches the disk. Search may run
// concurrently with everything; changes are serialised.
type KB struct {
	s *Store

	wmu sync.Mutex // serialises changes (disk, then index)

	mu   sync.RWMutex // guards the fields below
	docs map[string]Doc
	idx  index

	scratch sync.Pool
}

var _ bot.Knowledge = (*KB)(nil)

type kbPassage struct {
	source  string
	heading string
	text    string
	ord     int // position in its source
	length  int // tokens
}

type posting struct {
	id uint32
	tf uint32
}

// index is an inverted index; ids are positions in pass, and removed
// passages leave a nil until the next compaction.
type index struct {
	pass     []*kbPassage
	bySource map[string][]uint32
	post     map[string][]posting
	live     int
	totalLen int
}

func newIndex() index {
	return index{bySource: map[string][]uint32{}, post: map[string][]posting{}}
}

// headingWeight is how many times a passage's heading and its document's
// name count against its text: a question about "shipping times" belongs
// to the section called that more than to a passage that mentions
// shipping once.
const headingWeight = 3

func passageTerms(source, heading, text string) []string {
	h := Tokenize(heading)
	name := strings.TrimSuffix(path.Base(source), path.Ext(source))
	doc := Tokenize(strings.NewReplacer("-", " ", "_", " ").Replace(name))
	terms := Tokenize(text)
	for i := 0; i < headingWeight; i++ {
		terms = append(terms, h...)
	}
	for i := 0; i < headingWeight-1; i++ {
		terms = append(terms, doc...)
	}
	return terms
}

func (ix *index) add(source string, chunks []TextChunk) {
	for i, c := range chunks {
		terms := passageTerms(source, c.Heading, c.Text)
		id := uint32(len(ix.pass))
		ix.pass = append(ix.pass, &kbPassage{source: source, heading: c.Heading, text: c.Text, ord: i, length: len(terms)})
		ix.bySource[source] = append(ix.bySource[source], id)
		tf := map[string]uint32{}
		for _, t := range terms {
			tf[t]++
		}
		for t, n := range tf {
			ix.post[t] = append(ix.post[t], posting{id: id, tf: n})
		}
		ix.live++
		ix.totalLen += len(terms)
	}
}

func (ix *index) remove(source string) {
	ids := ix.bySource[source]
	if len(ids) == 0 {
		delete(ix.bySource, source)
		return
	}
	gone := map[uint32]bool{}
	terms := map[string]bool{}
	for _, id := range ids {
		p := ix.pass[id]
		for _, t := range passageTerms(source, p.heading, p.text) {
			terms[t] = true
		}
		gone[id] = true
		ix.live--
		ix.totalLen -= p.length
		ix.pass[id] = nil
	}
	for t := range terms {
		ps := slices.DeleteFunc(ix.post[t], func(p posting) bool { return gone[p.id] })
		if len(ps) == 0 {
			delete(ix.post, t)
		} else {
			ix.post[t] = ps
		}
	}
	delete(ix.bySource, source)
	if len(ix.pass) > 2*ix.live+1024 {
		ix.compact()
	}
}

// compact renumbers the live passages, dropping the holes removals left.
func (ix *index) compact() {
	old := ix.pass
	*ix = newIndex()
	bySrc := map[string][]TextChunk{}
	var order []string
	for _, p := range old {
		if p == nil {
			continue
		}
		if _, ok := bySrc[p.source]; !ok {
			order = append(order, p.source)
		}
		bySrc[p.source] = append(bySrc[p.source], TextChunk{Heading: p.heading, Text: p.text})
	}
	for _, src := range order {
		ix.add(src, bySrc[src])
	}
}

// loadKB reads every stored passage into a fresh index.
func loadKB(s *Store) (*KB, error) {
	kb := &KB{s: s, docs: map[string]Doc{}, idx: newIndex()}
	err := s.db.View(func(tx *bolt.Tx) error {
		docs, pass := tx.Bucket(bKBDocs), tx.Bucket(bKBPass)
		if docs == nil || pass == nil {
			return nil
		}
		return docs.ForEach(func(_, v []byte) error {
			var d Doc
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			var chunks []TextChunk
			if pb := pass.Bucket(nameKey(d.Source)); pb != nil {
				if err := pb.ForEach(func(_, v []byte) error {
					var c TextChunk
					if err := json.Unmarshal(v, &c); err != nil {
						return err
					}
					chunks = append(chunks, c)
					return nil
				}); err != nil {
					return err
				}
			}
			kb.docs[d.Source] = d
			kb.idx.add(d.Source, chunks)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load knowledge base: %w", err)
	}
	return kb, nil
}

// cleanSource normalises a source name to a relative slash path.
func cleanSource(name string) string {
	name = strings.TrimLeft(path.Clean("/"+filepath.ToSlash(cleanText(name))), "/")
	return name
}

// IngestFile stores content as the source name, replacing that source's
// passages. Markdown (.md, .markdown) is chunked by heading and paragraph,
// anything else as plain text. It reports false, and writes nothing, when
// the stored copy has the same content hash.
func (kb *KB) IngestFile(ctx context.Context, name string, content []byte) (bool, error) {
	_, changed, err := kb.ingest(ctx, name, content)
	return changed, err
}

func (kb *KB) ingest(ctx context.Context, name string, content []byte) (Doc, bool, error) {
	src := cleanSource(name)
	if src == "" || src == "." {
		return Doc{}, false, fmt.Errorf("memory: kb ingest: empty source name")
	}
	if len(content) > MaxDocBytes {
		return Doc{}, false, fmt.Errorf("memory: kb ingest %s: %d bytes is over the %d limit", src, len(content), MaxDocBytes)
	}
	if err := ctx.Err(); err != nil {
		return Doc{}, false, fmt.Errorf("memory: kb ingest %s: %w", src, err)
	}
	if kb.s.readOnly {
		return Doc{}, false, fmt.Errorf("memory: kb ingest %s: %w", src, ErrReadOnly)
	}
	sum := sha256.Sum256(content)
	hash := hex.EncodeToString(sum[:])
	kb.wmu.Lock()
	defer kb.wmu.Unlock()
	kb.mu.RLock()
	old, had := kb.docs[src]
	kb.mu.RUnlock()
	if had && old.Hash == hash {
		return old, false, nil
	}
	chunks := Chunk(src, content)
	d := Doc{Source: src, Passages: len(chunks), Bytes: len(content), Hash: hash, Ingested: kb.s.now().UTC()}
	body, err := json.Marshal(d)
	if err != nil {
		return Doc{}, false, fmt.Errorf("memory: kb ingest %s: %w", src, err)
	}
	err = kb.s.db.Update(func(tx *bolt.Tx) error {
		sk := nameKey(src)
		pass := tx.Bucket(bKBPass)
		if pass.Bucket(sk) != nil {
			if err := pass.DeleteBucket(sk); err != nil {
				return err
			}
		}
		pb, err := pass.CreateBucket(sk)
		if err != nil {
			return err
		}
		pb.FillPercent = 0.95
		for i, c := range chunks {
			v, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if err := pb.Put(u64(uint64(i)), v); err != nil {
				return err
			}
		}
		return tx.Bucket(bKBDocs).Put(sk, body)
	})
	if err != nil {
		return Doc{}, false, fmt.Errorf("memory: kb ingest %s: %w", src, err)
	}
	kb.mu.Lock()
	kb.idx.remove(src)
	kb.idx.add(src, chunks)
	kb.docs[src] = d
	kb.mu.Unlock()
	return d, true, nil
}

// Ingest makes the knowledge base mirror dir: it ingests every .md,
// .markdown and .txt file under it (hidden files and folders skipped),
// skipping those whose content hash is unchanged, and removes sources
// that are no longer in dir. Nothing is removed when dir can't be read.
func (kb *KB) Ingest(ctx context.Context, dir string) (IngestReport, error) {
	var rep IngestReport
	type file struct{ src, path string }
	var files []file
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := de.Name()
		if p != dir && strings.HasPrefix(name, ".") {
			if de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if de.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(name)) {
		case ".md", ".markdown", ".txt":
		default:
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, file{src: cleanSource(rel), path: p})
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("memory: kb ingest %s: %w", dir, err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		seen[f.src] = true
		fi, err := os.Stat(f.path)
		if err != nil {
			return rep, fmt.Errorf("memory: kb ingest %s: %w", f.path, err)
		}
		if fi.Size() > MaxDocBytes {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %d bytes is over the %d limit", f.src, fi.Size(), MaxDocBytes))
			continue
		}
		content, err := os.ReadFile(f.path)
		if err != nil {
			return rep, fmt.Errorf("memory: kb ingest %s: %w", f.path, err)
		}
		kb.mu.RLock()
		_, had := kb.docs[f.src]
		kb.mu.RUnlock()
		d, changed, err := kb.ingest(ctx, f.src, content)
		if err != nil {
			return rep, err
		}
		switch {
		case !changed:
			rep.Unchanged = append(rep.Unchanged, f.src)
		case had:
			rep.Updated = append(rep.Updated, f.src)
			rep.Passages += d.Passages
		default:
			rep.Added = append(rep.Added, f.src)
			rep.Passages += d.Passages
		}
	}
	docs, err := kb.List(ctx)
	if err != nil {
		return rep, err
	}
	for _, d := range docs {
		if seen[d.Source] {
			continue
		}
		if err := kb.Remove(ctx, d.Source); err != nil {
			return rep, err
		}
		rep.Removed = append(rep.Removed, d.Source)
	}
	return rep, nil
}

// List returns the ingested sources, sorted by name.
func (kb *KB) List(ctx context.Context) ([]Doc, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: kb list: %w", err)
	}
	kb.mu.RLock()
	out := make([]Doc, 0, len(kb.docs))
	for _, d := range kb.docs {
		out = append(out, d)
	}
	kb.mu.RUnlock()
	slices.SortFunc(out, func(a, b Doc) int { return cmp.Compare(a.Source, b.Source) })
	return out, nil
}

// Len returns the number of passages indexed.
func (kb *KB) Len() int {
	kb.mu.RLock()
	defer kb.mu.RUnlock()
	return kb.idx.live
}

// Remove deletes a source and its passages; bot.ErrNotFound when unknown.
func (kb *KB) Remove(ctx context.Context, source string) error {
	src := cleanSource(source)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: kb remove %s: %w", src, err)
	}
	if kb.s.readOnly {
		return fmt.Errorf("memory: kb remove %s: %w", src, ErrReadOnly)
	}
	kb.wmu.Lock()
	defer kb.wmu.Unlock()
	kb.mu.RLock()
	_, had := kb.docs[src]
	kb.mu.RUnlock()
	if !had {
		return fmt.Errorf("memory: kb remove %s: %w", src, bot.ErrNotFound)
	}
	err := kb.s.db.Update(func(tx *bolt.Tx) error {
		sk := nameKey(src)
		if tx.Bucket(bKBPass).Bucket(sk) != nil {
			if err := tx.Bucket(bKBPass).DeleteBucket(sk); err != nil {
				return err
			}
		}
		return tx.Bucket(bKBDocs).Delete(sk)
	})
	if err != nil {
		return fmt.Errorf("memory: kb remove %s: %w", src, err)
	}
	kb.mu.Lock()
	kb.idx.remove(src)
	delete(kb.docs, src)
	kb.mu.Unlock()
	return nil
}

type searchScratch struct {
	scores  []float64
	touched []uint32
}

// Search implements bot.Knowledge: the k best passages for query by BM25
// (k1 1.2, b 0.75) over Tokenize's terms, best first; ties go to the
// earlier source and passage. It reads only the in-memory index. Passages
// that share no term with the query are never returned.
func (kb *KB) Search(ctx context.Context, query string, k int) ([]bot.Passage, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: kb search: %w", err)
	}
	if k <= 0 {
		return nil, nil
	}
	k = min(k, maxSearchK)
	terms := Tokenize(query)
	slices.Sort(terms)
	terms = slices.Compact(terms)

	kb.mu.RLock()
	defer kb.mu.RUnlock()
	ix := &kb.idx
	if ix.live == 0 || len(terms) == 0 {
		return nil, nil
	}
	sc, _ := kb.scratch.Get().(*searchScratch)
	if sc == nil {
		sc = &searchScratch{}
	}
	if len(sc.scores) < len(ix.pass) {
		sc.scores = make([]float64, len(ix.pass))
	}
	sc.touched = sc.touched[:0]
	n := float64(ix.live)
	avgdl := float64(ix.totalLen) / n
	if avgdl == 0 {
		avgdl = 1
	}
	for _, t := range terms {
		ps := ix.post[t]
		if len(ps) == 0 {
			continue
		}
		df := float64(len(ps))
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		for _, p := range ps {
			tf := float64(p.tf)
			dl := float64(ix.pass[p.id].length)
			if sc.scores[p.id] == 0 {
				sc.touched = append(sc.touched, p.id)
			}
			sc.scores[p.id] += idf * tf * (bm25K1 + 1) / (tf + bm25K1*(1-bm25B+bm25B*dl/avgdl))
		}
	}
	type hit struct {
		id    uint32
		score float64
	}
	better := func(a, b hit) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		pa, pb := ix.pass[a.id], ix.pass[b.id]
		if pa.source != pb.source {
			return pa.source < pb.source
		}
		return pa.ord < pb.ord
	}
	top := make([]hit, 0, k+1)
	for _, id := range sc.touched {
		h := hit{id, sc.scores[id]}
		sc.scores[id] = 0
		if len(top) == k && !better(h, top[k-1]) {
			continue
		}
		i := len(top)
		for i > 0 && better(h, top[i-1]) {
			i--
		}
		top = slices.Insert(top, i, h)
		if len(top) > k {
			top = top[:k]
		}
	}
	kb.scratch.Put(sc)
	out := make([]bot.Passage, len(top))
	for i, h := range top {
		p := ix.pass[h.id]
		out[i] = bot.Passage{Source: p.source, Heading: p.heading, Text: p.text, Score: h.score}
	}
	return out, nil
}

// String summarises the report on one line, for logs and the CLI.
func (r IngestReport) String() string {
	s := fmt.Sprintf("%d added, %d updated, %d unchanged, %d removed, %d passages written",
		len(r.Added), len(r.Updated), len(r.Unchanged), len(r.Removed), r.Passages)
	if len(r.Skipped) > 0 {
		s += fmt.Sprintf("; skipped: %s", strings.Join(r.Skipped, "; "))
	}
	return s
}

// IngestFS loads every file of fsys (the example knowledge base built into
// the binary) with IngestFile. Unlike Ingest it removes nothing.
func (kb *KB) IngestFS(ctx context.Context, fsys fs.FS) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if _, err := kb.IngestFile(ctx, p, data); err != nil {
			return fmt.Errorf("memory: ingest %s: %w", p, err)
		}
		return nil
	})
}
