package metrics

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// FuzzROCAUC decodes rows of 9 bytes (a label byte, then a float64 score)
// and checks that ROCAUC never panics, returns a value in [0, 1] or an
// error, and agrees with the brute-force Mann–Whitney statistic.
func FuzzROCAUC(f *testing.F) {
	row := func(label byte, score float64) []byte {
		b := make([]byte, 9)
		b[0] = label
		binary.LittleEndian.PutUint64(b[1:], math.Float64bits(score))
		return b
	}
	var seed []byte
	for i, s := range []float64{0.1, 0.4, 0.35, 0.8} {
		seed = append(seed, row(byte(i/2), s)...)
	}
	f.Add(seed)
	f.Add(append(row(0, 0.5), row(1, 0.5)...))
	f.Add(append(row(0, math.NaN()), row(1, 0.5)...))
	f.Add(append(row(0, math.Inf(-1)), row(1, 1e308)...))
	f.Add(append(row(2, 0.1), row(1, 0.5)...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 9
		y := make([]float64, n)
		p := make([]float64, n)
		for i := range n {
			b := data[9*i:]
			// Labels 0 and 1 mostly; other byte values give invalid labels.
			switch b[0] % 8 {
			case 6:
				y[i] = float64(b[0])
			case 7:
				y[i] = math.NaN()
			default:
				y[i] = float64(b[0] % 2)
			}
			p[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[1:9]))
		}
		auc, err := ROCAUC(y, p)
		if err != nil {
			if n > 0 && err.Error() == "" {
				t.Fatal("empty error message")
			}
			if n == 0 && !errors.Is(err, ErrEmpty) {
				t.Fatalf("empty input: %v", err)
			}
			return
		}
		if math.IsNaN(auc) || auc < 0 || auc > 1 {
			t.Fatalf("ROCAUC = %v, outside [0, 1]", auc)
		}
		if n <= 200 {
			if want := bruteAUC(y, p); math.Abs(auc-want) > 1e-12 {
				t.Fatalf("ROCAUC = %v, brute force %v", auc, want)
			}
		}
		if ap, err := PRAUC(y, p); err != nil || math.IsNaN(ap) || ap < 0 || ap > 1+1e-12 {
			t.Fatalf("PRAUC = %v, %v after ROCAUC succeeded", ap, err)
		}
	})
}
