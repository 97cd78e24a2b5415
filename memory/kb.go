package memory

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	"github.com/chorusbot/chorus/textkit"
)

// BM25 parameters: the usual ones.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// MaxDocBytes bounds a knowledge-base file; Ingest skips larger ones.
const MaxDocBytes = 8 << 20

// Search weighs passages in two steps: BM25 over whole passages finds
// the candidates, then each candidate's sentences are matched against the
// question (textkit.Query.Match, with the section's heading and the
// document's title as context), since an answer is a sentence, not a
// section.
const (
	// searchCandidates is how many of the best BM25 passages (at least)
	// have their sentences matched.
	searchCandidates = 24
	// bm25Share is how much the passage's own BM25 score adds to its best
	// sentence's: a section about the question is the likelier home of
	// its answer.
	bm25Share = 0.3
	// passageCoverage scales the share of the question the passage holds
	// in its sentences together, when no one sentence holds as much.
	passageCoverage = 0.8
)

// maxSearchK bounds how many passages one Search returns.
const maxSearchK = 100

// Source names that are not folders.
const (
	// ExampleSource is the built-in example knowledge base, which seeds an
	// empty knowledge base.
	ExampleSource = "example"
	// LegacySource holds documents stored before the knowledge base had
	// sources, unless WithLegacyKBSource says where they came from.
	LegacySource = "earlier"
)

// Doc describes one ingested document. A document is identified by its
// source and its path within it, so two returns.md of two folders are two
// documents.
type Doc struct {
	// Source is what was ingested: a folder or a file as an absolute path,
	// or ExampleSource.
	Source string `json:"source"`
	// Path is the document's path within its source, with forward slashes
	// ("shipping.md", "faq/zh.md").
	Path string `json:"path"`
	// Title is the document's first level-one heading (or HTML title),
	// else its file name without extension.
	Title    string    `json:"title,omitempty"`
	Format   string    `json:"format,omitempty"`
	Passages int       `json:"passages"`
	Bytes    int       `json:"bytes"`
	Hash     string    `json:"hash"` // SHA-256 of the content, hex
	Ingested time.Time `json:"ingested"`
}

// Name is how the document is named to a person: its path within its
// source.
func (d Doc) Name() string { return d.Path }

// docKey is the storage key of a document.
func docKey(source, p string) string { return source + "\x00" + p }

// SourceInfo sums up one source.
type SourceInfo struct {
	Name     string    `json:"name"`
	Docs     int       `json:"docs"`
	Passages int       `json:"passages"`
	Ingested time.Time `json:"ingested"` // the latest document's
}

// IngestReport says what one ingest of a source did; documents are named
// by their path within the source.
type IngestReport struct {
	Source    string   `json:"source"`
	Added     []string `json:"added,omitempty"`
	Updated   []string `json:"updated,omitempty"`
	Unchanged []string `json:"unchanged,omitempty"`
	Removed   []string `json:"removed,omitempty"`
	// Skipped lists files not ingested, each with the reason.
	Skipped []string `json:"skipped,omitempty"`
	// Passages is the number of passages written.
	Passages int `json:"passages"`
	// ExampleRemoved is set when the built-in example, which only seeds
	// an empty knowledge base, was removed because this source brought
	// documents of the user's own.
	ExampleRemoved bool `json:"example_removed,omitempty"`
}

// KB is the knowledge base: documents grouped by source, their passages
// kept by a KBStore (the bbolt file, or PostgreSQL), and an in-memory BM25
// inverted index over them, built at start and updated on every change, so
// Search never touches the disk. Search may run concurrently with
// everything; changes are serialised.
type KB struct {
	st       KBStore
	now      func() time.Time
	readOnly bool

	wmu sync.Mutex // serialises changes (disk, then index)

	mu   sync.RWMutex // guards the fields below
	docs map[string]Doc
	idx  index

	scratch sync.Pool
}

var _ bot.Knowledge = (*KB)(nil)

type kbPassage struct {
	doc     string // docKey
	path    string
	title   string
	heading string
	text    string
	ord     int // position in its document
	length  int // tokens
	// ctx is what the heading and the document's title and name give
	// each sentence; sents are the sentences' own terms.
	ctx   textkit.Context
	sents []kbSentence
}

// kbSentence is what Search matches of one sentence of a passage.
type kbSentence struct {
	terms textkit.SortedSet
	kinds textkit.Kind
	// follows is set when the sentence before is of the same paragraph.
	follows bool
}

type posting struct {
	id uint32
	tf uint32
}

// index is an inverted index; ids are positions in pass, and removed
// passages leave a nil until the next compaction.
type index struct {
	// words holds one copy of each term string the sentences use.
	words    map[string]string
	pass     []*kbPassage
	byDoc    map[string][]uint32
	post     map[string][]posting
	live     int
	totalLen int
	// version counts the changes: every add and remove moves it.
	version uint64
}

func newIndex() index {
	return index{byDoc: map[string][]uint32{}, post: map[string][]posting{}, words: map[string]string{}}
}

// headingWeight is how many times a passage's heading and its document's
// name count against its text: a question about "shipping times" belongs
// to the section called that more than to a passage that mentions
// shipping once.
const headingWeight = 3

// passageTerms are what BM25 counts of a passage: its text's terms, its
// heading's headingWeight times and its document's one time fewer.
func passageTerms(p *kbPassage) []string {
	terms := textkit.IndexTerms(p.text)
	for i := 0; i < headingWeight; i++ {
		terms = append(terms, p.ctx.Heading...)
	}
	for i := 0; i < headingWeight-1; i++ {
		terms = append(terms, p.ctx.Title...)
	}
	return terms
}

// addSentences fills the passage's context and sentence terms, their
// strings shared with the rest of the index (a knowledge base repeats its
// words in thousands of sentences).
func (ix *index) addSentences(p *kbPassage) {
	intern := func(ts textkit.SortedSet) textkit.SortedSet {
		for i, t := range ts {
			if c, ok := ix.words[t]; ok {
				ts[i] = c
			} else {
				ix.words[t] = t
			}
		}
		return ts
	}
	p.ctx = textkit.PassageContext(p.heading, p.title, p.path)
	p.ctx.Heading, p.ctx.Title = intern(p.ctx.Heading), intern(p.ctx.Title)
	for _, para := range textkit.Paragraphs(p.text) {
		for i, s := range para {
			p.sents = append(p.sents, kbSentence{terms: intern(textkit.IndexTermSet(s)), kinds: textkit.Kinds(s), follows: i > 0})
		}
	}
	p.sents = slices.Clip(p.sents)
}

func (ix *index) add(d Doc, chunks []TextChunk) {
	ix.version++
	key := docKey(d.Source, d.Path)
	for i, c := range chunks {
		p := &kbPassage{doc: key, path: d.Path, title: d.Title, heading: c.Heading, text: c.Text, ord: i}
		ix.addSentences(p)
		terms := passageTerms(p)
		p.length = len(terms)
		id := uint32(len(ix.pass))
		ix.pass = append(ix.pass, p)
		ix.byDoc[key] = append(ix.byDoc[key], id)
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

func (ix *index) remove(key string) {
	ix.version++
	ids := ix.byDoc[key]
	if len(ids) == 0 {
		delete(ix.byDoc, key)
		return
	}
	gone := map[uint32]bool{}
	terms := map[string]bool{}
	for _, id := range ids {
		p := ix.pass[id]
		for _, t := range passageTerms(p) {
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
	delete(ix.byDoc, key)
	if len(ix.pass) > 2*ix.live+1024 {
		ix.compact()
	}
}

// compact renumbers the live passages, dropping the holes removals left.
func (ix *index) compact() {
	old, version := ix.pass, ix.version
	*ix = newIndex()
	ix.version = version // the re-adds below move it on
	type docChunks struct {
		d      Doc
		chunks []TextChunk
	}
	byDoc := map[string]*docChunks{}
	var order []string
	for _, p := range old {
		if p == nil {
			continue
		}
		dc := byDoc[p.doc]
		if dc == nil {
			src, _, _ := strings.Cut(p.doc, "\x00")
			dc = &docChunks{d: Doc{Source: src, Path: p.path, Title: p.title}}
			byDoc[p.doc] = dc
			order = append(order, p.doc)
		}
		dc.chunks = append(dc.chunks, TextChunk{Heading: p.heading, Text: p.text})
	}
	for _, k := range order {
		ix.add(byDoc[k].d, byDoc[k].chunks)
	}
}

// storedDoc reads a document record, old or new. A record of before
// sources has its path in "source" and no "path".
func storedDoc(v []byte) (Doc, bool, error) {
	var d Doc
	if err := json.Unmarshal(v, &d); err != nil {
		return Doc{}, false, err
	}
	if d.Path == "" {
		d.Path, d.Source = d.Source, ""
		return d, true, nil
	}
	return d, false, nil
}

// loadKB reads every stored passage into a fresh index, first moving
// documents stored before sources existed into the source legacy names
// (LegacySource when nil). A read-only store moves them in memory only.
func loadKB(s *Store, legacy func(path, hash string) string) (*KB, error) {
	if legacy == nil {
		legacy = func(string, string) string { return LegacySource }
	}
	type old struct {
		key []byte
		d   Doc
	}
	var olds []old
	err := s.db.View(func(tx *bolt.Tx) error {
		docs := tx.Bucket(bKBDocs)
		if docs == nil {
			return nil
		}
		return docs.ForEach(func(k, v []byte) error {
			d, isOld, err := storedDoc(v)
			if err != nil {
				return err
			}
			if isOld {
				d.Source = legacy(d.Path, d.Hash)
				d.Format = FormatOf(d.Path)
				if d.Title == "" {
					d.Title = titleFromName(d.Path)
				}
				olds = append(olds, old{key: slices.Clone(k), d: d})
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load knowledge base: %w", err)
	}
	if len(olds) > 0 && !s.readOnly {
		// Move each old document to its new key, passages and all, in
		// one transaction: a crash leaves either layout, never both.
		err := s.db.Update(func(tx *bolt.Tx) error {
			docs, pass := tx.Bucket(bKBDocs), tx.Bucket(bKBPass)
			for _, o := range olds {
				nk := nameKey(docKey(o.d.Source, o.d.Path))
				if ob := pass.Bucket(o.key); ob != nil {
					nb, err := pass.CreateBucketIfNotExists(nk)
					if err != nil {
						return err
					}
					if err := ob.ForEach(func(k, v []byte) error { return nb.Put(slices.Clone(k), slices.Clone(v)) }); err != nil {
						return err
					}
					if err := pass.DeleteBucket(o.key); err != nil {
						return err
					}
				}
				body, err := json.Marshal(o.d)
				if err != nil {
					return err
				}
				if err := docs.Delete(o.key); err != nil {
					return err
				}
				if err := docs.Put(nk, body); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("load knowledge base: move documents into sources: %w", err)
		}
		olds = nil
	}
	oldByKey := map[string]Doc{}
	for _, o := range olds {
		oldByKey[string(o.key)] = o.d
	}
	kb, err := NewKB(context.Background(), boltKB{s: s, legacy: oldByKey}, s.now)
	if err != nil {
		return nil, fmt.Errorf("load knowledge base: %w", err)
	}
	kb.readOnly = s.readOnly
	return kb, nil
}

// cleanPath normalises a document path to a relative slash path.
func cleanPath(name string) string {
	return strings.TrimLeft(path.Clean("/"+filepath.ToSlash(cleanText(name))), "/")
}

// SourceName is the source name of a folder or file as given on the
// command line or in the config: its absolute, cleaned path.
func SourceName(p string) (string, error) {
	if p == ExampleSource || p == LegacySource {
		return p, nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("memory: kb source %s: %w", p, err)
	}
	return filepath.Clean(abs), nil
}

// IngestFile stores content as the document name of source, replacing
// that document's passages, and leaves the source's other documents alone.
// The format comes from the name's extension (FormatOf). It reports
// false, and writes nothing, when the stored copy has the same content
// hash.
func (kb *KB) IngestFile(ctx context.Context, source, name string, content []byte) (bool, error) {
	_, changed, err := kb.ingest(ctx, source, name, content)
	return changed, err
}

func (kb *KB) ingest(ctx context.Context, source, name string, content []byte) (Doc, bool, error) {
	p := cleanPath(name)
	if p == "" || p == "." {
		return Doc{}, false, fmt.Errorf("memory: kb ingest: empty document name")
	}
	if strings.TrimSpace(source) == "" {
		return Doc{}, false, fmt.Errorf("memory: kb ingest %s: empty source name", p)
	}
	if len(content) > MaxDocBytes {
		return Doc{}, false, fmt.Errorf("memory: kb ingest %s: %d bytes is over the %d limit", p, len(content), MaxDocBytes)
	}
	if err := ctx.Err(); err != nil {
		return Doc{}, false, fmt.Errorf("memory: kb ingest %s: %w", p, err)
	}
	if kb.readOnly {
		return Doc{}, false, fmt.Errorf("memory: kb ingest %s: %w", p, ErrReadOnly)
	}
	sum := sha256.Sum256(content)
	hash := hex.EncodeToString(sum[:])
	key := docKey(source, p)
	kb.wmu.Lock()
	defer kb.wmu.Unlock()
	kb.mu.RLock()
	old, had := kb.docs[key]
	kb.mu.RUnlock()
	if had && old.Hash == hash {
		return old, false, nil
	}
	ex, err := extract(p, content)
	if err != nil {
		return Doc{}, false, fmt.Errorf("memory: kb ingest %s: %w", p, err)
	}
	d := Doc{Source: source, Path: p, Title: ex.title, Format: ex.format, Passages: len(ex.chunks), Bytes: len(content), Hash: hash, Ingested: kb.now().UTC()}
	if err := kb.st.PutKBDoc(ctx, d, ex.chunks); err != nil {
		return Doc{}, false, fmt.Errorf("memory: kb ingest %s: %w", p, err)
	}
	kb.mu.Lock()
	kb.idx.remove(key)
	kb.idx.add(d, ex.chunks)
	kb.docs[key] = d
	kb.mu.Unlock()
	return d, true, nil
}

// docFile is one file of a source to ingest.
type docFile struct {
	path string // within the source
	size int64
	read func() ([]byte, error)
}

// Ingest makes the source named by dir (a folder, or a single file)
// mirror it: every supported file under it (SupportedExtensions) is
// ingested, those whose content hash is unchanged skipped, and documents
// of this source no longer there are removed. Other sources are left
// alone, except the built-in example, which goes when this source brings
// documents (it only seeds an empty knowledge base). A file that can't be
// read or used is listed in Skipped with the reason; hidden files and
// folders are listed there too, and not read. Nothing is removed when dir
// can't be read.
func (kb *KB) Ingest(ctx context.Context, dir string) (IngestReport, error) {
	source, err := SourceName(dir)
	if err != nil {
		return IngestReport{}, err
	}
	fi, err := os.Stat(source)
	if err != nil {
		return IngestReport{Source: source}, fmt.Errorf("memory: kb ingest %s: %w", dir, err)
	}
	var files []docFile
	var skipped []string
	if !fi.IsDir() {
		files = []docFile{{path: filepath.Base(source), size: fi.Size(), read: func() ([]byte, error) { return os.ReadFile(source) }}}
	} else {
		err = filepath.WalkDir(source, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				if p == source {
					return err
				}
				rel, _ := filepath.Rel(source, p)
				skipped = append(skipped, fmt.Sprintf("%s: %v", filepath.ToSlash(rel), errors.Unwrap(err)))
				return nil
			}
			rel, err := filepath.Rel(source, p)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if p != source && strings.HasPrefix(de.Name(), ".") {
				if de.IsDir() {
					skipped = append(skipped, rel+"/: hidden folder, not read")
					return filepath.SkipDir
				}
				skipped = append(skipped, rel+": hidden file, not read")
				return nil
			}
			if de.IsDir() {
				return nil
			}
			info, err := de.Info()
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", rel, err))
				return nil
			}
			if !info.Mode().IsRegular() {
				skipped = append(skipped, rel+": not a regular file")
				return nil
			}
			files = append(files, docFile{path: rel, size: info.Size(), read: func() ([]byte, error) { return os.ReadFile(p) }})
			return nil
		})
		if err != nil {
			return IngestReport{Source: source}, fmt.Errorf("memory: kb ingest %s: %w", dir, err)
		}
	}
	rep, err := kb.sync(ctx, source, files)
	rep.Skipped = append(skipped, rep.Skipped...)
	slices.Sort(rep.Skipped)
	return rep, err
}

// IngestFS makes source mirror fsys, as Ingest does for a folder: the
// built-in example knowledge base comes in this way.
func (kb *KB) IngestFS(ctx context.Context, source string, fsys fs.FS) (IngestReport, error) {
	var files []docFile
	err := fs.WalkDir(fsys, ".", func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		info, err := de.Info()
		if err != nil {
			return err
		}
		files = append(files, docFile{path: p, size: info.Size(), read: func() ([]byte, error) { return fs.ReadFile(fsys, p) }})
		return nil
	})
	if err != nil {
		return IngestReport{Source: source}, fmt.Errorf("memory: kb ingest %s: %w", source, err)
	}
	return kb.sync(ctx, source, files)
}

// sync ingests files as source and removes the source's documents not
// among them.
func (kb *KB) sync(ctx context.Context, source string, files []docFile) (IngestReport, error) {
	rep := IngestReport{Source: source}
	seen := map[string]bool{}
	for _, f := range files {
		p := cleanPath(f.path)
		seen[p] = true
		if FormatOf(p) == "" {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %s %q (the knowledge base reads %s)", p, ErrUnsupported, path.Ext(p), SupportedExtensions))
			continue
		}
		if f.size > MaxDocBytes {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %d bytes is over the %d limit", p, f.size, MaxDocBytes))
			continue
		}
		content, err := f.read()
		if err != nil {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		kb.mu.RLock()
		_, had := kb.docs[docKey(source, p)]
		kb.mu.RUnlock()
		d, changed, err := kb.ingest(ctx, source, p, content)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrReadOnly) {
				return rep, err
			}
			var uerr interface{ Unwrap() error }
			if errors.As(err, &uerr) {
				err = uerr.Unwrap()
			}
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %v", p, err))
			// A document that can no longer be read keeps its old
			// passages rather than vanishing.
			continue
		}
		switch {
		case !changed:
			rep.Unchanged = append(rep.Unchanged, p)
		case had:
			rep.Updated = append(rep.Updated, p)
			rep.Passages += d.Passages
		default:
			rep.Added = append(rep.Added, p)
			rep.Passages += d.Passages
		}
	}
	for _, d := range kb.docsOf(source) {
		if seen[d.Path] {
			continue
		}
		if err := kb.Remove(ctx, source, d.Path); err != nil {
			return rep, err
		}
		rep.Removed = append(rep.Removed, d.Path)
	}
	if source != ExampleSource && len(kb.docsOf(source)) > 0 && len(kb.docsOf(ExampleSource)) > 0 {
		if _, err := kb.RemoveSource(ctx, ExampleSource); err != nil {
			return rep, err
		}
		rep.ExampleRemoved = true
	}
	for _, l := range [][]string{rep.Added, rep.Updated, rep.Unchanged, rep.Removed, rep.Skipped} {
		slices.Sort(l)
	}
	return rep, nil
}

func (kb *KB) docsOf(source string) []Doc {
	kb.mu.RLock()
	defer kb.mu.RUnlock()
	var out []Doc
	for _, d := range kb.docs {
		if d.Source == source {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b Doc) int { return cmp.Compare(a.Path, b.Path) })
	return out
}

// List returns the ingested documents, sorted by source, then path.
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
	slices.SortFunc(out, func(a, b Doc) int {
		if c := cmp.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return cmp.Compare(a.Path, b.Path)
	})
	return out, nil
}

// Sources sums up the sources, sorted by name.
func (kb *KB) Sources(ctx context.Context) ([]SourceInfo, error) {
	docs, err := kb.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []SourceInfo
	for _, d := range docs {
		if len(out) == 0 || out[len(out)-1].Name != d.Source {
			out = append(out, SourceInfo{Name: d.Source})
		}
		si := &out[len(out)-1]
		si.Docs++
		si.Passages += d.Passages
		if d.Ingested.After(si.Ingested) {
			si.Ingested = d.Ingested
		}
	}
	return out, nil
}

// Len returns the number of passages indexed.
func (kb *KB) Len() int {
	kb.mu.RLock()
	defer kb.mu.RUnlock()
	return kb.idx.live
}

// Version implements bot.VersionedKnowledge: it changes whenever the
// index does (a document added, replaced or removed, here or, on a shared
// store, reloaded from another replica's change), so that a search result
// kept with the version it was made at is current while they match.
func (kb *KB) Version() uint64 {
	kb.mu.RLock()
	defer kb.mu.RUnlock()
	return kb.idx.version
}

// Remove deletes one document of a source and its passages;
// bot.ErrNotFound when there is no such document.
func (kb *KB) Remove(ctx context.Context, source, docPath string) error {
	p := cleanPath(docPath)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: kb remove %s: %w", p, err)
	}
	if kb.readOnly {
		return fmt.Errorf("memory: kb remove %s: %w", p, ErrReadOnly)
	}
	key := docKey(source, p)
	kb.wmu.Lock()
	defer kb.wmu.Unlock()
	kb.mu.RLock()
	_, had := kb.docs[key]
	kb.mu.RUnlock()
	if !had {
		return fmt.Errorf("memory: kb remove %s from %s: %w", p, source, bot.ErrNotFound)
	}
	err := kb.st.RemoveKBDoc(ctx, source, p)
	if err != nil {
		return fmt.Errorf("memory: kb remove %s: %w", p, err)
	}
	kb.mu.Lock()
	kb.idx.remove(key)
	delete(kb.docs, key)
	kb.mu.Unlock()
	return nil
}

// RemoveSource deletes every document of a source and returns how many;
// bot.ErrNotFound when the source has none.
func (kb *KB) RemoveSource(ctx context.Context, source string) (int, error) {
	docs := kb.docsOf(source)
	if len(docs) == 0 {
		return 0, fmt.Errorf("memory: kb remove source %s: %w", source, bot.ErrNotFound)
	}
	for i, d := range docs {
		if err := kb.Remove(ctx, source, d.Path); err != nil {
			return i, err
		}
	}
	return len(docs), nil
}

// ErrAmbiguous is returned (wrapped) by Resolve when a document path names
// documents of several sources.
var ErrAmbiguous = errors.New("memory: names more than one document")

// Resolve finds what a person means by arg in `kb remove`: a source (by
// its name, or a folder or file path that resolves to one), a document as
// SOURCE/PATH, or a document path that only one source has. docPath is
// empty when arg names a whole source. It fails with bot.ErrNotFound, or
// ErrAmbiguous naming the candidates.
func (kb *KB) Resolve(ctx context.Context, arg string) (source, docPath string, err error) {
	docs, err := kb.List(ctx)
	if err != nil {
		return "", "", err
	}
	arg = strings.TrimSpace(arg)
	cands := []string{arg}
	if abs, err := SourceName(arg); err == nil && abs != arg {
		cands = append(cands, abs)
	}
	for _, c := range cands {
		for _, d := range docs {
			if d.Source == c {
				return d.Source, "", nil
			}
		}
	}
	for _, c := range cands {
		for _, d := range docs {
			if rest, ok := strings.CutPrefix(c, d.Source+"/"); ok && cleanPath(rest) == d.Path {
				return d.Source, d.Path, nil
			}
			if rest, ok := strings.CutPrefix(c, d.Source+string(filepath.Separator)); ok && cleanPath(rest) == d.Path {
				return d.Source, d.Path, nil
			}
		}
	}
	p := cleanPath(arg)
	var hits []Doc
	for _, d := range docs {
		if d.Path == p {
			hits = append(hits, d)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0].Source, hits[0].Path, nil
	case 0:
		return "", "", fmt.Errorf("memory: kb: no source or document %q: %w", arg, bot.ErrNotFound)
	}
	var names []string
	for _, d := range hits {
		names = append(names, d.Source+"/"+d.Path)
	}
	return "", "", fmt.Errorf("%w: %q is %s", ErrAmbiguous, arg, strings.Join(names, ", "))
}

type searchScratch struct {
	scores  []float64
	best    []float64 // one concept's best contribution per passage
	touched []uint32
	cTouch  []uint32
}

// Search implements bot.Knowledge: the k passages that best answer query,
// best first. The question is read by textkit.ParseQuery: each content
// word a concept, found in a passage in its own words, through the
// thesaurus (textkit.SynonymCredit) or, for Chinese, by its characters
// (textkit.CharCredit), and weighted by its inverse document frequency (a
// word the knowledge base never uses weighing the most). BM25 (k1 1.2,
// b 0.75) over whole passages finds the candidates; then each candidate's
// sentences are matched with its heading and document title as context,
// and a passage ranks by its best sentence (more when it states the kind of
// fact asked for, a duration for "how long", or its heading names it) plus a share of
// its BM25 score. Ties go to the earlier document and passage.
//
// Each passage's Relevance is the share of the question's weight its best
// sentence holds (or, scaled by passageCoverage, the passage as a whole):
// 1 when it holds every word, near 0 when it only shares common words.
// It reads only the in-memory index. Passages that share no term with the
// query are never returned.
func (kb *KB) Search(ctx context.Context, query string, k int) ([]bot.Passage, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: kb search: %w", err)
	}
	if k <= 0 {
		return nil, nil
	}
	k = min(k, maxSearchK)
	q := textkit.ParseQuery(query)

	kb.mu.RLock()
	defer kb.mu.RUnlock()
	ix := &kb.idx
	if ix.live == 0 || len(q.Concepts) == 0 {
		return nil, nil
	}
	sc, _ := kb.scratch.Get().(*searchScratch)
	if sc == nil {
		sc = &searchScratch{}
	}
	defer kb.scratch.Put(sc)
	if len(sc.scores) < len(ix.pass) {
		sc.scores = make([]float64, len(ix.pass))
		sc.best = make([]float64, len(ix.pass))
	}
	sc.touched = sc.touched[:0]
	n := float64(ix.live)
	avgdl := float64(ix.totalLen) / n
	if avgdl == 0 {
		avgdl = 1
	}
	idf := func(t string) float64 {
		df := float64(len(ix.post[t]))
		return math.Log(1 + (n-df+0.5)/(df+0.5))
	}
	w := q.Weights(func(_ int, c textkit.Concept) float64 {
		v := 0.0
		for _, t := range c.Terms {
			v = max(v, idf(t))
		}
		return v
	})
	// BM25 with each concept counted once per passage: its best form.
	for ci, c := range q.Concepts {
		cw := w[ci]
		sc.cTouch = sc.cTouch[:0]
		form := func(t string, credit float64) {
			for _, p := range ix.post[t] {
				tf := float64(p.tf)
				dl := float64(ix.pass[p.id].length)
				v := credit * cw * tf * (bm25K1 + 1) / (tf + bm25K1*(1-bm25B+bm25B*dl/avgdl))
				if sc.best[p.id] == 0 {
					sc.cTouch = append(sc.cTouch, p.id)
				}
				sc.best[p.id] = max(sc.best[p.id], v)
			}
		}
		for _, t := range c.Terms {
			form(t, 1/float64(len(c.Terms)))
		}
		for _, syn := range c.Synonyms {
			for _, t := range syn {
				form(t, textkit.SynonymCredit/float64(len(syn)))
			}
		}
		for _, syn := range c.OneWay {
			for _, t := range syn {
				form(t, textkit.OneWayCredit/float64(len(syn)))
			}
		}
		// Characters are the fallback for a Chinese word the knowledge
		// base doesn't have as a word (segmented differently).
		if len(ix.post[c.Terms[0]]) == 0 {
			for _, t := range c.Chars {
				form(t, textkit.CharCredit)
			}
		}
		for _, id := range sc.cTouch {
			if sc.scores[id] == 0 {
				sc.touched = append(sc.touched, id)
			}
			sc.scores[id] += sc.best[id]
			sc.best[id] = 0
		}
	}
	type hit struct {
		id         uint32
		bm25       float64
		score, rel float64
	}
	// The best BM25 passages, best first, kept by insertion: most
	// passages fall below the last and cost one comparison.
	m := max(searchCandidates, 4*k)
	cands := make([]hit, 0, m+1)
	for _, id := range sc.touched {
		v := sc.scores[id]
		sc.scores[id] = 0
		if len(cands) == m && v <= cands[m-1].bm25 {
			continue
		}
		i, _ := slices.BinarySearchFunc(cands, v, func(h hit, v float64) int { return cmp.Compare(v, h.bm25) })
		cands = slices.Insert(cands, i, hit{id: id, bm25: v})
		if len(cands) > m {
			cands = cands[:m]
		}
	}
	credits := make([]float64, len(w))
	// Every term Match looks up is one of the query's: each sentence's,
	// heading's and title's terms are cut down to those first (one merge
	// of two sorted lists), so that the many lookups that follow search
	// sets of a term or two. The credits are the same.
	var qterms textkit.SortedSet
	if keepQueryTerms {
		qterms = textkit.NewSortedSet(q.AllTerms())
	}
	var kept []string
	for i := range cands {
		h := &cands[i]
		p := ix.pass[h.id]
		clear(credits)
		kept = kept[:0]
		ctx := p.ctx
		if keepQueryTerms {
			ctx.Heading, kept = keepTerms(kept, ctx.Heading, qterms)
			ctx.Title, kept = keepTerms(kept, ctx.Title, qterms)
		}
		best, rel := 0.0, 0.0
		var prev textkit.SortedSet
		for _, s := range p.sents {
			var before textkit.SortedSet
			terms := s.terms
			if keepQueryTerms {
				terms, kept = keepTerms(kept, s.terms, qterms)
			}
			if s.follows {
				before = prev
			}
			prev = terms
			u := ctx.Unit(terms, s.kinds, before)
			m := q.Match(u, w, credits)
			best = max(best, m.Rank)
			rel = max(rel, m.Coverage)
		}
		h.rel = max(rel, passageCoverage*textkit.Coverage(credits, w))
		h.score = best + bm25Share*h.bm25
	}
	better := func(a, b hit) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		pa, pb := ix.pass[a.id], ix.pass[b.id]
		if pa.doc != pb.doc {
			return cmp.Compare(pa.doc, pb.doc)
		}
		return cmp.Compare(pa.ord, pb.ord)
	}
	slices.SortFunc(cands, better)
	cands = cands[:min(len(cands), k)]
	out := make([]bot.Passage, len(cands))
	for i, h := range cands {
		p := ix.pass[h.id]
		out[i] = bot.Passage{Source: p.path, Title: p.title, Heading: p.heading, Text: p.text, Score: h.score, Relevance: min(h.rel, 1)}
	}
	return out, nil
}

// keepQueryTerms turns the cut to the query's terms on; a test compares
// the search with and without it.
var keepQueryTerms = true

// keepTerms appends to buf the terms of s that are also in q (both
// sorted) and returns them, a SortedSet sharing buf, with buf.
func keepTerms(buf []string, s, q textkit.SortedSet) (textkit.SortedSet, []string) {
	start := len(buf)
	for i, j := 0, 0; i < len(s) && j < len(q); {
		switch {
		case s[i] < q[j]:
			i++
		case s[i] > q[j]:
			j++
		default:
			buf = append(buf, s[i])
			i++
			j++
		}
	}
	return textkit.SortedSet(buf[start:len(buf):len(buf)]), buf
}

// String summarises the report on one line, for logs and the CLI.
func (r IngestReport) String() string {
	s := fmt.Sprintf("%s: %d added, %d updated, %d unchanged, %d removed, %d passages written",
		r.Source, len(r.Added), len(r.Updated), len(r.Unchanged), len(r.Removed), r.Passages)
	if len(r.Skipped) > 0 {
		s += fmt.Sprintf("; %d skipped: %s", len(r.Skipped), strings.Join(r.Skipped, "; "))
	}
	if r.ExampleRemoved {
		s += "; the built-in example knowledge base was removed (it only fills an empty one)"
	}
	return s
}
