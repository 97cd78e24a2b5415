package textclass

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// FormatVersion is the model file format written by MarshalBinary.
const FormatVersion = 1

// magic starts every model file (inside the gzip stream).
const magic = "TXCLASS\x00"

// ErrFormat is returned by Load for data that is not a model file of a
// version this package reads.
var ErrFormat = errors.New("textclass: not a model file")

// header is the JSON header of a model file.
type header struct {
	Version    int           `json:"version"`
	Labels     []string      `json:"labels"`
	Features   FeatureConfig `json:"features"`
	Provenance string        `json:"provenance"`
	Offsets    []float64     `json:"offsets"`
	Bias       []float32     `json:"bias"`
}

// MarshalBinary encodes the model: a gzip stream holding a magic string, a
// JSON header (format version, labels, feature config, provenance,
// offsets, biases), then the idf of each seen bucket and the non-zero
// weights of each class, as delta-coded indices and float16 values.
func (m *Model) MarshalBinary() ([]byte, error) {
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("textclass: marshal: %w", err)
	}
	w := bufio.NewWriter(zw)
	hdr, err := json.Marshal(header{Version: FormatVersion, Labels: m.Labels, Features: m.Features,
		Provenance: m.Provenance, Offsets: m.Offsets, Bias: m.bias})
	if err != nil {
		return nil, fmt.Errorf("textclass: marshal header: %w", err)
	}
	var tmp [binary.MaxVarintLen64]byte
	uv := func(x uint64) { w.Write(tmp[:binary.PutUvarint(tmp[:], x)]) }
	w.WriteString(magic)
	uv(uint64(len(hdr)))
	w.Write(hdr)

	// idf: count, then (delta index, uint16) pairs.
	writeSparse := func(vals []float32, enc func(float32) uint16) {
		n := 0
		for _, v := range vals {
			if v != 0 {
				n++
			}
		}
		uv(uint64(n))
		prev := -1
		for i, v := range vals {
			if v == 0 {
				continue
			}
			uv(uint64(i - prev))
			prev = i
			var b [2]byte
			binary.LittleEndian.PutUint16(b[:], enc(v))
			w.Write(b[:])
		}
	}
	idf, weights := m.dense()
	writeSparse(idf, encodeIDF)
	uv(uint64(len(weights)))
	for _, wc := range weights {
		writeSparse(wc, toHalf)
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("textclass: marshal: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("textclass: marshal: %w", err)
	}
	return out.Bytes(), nil
}

// LoadOption adjusts Load.
type LoadOption func(*Model)

// WithExtra supplies the dense-feature function of a model trained with
// FeatureConfig.Extra; code can't be stored in the file.
func WithExtra(f func(text string) []float64) LoadOption {
	return func(m *Model) { m.Features.Extra = f }
}

// Load reads a model written by MarshalBinary. A model whose features need
// an Extra function fails unless WithExtra is given.
func Load(r io.Reader, opts ...LoadOption) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	defer zr.Close()
	br := bufio.NewReader(zr)
	mg := make([]byte, len(magic))
	if _, err := io.ReadFull(br, mg); err != nil || string(mg) != magic {
		return nil, ErrFormat
	}
	fail := func(what string, err error) (*Model, error) {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, what, err)
	}
	hl, err := binary.ReadUvarint(br)
	if err != nil || hl > 1<<20 {
		return fail("header length", err)
	}
	hb := make([]byte, hl)
	if _, err := io.ReadFull(br, hb); err != nil {
		return fail("header", err)
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil {
		return fail("header", err)
	}
	if h.Version != FormatVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrFormat, h.Version, FormatVersion)
	}
	k := len(h.Labels)
	if k < 2 || len(h.Bias) != k || h.Features.HashBits < 1 || h.Features.HashBits > 26 || h.Features.ExtraDim < 0 || h.Features.ExtraDim > 1<<16 {
		return nil, fmt.Errorf("%w: inconsistent header", ErrFormat)
	}
	m := &Model{Labels: h.Labels, Features: h.Features, Provenance: h.Provenance, Offsets: h.Offsets, bias: h.Bias}
	if len(m.Offsets) != k {
		m.Offsets = make([]float64, k)
	}
	for _, o := range opts {
		o(m)
	}
	if m.Features.ExtraDim > 0 && m.Features.Extra == nil {
		return nil, fmt.Errorf("textclass: load: model needs %d extra features: pass WithExtra", m.Features.ExtraDim)
	}
	// readSparse reads a sparse vector of uint16 into dst (dense); it
	// reports whether any entry is non-zero.
	readSparse := func(dst []uint16) (bool, error) {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return false, err
		}
		if n > uint64(len(dst)) {
			return false, errors.New("too many entries")
		}
		pos := -1
		var b [2]byte
		any := false
		for ; n > 0; n-- {
			d, err := binary.ReadUvarint(br)
			if err != nil {
				return false, err
			}
			if d == 0 || d > uint64(len(dst)) || pos+int(d) >= len(dst) {
				return false, errors.New("index out of range")
			}
			pos += int(d)
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return false, err
			}
			dst[pos] = binary.LittleEndian.Uint16(b[:])
			// A float16 zero is 0x0000 or 0x8000; both add nothing.
			any = any || dst[pos]&0x7fff != 0
		}
		return any, nil
	}
	m.idfH = make([]uint16, m.Features.buckets())
	if _, err := readSparse(m.idfH); err != nil {
		return fail("idf", err)
	}
	nc, err := binary.ReadUvarint(br)
	if err != nil || nc != uint64(k) {
		return nil, fmt.Errorf("%w: class count", ErrFormat)
	}
	m.wH = make([][]uint16, k)
	for c := range m.wH {
		row := make([]uint16, m.Features.dim())
		nonZero, err := readSparse(row)
		if err != nil {
			return fail("weights", err)
		}
		if nonZero {
			m.wH[c] = row
		}
	}
	return m, nil
}

// idf is stored as a uint16 fixed-point number with 1/2048 resolution
// (idf lies between 1 and about 12).
const idfScale = 2048

func encodeIDF(v float32) uint16 {
	x := math.Round(float64(v) * idfScale)
	return uint16(min(max(x, 1), math.MaxUint16))
}

func decodeIDF(u uint16) float32 { return float32(u) / idfScale }

func roundIDF(v float32) float32 { return decodeIDF(encodeIDF(v)) }

// roundHalf rounds v to the nearest float16 value.
func roundHalf(v float32) float32 { return fromHalf(toHalf(v)) }

// toHalf converts to IEEE 754 binary16, rounding to nearest even, with
// overflow to infinity and underflow through subnormals to zero.
func toHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int((b >> 23) & 0xff)
	mant := b & 0x7fffff
	if exp == 0xff { // inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := mant >> shift
		rem := mant & ((1 << shift) - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := mant >> 13
	rem := mant & 0x1fff
	h := uint32(e)<<10 | r
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		h++ // may carry into the exponent, which is right
	}
	if h >= 0x7c00 {
		return sign | 0x7c00
	}
	return sign | uint16(h)
}

// halfTable is fromHalf of every binary16 value, for scoring a loaded
// model's weights without decoding each one.
var halfTable = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = fromHalf(uint16(i))
	}
	return &t
}()

// fromHalf converts IEEE 754 binary16 to float32.
func fromHalf(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		// subnormal: normalise
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | e<<23 | mant<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp-15+127)<<23 | mant<<13)
}
