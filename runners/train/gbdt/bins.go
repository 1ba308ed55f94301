package gbdt

import (
	"math"
	"slices"

	"github.com/slipway-ml/slipway/runners/train/data"
)

// feature is one binned training column. Bin 0 holds missing values; a
// numeric column's value bins are 1..nb-1, bin b holding the values v with
// cuts[b-2] <= v < cuts[b-1]; a natively handled categorical column's bin
// for code c is c+1.
type feature struct {
	nb     int       // bins, the missing bin included
	cuts   []float64 // numeric: len nb-2 (nb >= 2)
	cat    bool      // split by category sets
	onehot bool      // only one category against the rest
	b8     []uint8   // bin of each row when nb <= 256
	b16    []uint16  // bin of each row otherwise
	off    int       // offset of the feature's bins in a histogram
	span   int       // histogram entries reserved (>= nb)
}

// binMatrix bins every column of x in parallel.
func binMatrix(x *data.Matrix, p *Params, threads int) []feature {
	feats := make([]feature, len(x.Cols))
	parallelFor(len(x.Cols), threads, func(j int) {
		feats[j] = binColumn(x.Cols[j], x.Categories[j], p)
	})
	off := 0
	for j := range feats {
		f := &feats[j]
		f.off = off
		f.span = f.nb
		if f.b8 != nil {
			f.span = 256 // lets the uint8 loops index without bounds checks
		}
		off += f.span
	}
	return feats
}

func binColumn(col []float64, k int, p *Params) feature {
	var f feature
	if k > 0 && k+1 <= MaxBinLimit {
		f.cat = true
		f.onehot = p.Categorical == CategoricalOnehot || k < p.MaxCatToOnehot
		f.nb = k + 1
		fill(&f, len(col), func(i int) int {
			v := col[i]
			if v != v {
				return 0
			}
			return int(v) + 1
		})
		return f
	}
	f.cuts = numericCuts(col, p.MaxBin-1)
	f.nb = len(f.cuts) + 2
	cuts := f.cuts
	fill(&f, len(col), func(i int) int {
		v := col[i]
		if v != v {
			return 0
		}
		return 1 + upperBound(cuts, v)
	})
	return f
}

// upperBound returns the number of cuts <= v.
func upperBound(cuts []float64, v float64) int {
	lo, hi := 0, len(cuts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cuts[m] <= v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func fill(f *feature, n int, bin func(i int) int) {
	if f.nb <= 256 {
		f.b8 = make([]uint8, n)
		for i := range f.b8 {
			f.b8[i] = uint8(bin(i))
		}
		return
	}
	f.b16 = make([]uint16, n)
	for i := range f.b16 {
		f.b16[i] = uint16(bin(i))
	}
}

// numericCuts returns ascending cut points splitting the non-missing
// values of col into at most maxBins bins: between every two adjacent
// distinct values when there are few enough of them, otherwise at the
// quantiles of the values (counting repeats). A cut lies strictly above
// the value below it and at or below the value above it (the midpoint when
// it is representable).
func numericCuts(col []float64, maxBins int) []float64 {
	vals := make([]float64, 0, len(col))
	for _, v := range col {
		if v == v {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return nil
	}
	slices.Sort(vals)
	distinct := 1
	for i := 1; i < len(vals); i++ {
		if vals[i] != vals[i-1] {
			distinct++
		}
	}
	if distinct <= maxBins {
		cuts := make([]float64, 0, distinct-1)
		for i := 1; i < len(vals); i++ {
			if vals[i] != vals[i-1] {
				cuts = append(cuts, cutBetween(vals[i-1], vals[i]))
			}
		}
		return cuts
	}
	// walk the runs of equal values, cutting after the run that reaches the
	// next quantile
	total := float64(len(vals))
	cuts := make([]float64, 0, maxBins-1)
	for i := 0; i < len(vals) && len(cuts) < maxBins-1; {
		j := i + 1
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		if j < len(vals) && float64(j) >= float64(len(cuts)+1)*total/float64(maxBins) {
			cuts = append(cuts, cutBetween(vals[i], vals[j]))
		}
		i = j
	}
	return cuts
}

func cutBetween(a, b float64) float64 {
	c := a/2 + b/2
	if !(c > a) || math.IsInf(c, 0) {
		return b
	}
	return c
}
