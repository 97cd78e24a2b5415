package llm

import (
	_ "embed"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// o200kBin is the o200k_base vocabulary (OpenAI's tiktoken, MIT licence,
// as tiktoken-go-loader ships it), compacted: the length of each token in
// rank order, one byte each, then the tokens' bytes in rank order.
// TestO200kTable checks it against tiktoken-go-loader's copy and rewrites
// it with CHORUS_UPDATE_O200K=1. It stays in the binary's read-only data;
// only its index is built on the heap, on the first count.
//
//go:embed o200k.bin
var o200kBin string

// vocabTable finds a token's rank by its bytes and a rank's bytes.
type vocabTable struct {
	n    int
	data string   // the tokens' bytes, in rank order
	off  []uint32 // token r is data[off[r]:off[r+1]]
	// slots is an open-addressing hash table (linear probing, FNV-1a) of
	// rank+1 by token bytes; 0 is an empty slot.
	slots []uint32
	mask  uint32
}

// vocab returns the o200k_base table, indexed on first use (about 3 MB:
// 0.8 MB of offsets, 2 MB of hash slots), where tiktoken-go held the
// vocabulary in two Go maps (24 MB live).
var vocab = sync.OnceValue(func() *vocabTable {
	bin := o200kBin
	// The lengths come first, one byte per token: n is where they add
	// up to the rest of the file.
	n, sum := 0, 0
	for n < len(bin) && n+sum < len(bin) {
		sum += int(bin[n])
		n++
	}
	if n+sum != len(bin) {
		panic("llm: o200k.bin is corrupt")
	}
	v := &vocabTable{n: n, data: bin[n:], off: make([]uint32, n+1)}
	for r := range n {
		v.off[r+1] = v.off[r] + uint32(bin[r])
	}
	size := uint32(1)
	for size < uint32(2*n) {
		size <<= 1
	}
	v.slots, v.mask = make([]uint32, size), size-1
	for r := range n {
		i := fnv32(v.token(r)) & v.mask
		for v.slots[i] != 0 {
			i = (i + 1) & v.mask
		}
		v.slots[i] = uint32(r + 1)
	}
	return v
})

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// token is the bytes of rank r.
func (v *vocabTable) token(r int) string { return v.data[v.off[r]:v.off[r+1]] }

// rank is the rank of the token s, if s is one.
func (v *vocabTable) rank(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	for i := fnv32(s) & v.mask; ; i = (i + 1) & v.mask {
		r := v.slots[i]
		if r == 0 {
			return 0, false
		}
		if v.token(int(r-1)) == s {
			return int(r - 1), true
		}
	}
}

// spaceClass is what tiktoken's pattern means by \s (regexp2, .NET
// semantics): unicode.IsSpace, where Go's \s is ASCII only.
var spaceClass = func() string {
	var b strings.Builder
	for _, r := range unicode.White_Space.R16 {
		for c := r.Lo; c <= r.Hi; c += r.Stride {
			b.WriteString(`\x{` + strconv.FormatUint(uint64(c), 16) + `}`)
		}
	}
	for _, r := range unicode.White_Space.R32 {
		for c := r.Lo; c <= r.Hi; c += r.Stride {
			b.WriteString(`\x{` + strconv.FormatUint(uint64(c), 16) + `}`)
		}
	}
	return b.String()
}()

// pieceRE is o200k_base's pre-tokenizer pattern in Go's syntax, anchored:
// \s spelled out (spaceClass), the case-insensitive contractions spelled
// out in ASCII (regexp2 lowercases the text, Go would also fold 'ſ' to
// 's'), and the last two branches, `\s+(?!\S)|\s+`, as one captured `\s+`:
// Go has no lookahead, and count applies it (a whitespace run followed by
// a non-space leaves its last character to the next piece). It is
// compiled on the first count (its Unicode classes take about 2 MB).
var pieceRE = sync.OnceValue(func() *regexp.Regexp {
	const contraction = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?`
	s := `[` + spaceClass + `]`
	notS := `[^` + spaceClass + `\p{L}\p{N}]`
	return regexp.MustCompile(`^(?:` + strings.Join([]string{
		`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` + contraction,
		`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*` + contraction,
		`\p{N}{1,3}`,
		` ?` + notS + `+[\r\n/]*`,
		s + `*[\r\n]+`,
		`(` + s + `+)`,
	}, "|") + `)`)
})

// nextPiece is the length of the pre-tokenizer's piece at the start of
// text (not empty).
func nextPiece(text string) int {
	loc := pieceRE().FindStringSubmatchIndex(text)
	if loc == nil || loc[1] == 0 {
		// Every character starts some branch; never reached.
		_, n := utf8.DecodeRuneInString(text)
		return n
	}
	end := loc[1]
	if loc[2] >= 0 && end < len(text) {
		// `\s+(?!\S)`: a run followed by a non-space gives up its last
		// character, unless it is a single one (then `\s+` takes it).
		if _, last := utf8.DecodeLastRuneInString(text[:end]); last < end {
			end -= last
		}
	}
	return end
}

// validText is text as tiktoken-go reads it: it encodes []rune(text), so
// each invalid byte becomes U+FFFD.
func validText(text string) string {
	if utf8.ValidString(text) {
		return text
	}
	return string([]rune(text))
}

// pretokenize splits text as the pre-tokenizer does (for the tests).
func pretokenize(text string) []string {
	text = validText(text)
	var out []string
	for len(text) > 0 {
		n := nextPiece(text)
		out = append(out, text[:n])
		text = text[n:]
	}
	return out
}

// count is the number of o200k_base tokens of text, as tiktoken's
// encode_ordinary gives them.
func (v *vocabTable) count(text string) int {
	text = validText(text)
	n := 0
	for len(text) > 0 {
		p := nextPiece(text)
		n += v.pieceTokens(text[:p])
		text = text[p:]
	}
	return n
}

// pieceTokens is the number of tokens of one piece: one when the piece is
// a token, else what byte-pair merging by rank leaves (tiktoken's
// byte_pair_merge, ties to the leftmost pair).
func (v *vocabTable) pieceTokens(piece string) int {
	if len(piece) <= 1 {
		return len(piece)
	}
	if _, ok := v.rank(piece); ok {
		return 1
	}
	type part struct{ start, rank int }
	var buf [64]part
	parts := buf[:0]
	for i := 0; i <= len(piece); i++ {
		parts = append(parts, part{i, math.MaxInt})
	}
	rankOf := func(i, skip int) int {
		if i+skip+2 < len(parts) {
			if r, ok := v.rank(piece[parts[i].start:parts[i+skip+2].start]); ok {
				return r
			}
		}
		return math.MaxInt
	}
	for i := 0; i < len(parts)-2; i++ {
		parts[i].rank = rankOf(i, 0)
	}
	for len(parts) > 1 {
		minRank, i := math.MaxInt, -1
		for j := 0; j < len(parts)-1; j++ {
			if parts[j].rank < minRank {
				minRank, i = parts[j].rank, j
			}
		}
		if i < 0 {
			break
		}
		parts[i].rank = rankOf(i, 1)
		if i > 0 {
			parts[i-1].rank = rankOf(i-1, 1)
		}
		parts = append(parts[:i+1], parts[i+2:]...)
	}
	return len(parts) - 1
}
