package split

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// checkPartition fails unless train and test are sorted (when sorted is
// true), disjoint and together cover 0..n-1 exactly once.
func checkPartition(t *testing.T, n int, train, test []int, sorted bool) {
	t.Helper()
	if sorted && (!slices.IsSorted(train) || !slices.IsSorted(test)) {
		t.Fatalf("indices not ascending: train %v test %v", train, test)
	}
	seen := make([]int, n)
	for _, i := range append(slices.Clone(train), test...) {
		if i < 0 || i >= n {
			t.Fatalf("index %d out of range [0,%d)", i, n)
		}
		seen[i]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("row %d appears %d times in train ∪ test", i, c)
		}
	}
}

func TestTestSize(t *testing.T) {
	tests := []struct {
		n    int
		frac float64
		want int
		err  string
	}{
		{10, 0.2, 2, ""},
		{10, 0.25, 3, ""},  // ⌈2.5⌉
		{100, 0.07, 7, ""}, // 7.000000000000001 in floating point
		{3, 0.1, 1, ""},    // ⌈0.3⌉
		{1000, 0.333, 333, ""},
		{10, 0, 0, "want 0 < fraction < 1"},
		{10, 1, 0, "want 0 < fraction < 1"},
		{10, math.NaN(), 0, "want 0 < fraction < 1"},
		{1, 0.5, 0, "both must be non-empty"},
		{10, 0.99, 0, "both must be non-empty"}, // ⌈9.9⌉ = 10 leaves no training row
		{0, 0.5, 0, "both must be non-empty"},
	}
	for _, tc := range tests {
		got, err := TestSize(tc.n, tc.frac)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("TestSize(%d, %v): err %v, want %q", tc.n, tc.frac, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("TestSize(%d, %v) = %d, %v; want %d", tc.n, tc.frac, got, err, tc.want)
		}
	}
}

func TestRandom(t *testing.T) {
	for _, n := range []int{2, 7, 100, 1001} {
		for _, frac := range []float64{0.1, 0.25, 0.5, 0.9} {
			k, err := TestSize(n, frac)
			if err != nil {
				continue
			}
			train, test, err := Random(n, frac, 42)
			if err != nil {
				t.Fatal(err)
			}
			checkPartition(t, n, train, test, true)
			if len(test) != k {
				t.Errorf("n %d frac %v: %d test rows, want %d", n, frac, len(test), k)
			}
			train2, test2, _ := Random(n, frac, 42)
			if !slices.Equal(train, train2) || !slices.Equal(test, test2) {
				t.Errorf("n %d frac %v: same seed, different split", n, frac)
			}
		}
	}
	_, a, _ := Random(1000, 0.2, 1)
	_, b, _ := Random(1000, 0.2, 2)
	if slices.Equal(a, b) {
		t.Error("different seeds gave the same split")
	}
	if _, _, err := Random(10, 1.5, 1); err == nil || !strings.HasPrefix(err.Error(), "random split:") {
		t.Errorf("bad fraction: %v", err)
	}
}

// TestGolden pins splits for fixed seeds, so that a change of the shuffle
// (which would silently change every reported metric) is noticed.
func TestGolden(t *testing.T) {
	_, test, err := Random(20, 0.25, 7)
	if err != nil {
		t.Fatal(err)
	}
	if want := goldenRandom; !slices.Equal(test, want) {
		t.Errorf("Random(20, 0.25, 7) test = %#v, was %#v", test, want)
	}
	y := []float64{0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0}
	_, test, err = Stratified(y, 0.5, 7)
	if err != nil {
		t.Fatal(err)
	}
	if want := goldenStratified; !slices.Equal(test, want) {
		t.Errorf("Stratified test = %#v, was %#v", test, want)
	}
}

var (
	goldenRandom = []int{5, 10, 13, 16, 17}
	// 8 zeros and 4 ones, half each: zeros 0 2 4 5, ones 3 9.
	goldenStratified = []int{0, 2, 3, 4, 5, 9}
)

func TestStratified(t *testing.T) {
	// 3 classes of 50, 30 and 20 rows, interleaved.
	var y []float64
	for i := range 100 {
		switch {
		case i%10 < 5:
			y = append(y, 0)
		case i%10 < 8:
			y = append(y, 1)
		default:
			y = append(y, 2)
		}
	}
	for _, frac := range []float64{0.1, 0.2, 0.25, 0.33, 0.5, 0.77} {
		for seed := range uint64(5) {
			train, test, err := Stratified(y, frac, seed)
			if err != nil {
				t.Fatal(err)
			}
			checkPartition(t, len(y), train, test, true)
			k, _ := TestSize(len(y), frac)
			if len(test) != k {
				t.Fatalf("frac %v: %d test rows, want %d", frac, len(test), k)
			}
			counts := map[float64]int{}
			for _, i := range test {
				counts[y[i]]++
			}
			for c, nc := range map[float64]int{0: 50, 1: 30, 2: 20} {
				share := float64(nc) * float64(k) / float64(len(y))
				if d := math.Abs(float64(counts[c]) - share); d >= 1 {
					t.Errorf("frac %v seed %d: class %v has %d test rows, exact share %v", frac, seed, c, counts[c], share)
				}
			}
		}
	}
	// Exact case: 10% of 50/30/20 is 5/3/2.
	_, test, _ := Stratified(y, 0.1, 3)
	counts := map[float64]int{}
	for _, i := range test {
		counts[y[i]]++
	}
	if counts[0] != 5 || counts[1] != 3 || counts[2] != 2 {
		t.Errorf("10%% stratified counts %v, want 5/3/2", counts)
	}
	// Same seed, same split; another seed, another split.
	_, a, _ := Stratified(y, 0.3, 9)
	_, b, _ := Stratified(y, 0.3, 9)
	_, c, _ := Stratified(y, 0.3, 10)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Error("stratified split is not a deterministic function of the seed")
	}
	// Largest remainder: 7 rows of class 0 and 3 of class 1, 30% = 3 rows:
	// shares 2.1 and 0.9, so 2 and 1.
	y2 := []float64{0, 0, 0, 0, 0, 0, 0, 1, 1, 1}
	_, test, _ = Stratified(y2, 0.3, 1)
	ones := 0
	for _, i := range test {
		ones += int(y2[i])
	}
	if len(test) != 3 || ones != 1 {
		t.Errorf("largest remainder: test %v", test)
	}
	if _, _, err := Stratified([]float64{0, math.NaN(), 1}, 0.5, 1); err == nil || !strings.Contains(err.Error(), "label 1 is NaN") {
		t.Errorf("NaN label: %v", err)
	}
}

func TestByTime(t *testing.T) {
	times := []float64{5, 1, 3, 3, 9, 2, 3, 7, 0, 3}
	train, test, err := ByTime(times, 0.4)
	if err != nil {
		t.Fatal(err)
	}
	checkPartition(t, len(times), train, test, false)
	// Ordered by (time, index): 8(0) 1(1) 5(2) 2(3) 3(3) 6(3) 9(3) 0(5) 7(7) 4(9).
	// 4 test rows: the latest are 9 0 7 4; of the tied 3s, index 9 is "latest".
	if want := []int{9, 0, 7, 4}; !slices.Equal(test, want) {
		t.Errorf("test %v, want %v", test, want)
	}
	if want := []int{8, 1, 5, 2, 3, 6}; !slices.Equal(train, want) {
		t.Errorf("train %v, want %v", train, want)
	}
	for _, i := range train {
		for _, j := range test {
			if times[i] > times[j] || (times[i] == times[j] && i > j) {
				t.Errorf("train row %d (t=%v) is later than test row %d (t=%v)", i, times[i], j, times[j])
			}
		}
	}
	if _, _, err := ByTime([]float64{1, math.NaN()}, 0.5); err == nil || !strings.Contains(err.Error(), "time 1 is NaN") {
		t.Errorf("NaN time: %v", err)
	}
	if _, _, err := ByTime([]float64{1}, 0.5); err == nil {
		t.Error("one row: no error")
	}
}

func TestKFold(t *testing.T) {
	var y []float64
	for i := range 103 {
		y = append(y, float64(i%3%2)) // labels 0 1 0 0 1 0 …: 34 ones of 103
	}
	for _, stratified := range []bool{false, true} {
		for _, k := range []int{2, 3, 5, 10, 103} {
			folds, err := KFold(y, k, stratified, 11)
			if err != nil {
				t.Fatal(err)
			}
			if len(folds) != k {
				t.Fatalf("%d folds, want %d", len(folds), k)
			}
			inTest := make([]int, len(y))
			for f, fold := range folds {
				checkPartition(t, len(y), fold[0], fold[1], true)
				if sz := len(fold[1]); sz != len(y)/k && sz != len(y)/k+1 {
					t.Errorf("stratified %v k %d fold %d: %d test rows", stratified, k, f, sz)
				}
				if !stratified && f < len(y)%k && len(fold[1]) != len(y)/k+1 {
					t.Errorf("k %d fold %d: %d rows, want the first n%%k folds larger", k, f, len(fold[1]))
				}
				for _, i := range fold[1] {
					inTest[i]++
				}
				if stratified {
					ones := 0
					for _, i := range fold[1] {
						ones += int(y[i])
					}
					share := 34.0 / float64(k) // 34 ones of 103
					if math.Abs(float64(ones)-share) >= 1 {
						t.Errorf("k %d fold %d: %d positives, share %v", k, f, ones, share)
					}
				}
			}
			for i, c := range inTest {
				if c != 1 {
					t.Fatalf("stratified %v k %d: row %d in %d test folds", stratified, k, i, c)
				}
			}
			again, _ := KFold(y, k, stratified, 11)
			for f := range folds {
				if !slices.Equal(folds[f][1], again[f][1]) {
					t.Fatalf("k %d: same seed, different folds", k)
				}
			}
		}
	}
	for _, k := range []int{1, 104, -1} {
		if _, err := KFold(y, k, false, 1); err == nil || !strings.HasPrefix(err.Error(), "k-fold:") {
			t.Errorf("k %d: err %v", k, err)
		}
	}
	if _, err := KFold([]float64{0, 1, math.Inf(1)}, 2, true, 1); err == nil {
		t.Error("stratified with an infinite label: no error")
	}
	if _, err := KFold([]float64{0, 1, math.NaN()}, 2, false, 1); err != nil {
		t.Errorf("plain k-fold looks at labels: %v", err)
	}
}

func TestSummarize(t *testing.T) {
	// Mean 5; squared deviations 9 1 1 9 → population variance 5 (÷4).
	s, err := Summarize([]float64{2, 4, 6, 8})
	if err != nil {
		t.Fatal(err)
	}
	if s != (Summary{N: 4, Mean: 5, Std: math.Sqrt(5), Min: 2, Max: 8}) {
		t.Errorf("Summarize = %+v", s)
	}
	if s, _ := Summarize([]float64{0.7}); s.Std != 0 || s.Mean != 0.7 {
		t.Errorf("one value: %+v", s)
	}
	if _, err := Summarize(nil); err == nil {
		t.Error("no values: no error")
	}
	if _, err := Summarize([]float64{1, math.NaN()}); err == nil {
		t.Error("NaN: no error")
	}
	m, err := SummarizeFolds([]map[string]float64{
		{"roc_auc": 0.8, "f1": 0.5},
		{"roc_auc": 0.9, "f1": 0.7},
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := m["roc_auc"]; math.Abs(a.Mean-0.85) > 1e-15 || math.Abs(a.Std-0.05) > 1e-15 || a.N != 2 {
		t.Errorf("roc_auc summary %+v", a)
	}
	if f := m["f1"]; math.Abs(f.Mean-0.6) > 1e-15 || math.Abs(f.Std-0.1) > 1e-15 {
		t.Errorf("f1 summary %+v", f)
	}
	if _, err := SummarizeFolds([]map[string]float64{{"a": 1}, {"b": 1}}); err == nil || !strings.Contains(err.Error(), `lacks metric "a"`) {
		t.Errorf("mismatched folds: %v", err)
	}
	if _, err := SummarizeFolds([]map[string]float64{{"a": 1}, {"a": 1, "b": 2}}); err == nil {
		t.Error("extra metric: no error")
	}
	if _, err := SummarizeFolds(nil); err == nil {
		t.Error("no folds: no error")
	}
}
