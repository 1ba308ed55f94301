package gbdt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Format constants of the binary model encoding (see the package
// documentation).
const (
	// Magic opens every encoded model.
	Magic = "SLWGBDT"
	// FormatVersion is the version byte this package writes.
	FormatVersion = 1
)

const (
	kindLeaf        = 0
	kindNumeric     = 1
	kindCategorical = 2
)

var objectiveCodes = []string{ObjectiveBinary, ObjectiveRegression}

// MarshalBinary encodes the model in the versioned little-endian format
// described in the package documentation.
func (m *Model) MarshalBinary() ([]byte, error) {
	code := -1
	for i, o := range objectiveCodes {
		if o == m.objective {
			code = i
		}
	}
	if code < 0 {
		return nil, fmt.Errorf("gbdt: marshal: unknown objective %q", m.objective)
	}
	b := make([]byte, 0, 64+len(m.trees)*64*33)
	b = append(b, Magic...)
	b = append(b, FormatVersion, byte(code))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.baseScore))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m.names)))
	for j, name := range m.names {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(name)))
		b = append(b, name...)
		b = binary.LittleEndian.AppendUint32(b, uint32(m.categories[j]))
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m.trees)))
	for _, t := range m.trees {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t)))
		for i := range t {
			n := &t[i]
			if n.feature < 0 {
				b = append(b, kindLeaf)
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(n.value))
				continue
			}
			kind := byte(kindNumeric)
			if n.flags&flagCategorical != 0 {
				kind = kindCategorical
			}
			b = append(b, kind)
			b = binary.LittleEndian.AppendUint32(b, uint32(n.feature))
			b = append(b, n.flags&flagDefaultLeft)
			b = binary.LittleEndian.AppendUint32(b, uint32(n.left))
			b = binary.LittleEndian.AppendUint32(b, uint32(n.right))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(n.gain))
			if kind == kindNumeric {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(n.threshold))
				continue
			}
			b = binary.LittleEndian.AppendUint32(b, uint32(len(n.set)))
			for _, w := range n.set {
				b = binary.LittleEndian.AppendUint64(b, w)
			}
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// reader decodes little-endian values, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errors.New("unexpected end of data")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if v := r.take(8); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

func (r *reader) f64() float64 { return math.Float64frombits(r.u64()) }

// count reads a count of items of at least minSize bytes each and checks
// that they can fit in the rest of the data.
func (r *reader) count(what string, minSize int) int {
	n := r.u32()
	if r.err == nil && uint64(n)*uint64(minSize) > uint64(len(r.b)) {
		r.err = fmt.Errorf("%s count %d exceeds the data", what, n)
	}
	return int(n)
}

// UnmarshalBinary decodes a model written by MarshalBinary, replacing m.
// It checks the magic, version, checksum and the structure of every tree,
// so arbitrary bytes give an error, never a model that loops or panics.
func (m *Model) UnmarshalBinary(b []byte) error {
	got, err := decode(b)
	if err != nil {
		return fmt.Errorf("gbdt: unmarshal: %w", err)
	}
	*m = *got
	return nil
}

func decode(b []byte) (*Model, error) {
	if len(b) < len(Magic)+1+4 || string(b[:len(Magic)]) != Magic {
		return nil, errors.New("not a gbdt model (bad magic)")
	}
	if v := b[len(Magic)]; v != FormatVersion {
		return nil, fmt.Errorf("format version %d, this build reads %d", v, FormatVersion)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("checksum mismatch")
	}
	r := &reader{b: body[len(Magic)+1:]}
	m := &Model{}
	code := int(r.u8())
	if r.err == nil && code >= len(objectiveCodes) {
		return nil, fmt.Errorf("unknown objective code %d", code)
	}
	m.objective = objectiveCodes[min(code, len(objectiveCodes)-1)]
	m.baseScore = r.f64()
	if r.err == nil && !finite(m.baseScore) {
		return nil, fmt.Errorf("base score %v", m.baseScore)
	}
	nf := r.count("feature", 8)
	for j := 0; j < nf && r.err == nil; j++ {
		name := r.take(int(r.count("name byte", 1)))
		k := r.u32()
		if r.err == nil && k > math.MaxInt32 {
			return nil, fmt.Errorf("feature %d: %d categories", j, k)
		}
		m.names = append(m.names, string(name))
		m.categories = append(m.categories, int(k))
	}
	nt := r.count("tree", 4+9)
	for ti := 0; ti < nt && r.err == nil; ti++ {
		nn := r.count("node", 9)
		if r.err == nil && nn == 0 {
			return nil, fmt.Errorf("tree %d has no nodes", ti)
		}
		t := make(tree, 0, nn)
		for i := 0; i < nn && r.err == nil; i++ {
			var n node
			switch kind := r.u8(); kind {
			case kindLeaf:
				n.feature = -1
				n.value = r.f64()
				if r.err == nil && !finite(n.value) {
					return nil, fmt.Errorf("tree %d node %d: leaf value %v", ti, i, n.value)
				}
			case kindNumeric, kindCategorical:
				f, dl := r.u32(), r.u8()
				left, right := r.u32(), r.u32()
				n.gain = r.f64()
				if r.err != nil {
					break
				}
				if f >= uint32(nf) {
					return nil, fmt.Errorf("tree %d node %d: feature %d of %d", ti, i, f, nf)
				}
				if dl > 1 {
					return nil, fmt.Errorf("tree %d node %d: default direction %d", ti, i, dl)
				}
				if left <= uint32(i) || right <= uint32(i) || left >= uint32(nn) || right >= uint32(nn) || left == right {
					return nil, fmt.Errorf("tree %d node %d: children %d and %d", ti, i, left, right)
				}
				n.feature, n.left, n.right, n.flags = int32(f), int32(left), int32(right), dl
				if kind == kindNumeric {
					n.threshold = r.f64()
					break
				}
				n.flags |= flagCategorical
				n.set = make([]uint64, r.count("category word", 8))
				for w := range n.set {
					n.set[w] = r.u64()
				}
			default:
				if r.err == nil {
					return nil, fmt.Errorf("tree %d node %d: unknown node kind %d", ti, i, kind)
				}
			}
			t = append(t, n)
		}
		m.trees = append(m.trees, t)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%d bytes after the last tree", len(r.b))
	}
	return m, nil
}
