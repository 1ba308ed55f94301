// Package split divides the rows of a data set into training and test sets:
// random, stratified and time-ordered hold-out splits and k-fold
// cross-validation, plus the mean and spread of metrics over folds.
//
// Splits are deterministic: the same inputs and seed always give the same
// split, on every platform. The shuffles draw raw 64-bit outputs from
// math/rand/v2's PCG generator seeded with (seed, Stream) — a fully
// specified algorithm (PCG-DXSM) — and do their own Fisher–Yates shuffle
// with Lemire's unbiased bounded draw, rather than rand.Rand.Shuffle, whose
// exact sequence the standard library does not document, so splits do not
// change with the Go release either. Row indices are returned in ascending
// order, except by ByTime, which returns them in time order.
package split

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// Stream is the second PCG seed word used with the caller's seed.
const Stream uint64 = 0x736c69707761790a // "slipway\n"

// shuffler draws from a PCG generator.
type shuffler struct{ src *rand.PCG }

func newRand(seed uint64) *shuffler {
	return &shuffler{rand.NewPCG(seed, Stream)}
}

// intn returns a uniform integer in [0, n) for n > 0 (Lemire's
// multiply-and-reject method).
func (s *shuffler) intn(n uint64) uint64 {
	hi, lo := bits.Mul64(s.src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(s.src.Uint64(), n)
		}
	}
	return hi
}

// shuffle permutes a in place (Fisher–Yates, from the end).
func (s *shuffler) shuffle(a []int) {
	for i := len(a) - 1; i > 0; i-- {
		j := s.intn(uint64(i + 1))
		a[i], a[j] = a[j], a[i]
	}
}

// perm returns a random permutation of 0..n-1.
func (s *shuffler) perm(n int) []int {
	a := make([]int, n)
	for i := range a {
		a[i] = i
	}
	s.shuffle(a)
	return a
}

// TestSize returns the number of test rows of an n-row hold-out split:
// ⌈n·testFrac⌉, scikit-learn's train_test_split rule, with the product
// rounded to the nearest integer first when it is within 1e-9 of one (so
// that 100 × 0.07, which is 7.000000000000001 in floating point, gives 7
// rows where scikit-learn gives 8). testFrac must be in (0, 1) and both
// sets must end up non-empty.
func TestSize(n int, testFrac float64) (int, error) {
	if !(testFrac > 0 && testFrac < 1) {
		return 0, fmt.Errorf("test fraction %v, want 0 < fraction < 1", testFrac)
	}
	x := float64(n) * testFrac
	k := int(math.Ceil(x))
	if r := math.Round(x); math.Abs(x-r) <= 1e-9*math.Max(1, x) {
		k = int(r)
	}
	if k < 1 || k >= n {
		return 0, fmt.Errorf("%d rows with test fraction %v give %d test and %d training rows; both must be non-empty", n, testFrac, k, n-k)
	}
	return k, nil
}

// complement returns the indices 0..n-1 not in the sorted slice in.
func complement(n int, in []int) []int {
	out := make([]int, 0, n-len(in))
	j := 0
	for i := range n {
		if j < len(in) && in[j] == i {
			j++
			continue
		}
		out = append(out, i)
	}
	return out
}

// Random splits rows 0..n-1 uniformly at random into a training and a test
// set of TestSize(n, testFrac) rows, both in ascending order.
func Random(n int, testFrac float64, seed uint64) (train, test []int, err error) {
	k, err := TestSize(n, testFrac)
	if err != nil {
		return nil, nil, fmt.Errorf("random split: %w", err)
	}
	test = newRand(seed).perm(n)[:k]
	slices.Sort(test)
	return complement(n, test), test, nil
}

// classes groups the row indices by label value, classes in ascending
// order and rows ascending within each. NaN and infinite labels are
// errors.
func classes(y []float64) ([][]int, error) {
	by := map[float64][]int{}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("label %d is %v, want a finite class value", i, v)
		}
		by[v] = append(by[v], i)
	}
	keys := make([]float64, 0, len(by))
	for v := range by {
		keys = append(keys, v)
	}
	slices.Sort(keys)
	out := make([][]int, len(keys))
	for c, v := range keys {
		out[c] = by[v]
	}
	return out, nil
}

// Stratified splits the rows of labels y (class values, any finite
// numbers) into a training and a test set of TestSize(len(y), testFrac)
// rows in total, keeping each class's share: class c with n_c rows gets
// either ⌊n_c·k/n⌋ or ⌈n_c·k/n⌉ test rows (k test rows of n), the extra
// rows going to the classes with the largest remainders (ties to the
// smaller class value), by the largest-remainder method in exact integer
// arithmetic. So each class's test count is within one row of its exact
// proportional share. Which rows of a class go to the test set is random.
// Both sets are returned in ascending order.
func Stratified(y []float64, testFrac float64, seed uint64) (train, test []int, err error) {
	n := len(y)
	k, err := TestSize(n, testFrac)
	if err != nil {
		return nil, nil, fmt.Errorf("stratified split: %w", err)
	}
	cls, err := classes(y)
	if err != nil {
		return nil, nil, fmt.Errorf("stratified split: %w", err)
	}
	quota := make([]int, len(cls))
	rem := make([]int, len(cls))
	left := k
	for c, rows := range cls {
		quota[c] = len(rows) * k / n
		rem[c] = len(rows) * k % n
		left -= quota[c]
	}
	order := make([]int, len(cls))
	for c := range order {
		order[c] = c
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rem[b], rem[a]) })
	for _, c := range order[:left] {
		quota[c]++
	}
	r := newRand(seed)
	test = make([]int, 0, k)
	for c, rows := range cls {
		rows = slices.Clone(rows)
		r.shuffle(rows)
		test = append(test, rows[:quota[c]]...)
	}
	slices.Sort(test)
	return complement(n, test), test, nil
}

// ByTime puts the latest TestSize(len(times), testFrac) rows in the test
// set and the others in the training set, both ordered by time, rows of
// equal time by index, so the split is deterministic: of rows with equal
// times the ones with larger indices count as later. Times are any ordered
// numbers (for example Unix seconds); NaN is an error.
func ByTime(times []float64, testFrac float64) (train, test []int, err error) {
	n := len(times)
	k, err := TestSize(n, testFrac)
	if err != nil {
		return nil, nil, fmt.Errorf("time split: %w", err)
	}
	for i, v := range times {
		if math.IsNaN(v) {
			return nil, nil, fmt.Errorf("time split: time %d is NaN", i)
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(times[a], times[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return idx[: n-k : n-k], idx[n-k:], nil
}

// KFold divides the rows of y into k folds for cross-validation and returns
// for each fold its training rows ([0]) and test rows ([1]), both in
// ascending order; every row is in exactly one fold's test set. Fold sizes
// differ by at most one (the first n mod k folds have one more row, as
// scikit-learn's KFold). Rows are shuffled with seed first.
//
// With stratified, rows are grouped by class value, shuffled within each
// class, and dealt to the folds in turn (continuing across classes), so
// each class's count in every fold is within one of its count divided by k
// and fold sizes still differ by at most one. Without it y is used only for
// its length. k must be in [2, len(y)].
func KFold(y []float64, k int, stratified bool, seed uint64) ([][2][]int, error) {
	n := len(y)
	if k < 2 || k > n {
		return nil, fmt.Errorf("k-fold: %d folds of %d rows, want 2 <= k <= rows", k, n)
	}
	r := newRand(seed)
	var order []int
	if stratified {
		cls, err := classes(y)
		if err != nil {
			return nil, fmt.Errorf("k-fold: %w", err)
		}
		order = make([]int, 0, n)
		for _, rows := range cls {
			rows = slices.Clone(rows)
			r.shuffle(rows)
			order = append(order, rows...)
		}
	} else {
		order = r.perm(n)
	}
	tests := make([][]int, k)
	if stratified {
		for j, i := range order {
			tests[j%k] = append(tests[j%k], i)
		}
	} else {
		start := 0
		for f := range k {
			size := n / k
			if f < n%k {
				size++
			}
			tests[f] = order[start : start+size : start+size]
			start += size
		}
	}
	folds := make([][2][]int, k)
	for f, t := range tests {
		slices.Sort(t)
		folds[f] = [2][]int{complement(n, t), t}
	}
	return folds, nil
}
