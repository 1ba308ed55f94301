package gpumlp

import (
	"math"
	"regexp"
	"strings"
	"testing"
)

// lazy is an emulator whose gemm leaves the last row of every output
// unwritten, as a kernel with a wrong bound would.
type lazy struct{ *emulator }

func (l lazy) gemm(g gemmArgs) error {
	if g.m > 1 {
		g.m--
	}
	return l.emulator.gemm(g)
}

// skewed is an emulator whose Adam step is slightly off, as a kernel with
// a different rounding would be.
type skewed struct{ *emulator }

func (s skewed) adam(a adamArgs) error {
	a.lr *= 1.001
	return s.emulator.adam(a)
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		be      backend
		wantErr string  // "" for none
		min     float64 // least relative error expected
	}{
		{"same arithmetic", newEmulator(), "", 0},
		{"unwritten row", lazy{newEmulator()}, "unwritten", 0},
		{"other rounding", skewed{newEmulator()}, "", 1e-7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := check(tc.be, Options{}, 7)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.min == 0 && e != 0 {
				t.Errorf("relative error %g between identical arithmetic, want 0", e)
			}
			if tc.min > 0 && !(e > tc.min) {
				t.Errorf("relative error %g, want > %g", e, tc.min)
			}
		})
	}
}

func TestBenchEpochsEmulated(t *testing.T) {
	times, err := benchEpochs(newEmulator(), Options{}, 700, 256, []int{16, 8}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 3 {
		t.Fatalf("%d times, want 3", len(times))
	}
	for _, s := range times {
		if !(s > 0) {
			t.Errorf("epoch time %v, want > 0", s)
		}
	}
	x, y := benchData(1000, 4)
	ones, sum := 0, 0.0
	for _, v := range y {
		if v == 1 {
			ones++
		}
	}
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	if ones < 350 || ones > 650 || math.Abs(sum/float64(len(x))-1) > 0.05 {
		t.Errorf("bench data: %d positives of 1000, mean square %.3f; want about half and 1", ones, sum/float64(len(x)))
	}
}

// TestPTX checks the embedded PTX: every kernel is there, and no float
// operation is left that the PTX assembler may fuse or approximate (plain
// mul.f32/add.f32/sub.f32, or anything .approx or .ftz), which would break
// the emulator's bit-for-bit agreement.
func TestPTX(t *testing.T) {
	for _, name := range kernelNames {
		if !strings.Contains(ptx, ".entry "+name+"(") {
			t.Errorf("kernel %s missing from mlp.ptx", name)
		}
	}
	bad := regexp.MustCompile(`(?m)^\s*((mul|add|sub|fma|div|sqrt)\.f32|\S*\.approx\S*|\S*\.ftz\S*|\S*\.local\S*)\s`)
	if m := bad.FindAllString(ptx, 5); len(m) > 0 {
		t.Errorf("mlp.ptx has instructions outside the emulated arithmetic: %q", m)
	}
	if !strings.Contains(ptx, ".target sm_80") {
		t.Error("mlp.ptx is not built for sm_80")
	}
}

func TestBenchRefuses(t *testing.T) {
	for _, tc := range []struct {
		name        string
		rows, batch int
		hidden      []int
		want        string
	}{
		{"batch over rows", 100, 200, []int{8}, "want 1 ≤ batch ≤ rows"},
		{"no rows", 0, 1, []int{8}, "want 1 ≤ batch ≤ rows"},
		{"no hidden layer", 100, 10, nil, "positive widths"},
		{"zero width", 100, 10, []int{8, 0}, "positive widths"},
		{"no context", 100, 10, []int{8}, "no CUDA context"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BenchEpoch(nil, tc.rows, tc.batch, tc.hidden, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := CheckStep(nil, 1); err == nil || !strings.Contains(err.Error(), "no CUDA context") {
		t.Errorf("CheckStep without a context: got %v", err)
	}
}

// TestSplitsFit checks that no batch of up to the buffers' rows splits its
// gradient sums into more parts than were allocated.
func TestSplitsFit(t *testing.T) {
	for _, widths := range [][]int{{64, 256, 256, 1}, {3, 7, 1}, {500, 1000, 1}} {
		n := &net{widths: widths}
		for _, capRows := range []int{1, 63, 512, 1100, 4096, 70000} {
			for l := range n.layers() {
				most := n.maxSplits(l, capRows)
				for rows := 1; rows <= capRows; rows += 1 + rows/50 {
					s, kc := n.split(l, rows)
					if s > most || s < 1 || kc < 64 || (s-1)*kc >= rows {
						t.Fatalf("widths %v, %d buffer rows, layer %d, %d rows: %d splits of %d, room for %d", widths, capRows, l, rows, s, kc, most)
					}
				}
			}
		}
	}
}
