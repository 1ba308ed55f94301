package drift

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// histogram is a binned or per-value distribution of the two samples.
type histogram struct {
	edges              []float64 // numeric bins: len(ref)+1 edges
	keys               []string  // per-value bins
	refCount, curCount []float64
	ref, cur           []float64 // shares of each sample
}

func (h *histogram) shares(nRef, nCur int) {
	h.ref = make([]float64, len(h.refCount))
	h.cur = make([]float64, len(h.curCount))
	for i := range h.refCount {
		h.ref[i] = h.refCount[i] / float64(nRef)
		h.cur[i] = h.curCount[i] / float64(nCur)
	}
}

// distinct counts the distinct values over both samples.
func distinct(r, c sample) int {
	if r.numeric {
		return len(uniqueNums(r.nums, c.nums))
	}
	return len(uniqueCats(r.cats, c.cats))
}

func uniqueNums(lists ...[]float64) []float64 {
	var all []float64
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

func uniqueCats(lists ...[]string) []string {
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// discrete counts each distinct value of the two samples, keys sorted.
func discrete(r, c sample) histogram {
	var h histogram
	if r.numeric {
		keys := uniqueNums(r.nums, c.nums)
		h.keys = make([]string, len(keys))
		for i, k := range keys {
			h.keys[i] = strconv.FormatFloat(k, 'g', -1, 64)
		}
		h.refCount = countNums(keys, r.nums)
		h.curCount = countNums(keys, c.nums)
	} else {
		h.keys = uniqueCats(r.cats, c.cats)
		h.refCount = countCats(h.keys, r.cats)
		h.curCount = countCats(h.keys, c.cats)
	}
	h.shares(r.len(), c.len())
	return h
}

func countNums(keys, values []float64) []float64 {
	out := make([]float64, len(keys))
	for _, v := range values {
		i, _ := slices.BinarySearch(keys, v)
		out[i]++
	}
	return out
}

func countCats(keys, values []string) []float64 {
	out := make([]float64, len(keys))
	for _, v := range values {
		i, _ := slices.BinarySearch(keys, v)
		out[i]++
	}
	return out
}

// binned is Evidently's get_binned_data: numeric samples whose reference has
// more than 20 distinct values are cut into Sturges bins over both samples;
// anything else is counted per distinct value.
func binned(r, c sample) (histogram, error) {
	if !r.numeric || len(uniqueNums(r.nums)) <= 20 {
		return discrete(r, c), nil
	}
	edges, err := sturgesEdges(r.nums, c.nums)
	if err != nil {
		return histogram{}, err
	}
	h := histogram{edges: edges, refCount: countBins(edges, r.nums), curCount: countBins(edges, c.nums)}
	h.shares(r.len(), c.len())
	return h, nil
}

// sturgesEdges are numpy's histogram_bin_edges(bins="sturges") over the
// concatenation of two sorted samples.
func sturgesEdges(a, b []float64) ([]float64, error) {
	first, last := math.Min(a[0], b[0]), math.Max(a[len(a)-1], b[len(b)-1])
	span := last - first
	if math.IsInf(span, 0) {
		return nil, fmt.Errorf("values span [%g, %g], wider than a float64 can hold: expected a finite range", first, last)
	}
	nBins := 1
	if span == 0 {
		first, last = first-0.5, last+0.5
	} else {
		width := span / (math.Log2(float64(len(a)+len(b))) + 1)
		nBins = int(math.Ceil((last - first) / width))
	}
	edges := make([]float64, nBins+1)
	step := (last - first) / float64(nBins)
	for i := range edges {
		edges[i] = float64(i)*step + first
	}
	edges[nBins] = last
	return edges, nil
}

// countBins counts sorted values into bins [e_i, e_i+1), the last bin closed,
// as numpy's histogram does; values outside the edges are not counted.
func countBins(edges, sorted []float64) []float64 {
	n := len(edges) - 1
	out := make([]float64, n)
	for _, v := range sorted {
		if v < edges[0] || v > edges[n] {
			continue
		}
		i := upperBound(edges, v) - 1
		if i >= n {
			i = n - 1
		}
		out[i]++
	}
	return out
}

// upperBound is the number of sorted values ≤ v.
func upperBound(sorted []float64, v float64) int {
	lo, hi := 0, len(sorted)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if sorted[m] <= v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// fillZeros returns shares with empty bins replaced by 0.0001, or by the
// smallest non-zero share / 1e6 when that share is at most 0.0001.
func fillZeros(shares []float64) []float64 {
	minNZ := math.Inf(1)
	for _, s := range shares {
		if s != 0 && s < minNZ {
			minNZ = s
		}
	}
	fill := 0.0001
	if minNZ <= 0.0001 {
		fill = minNZ / 1e6
	}
	out := slices.Clone(shares)
	for i, s := range out {
		if s == 0 {
			out[i] = fill
		}
	}
	return out
}

// psi is Σ (ref−cur)·ln(ref/cur) over bins with no zero share.
func psi(ref, cur []float64) float64 {
	s := 0.0
	for i := range ref {
		s += (ref[i] - cur[i]) * math.Log(ref[i]/cur[i])
	}
	return s
}

// jensenShannon is scipy.spatial.distance.jensenshannon with the natural
// logarithm: both vectors are normalised to sum 1.
func jensenShannon(p, q []float64) float64 {
	sp, sq := 0.0, 0.0
	for i := range p {
		sp += p[i]
		sq += q[i]
	}
	js := 0.0
	for i := range p {
		pi, qi := p[i]/sp, q[i]/sq
		m := (pi + qi) / 2
		js += relEntr(pi, m) + relEntr(qi, m)
	}
	return math.Sqrt(max(js/2, 0))
}

func relEntr(x, y float64) float64 {
	if x == 0 {
		return 0
	}
	return x * math.Log(x/y)
}

// wassersteinNorm is scipy's first Wasserstein distance between two sorted
// samples, divided by max(population std of ref, 0.001).
func wassersteinNorm(ref, cur []float64) float64 {
	all := append(slices.Clone(ref), cur...)
	slices.Sort(all)
	d := 0.0
	for i := 0; i+1 < len(all); i++ {
		delta := all[i+1] - all[i]
		if delta == 0 {
			continue
		}
		fu := float64(upperBound(ref, all[i])) / float64(len(ref))
		fv := float64(upperBound(cur, all[i])) / float64(len(cur))
		d += math.Abs(fu-fv) * delta
	}
	mean := 0.0
	for _, v := range ref {
		mean += v
	}
	mean /= float64(len(ref))
	ss := 0.0
	for _, v := range ref {
		ss += (v - mean) * (v - mean)
	}
	return d / max(math.Sqrt(ss/float64(len(ref))), 0.001)
}

// chiSquareP is the p-value of scipy.stats.chisquare(cur, ref·n_cur/n_ref)
// with k−1 degrees of freedom. A current value absent from the reference
// makes the statistic infinite and the p-value 0; a single category has
// nothing to test and gives p = 1.
func chiSquareP(refCount, curCount []float64) float64 {
	nRef, nCur := 0.0, 0.0
	for i := range refCount {
		nRef += refCount[i]
		nCur += curCount[i]
	}
	k := nCur / nRef
	stat := 0.0
	for i := range refCount {
		exp := refCount[i] * k
		d := curCount[i] - exp
		if exp == 0 {
			if d != 0 {
				return 0
			}
			continue
		}
		stat += d * d / exp
	}
	df := len(refCount) - 1
	if df < 1 {
		return 1
	}
	return gammaQ(float64(df)/2, stat/2)
}

// zTestP is Evidently's two-proportion z-test: the first category (sorted)
// against all others, two-sided normal p-value.
func zTestP(refCount, curCount []float64) float64 {
	refOther, curOther, nRef, nCur := 0.0, 0.0, 0.0, 0.0
	refKinds, curKinds := 0, 0
	for i := range refCount {
		nRef += refCount[i]
		nCur += curCount[i]
		if i > 0 {
			refOther += refCount[i]
			curOther += curCount[i]
		}
		if refCount[i] > 0 {
			refKinds++
		}
		if curCount[i] > 0 {
			curKinds++
		}
	}
	if len(refCount) == 1 && refKinds == 1 && curKinds == 1 {
		return 1
	}
	p1, p2 := refOther/nRef, curOther/nCur
	p := (p1*nRef + p2*nCur) / (nRef + nCur)
	z := (p1 - p2) / math.Sqrt(p*(1-p)*(1/nRef+1/nCur))
	return 2 * (1 - normCDF(math.Abs(z)))
}

func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
