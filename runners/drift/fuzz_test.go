package drift

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

var fuzzMethods = []string{"", MethodPSI, MethodKS, MethodWasserstein, MethodJSD, MethodChiSquare, MethodZ, "jensenshannon", "other"}

// fuzzColumn reads 8-byte floats (numeric) or one category per byte, 0
// being missing.
func fuzzColumn(b []byte, numeric bool) Column {
	if len(b) > 4096 {
		b = b[:4096]
	}
	if numeric {
		c := Column{Name: "f", Numbers: []float64{}}
		for len(b) >= 8 {
			c.Numbers = append(c.Numbers, math.Float64frombits(binary.LittleEndian.Uint64(b)))
			b = b[8:]
		}
		return c
	}
	c := Column{Name: "f", Categories: []string{}}
	for _, x := range b {
		if x == 0 {
			c.Categories = append(c.Categories, "")
		} else {
			c.Categories = append(c.Categories, fmt.Sprintf("k%d", x%7))
		}
	}
	return c
}

func f64s(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func FuzzFeature(f *testing.F) {
	f.Add(f64s(1, 2, 3), f64s(4, 5, 6), true, uint8(0), 0.0)
	f.Add(f64s(1, math.NaN(), 3), f64s(math.Inf(1)), true, uint8(2), 0.05)
	f.Add(f64s(0, 1e308, -1e308), f64s(5e-324), true, uint8(3), 0.1)
	f.Add([]byte{1, 2, 3, 0}, []byte{3, 4}, false, uint8(1), 0.2)
	f.Add([]byte{1, 1}, []byte{1}, false, uint8(6), 0.5)
	f.Add([]byte{}, []byte{1}, false, uint8(5), -1.0)
	f.Fuzz(func(t *testing.T, refB, curB []byte, numeric bool, m uint8, threshold float64) {
		ref, cur := fuzzColumn(refB, numeric), fuzzColumn(curB, numeric)
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		r, err := Feature(ref, cur, method, threshold)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if math.IsNaN(r.Statistic) || math.IsInf(r.Statistic, 0) {
			t.Fatalf("%s statistic %v is not finite", r.Method, r.Statistic)
		}
		if isPValue(r.Method) && (r.Statistic < 0 || r.Statistic > 1) {
			t.Fatalf("%s p-value %v outside [0, 1]", r.Method, r.Statistic)
		}
		if !isPValue(r.Method) && r.Statistic < -1e-12 {
			t.Fatalf("%s distance %v is negative", r.Method, r.Statistic)
		}
		bins := len(r.Categories)
		if r.Edges != nil {
			bins = len(r.Edges) - 1
		}
		if bins < 1 || len(r.Reference) != bins || len(r.Current) != bins {
			t.Fatalf("histogram of %d bins has %d/%d shares", bins, len(r.Reference), len(r.Current))
		}
		again, err := Feature(ref, cur, method, threshold)
		if err != nil || again.Statistic != r.Statistic || again.Drifted != r.Drifted {
			t.Fatalf("second run differs: %v %v", again, err)
		}
	})
}
