package gbdt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/slipway-ml/slipway/runners/train/data"
)

// ghPair is a sum of gradients and hessians.
type ghPair struct{ g, h float64 }

// split is the best split found for a node (gain > 0 when there is one).
type split struct {
	gain        float64
	feature     int32
	bin         int32    // numeric: value bins 1..bin go left (0: none)
	defaultLeft bool     // missing values go left
	set         []uint64 // categorical: category codes going left
	gl, hl      float64  // sums of the left child, missing values included when defaultLeft
}

// gnode is a node being grown: its rows are rows[start:end].
type gnode struct {
	idx        int32
	start, end int32
	g, h       float64
	depth      int
	hist       []ghPair
	best       split
	canSplit   bool
}

type trainer struct {
	p         *Params
	threads   int
	feats     []feature
	histLen   int
	n         int
	y         []float64
	gh        []ghPair
	pred      []float64
	rows      []int32
	scratch   []int32
	unsampled []int32
	active    []int32
	histFree  [][]ghPair
	candA     []split
	candB     []split
	catBuf    [][]int32
	tables    [][]bool
	rng       *rand.Rand
	binary    bool
	hb        HistogramBuilder // nil: the CPU builds every histogram
	hbErr     error            // the builder's first error
	hbDone    []bool           // features whose histogram the builder wrote
	hbFeats   []int
	hbOut     [][]float64
}

// HistogramBuilder builds node histograms off the CPU, e.g. on a GPU, for
// the features with at most 256 bins. Its sums may differ from the CPU's
// in the last bits (another summation order), so a model trained with one
// can differ slightly from Train's.
type HistogramBuilder interface {
	// Start receives the binned training columns once: bins[f] holds
	// feature f's bin for every row, nil for a feature with more than 256
	// bins (the CPU builds those).
	Start(bins [][]uint8) error
	// Gradients receives each row's gradient and hessian, once per tree.
	Gradients(g, h []float64) error
	// Build writes, for each feature feats[k], the sums over rows of g and
	// h by bin: out[k][2*b] and out[k][2*b+1] for bin b < 256.
	Build(rows []int32, feats []int, out [][]float64) error
}

// TrainWith is Train with the node histograms of the features with at
// most 256 bins built by hb.
func TrainWith(ctx context.Context, x *data.Matrix, y []float64, valid *data.Matrix, validY []float64, p Params, progress func(tree int, trainLoss, validLoss float64), hb HistogramBuilder) (*Model, error) {
	if hb == nil {
		return nil, errors.New("gbdt: TrainWith needs a histogram builder")
	}
	return fit(ctx, x, y, valid, validY, p, progress, hb)
}

// Train fits a gradient boosted tree ensemble to the rows of x and the
// labels y (0/1 for binary:logistic). When valid is not nil the loss on
// (valid, validY) is computed after every tree and drives early stopping.
// progress, when not nil, is called after every tree with its index and
// the training and validation losses (log-loss for binary:logistic, RMSE
// for reg:squarederror; NaN without a validation set). Training stops
// with ctx's error when ctx is done. The model is the same for the same
// data, parameters and seed whatever Threads is.
func Train(ctx context.Context, x *data.Matrix, y []float64, valid *data.Matrix, validY []float64, p Params, progress func(tree int, trainLoss, validLoss float64)) (*Model, error) {
	return fit(ctx, x, y, valid, validY, p, progress, nil)
}

func fit(ctx context.Context, x *data.Matrix, y []float64, valid *data.Matrix, validY []float64, p Params, progress func(tree int, trainLoss, validLoss float64), hb HistogramBuilder) (*Model, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.GrowPolicy == "" {
		p.GrowPolicy = GrowDepthwise
	}
	if p.Categorical == "" {
		p.Categorical = CategoricalNative
	}
	binary := p.Objective == ObjectiveBinary
	if err := checkData("training", x, y, binary); err != nil {
		return nil, err
	}
	if valid != nil {
		if err := checkData("validation", valid, validY, binary); err != nil {
			return nil, err
		}
		if len(valid.Cols) != len(x.Cols) {
			return nil, fmt.Errorf("gbdt: validation matrix has %d features, training matrix %d", len(valid.Cols), len(x.Cols))
		}
	} else if p.EarlyStoppingRounds > 0 {
		return nil, errors.New("gbdt: early stopping needs a validation set")
	}
	n := x.Rows()
	var base float64
	for _, v := range y {
		base += v
	}
	base /= float64(n)
	if binary {
		if base == 0 || base == 1 {
			return nil, fmt.Errorf("gbdt: training labels hold one class only (all %v)", base)
		}
		base = math.Log(base / (1 - base))
	}

	t := &trainer{p: &p, threads: p.threads(), n: n, y: y, binary: binary}
	t.feats = binMatrix(x, &p, t.threads)
	for _, f := range t.feats {
		t.histLen = max(t.histLen, f.off+f.span)
	}
	t.gh = make([]ghPair, n)
	t.pred = make([]float64, n)
	for i := range t.pred {
		t.pred[i] = base
	}
	t.rows = make([]int32, 0, n)
	t.scratch = make([]int32, 0, n)
	t.candA = make([]split, len(t.feats))
	t.candB = make([]split, len(t.feats))
	t.catBuf = make([][]int32, len(t.feats))
	t.rng = rand.New(rand.NewPCG(uint64(p.Seed), 0x5eed_9bd7_a3c1_0f1d))
	if hb != nil {
		if err := t.startBuilder(hb); err != nil {
			return nil, err
		}
	}

	var vpred []float64
	if valid != nil {
		vpred = make([]float64, valid.Rows())
		for i := range vpred {
			vpred[i] = base
		}
	}
	m := &Model{objective: p.Objective, baseScore: base, names: slices.Clone(x.Names), categories: slices.Clone(x.Categories)}
	bestLoss, bestIter := math.Inf(1), -1
	for it := 0; it < p.Trees; it++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("gbdt: training stopped after %d trees: %w", it, err)
		}
		t.gradients()
		if t.hb != nil {
			t.sendGradients()
		}
		tr := t.buildTree()
		if t.hbErr != nil {
			return nil, fmt.Errorf("gbdt: tree %d: histograms: %w", it, t.hbErr)
		}
		m.trees = append(m.trees, tr)
		trainLoss, validLoss := math.NaN(), math.NaN()
		if valid != nil {
			parallelBlocks(len(vpred), t.threads, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					vpred[i] += tr.evalCols(valid.Cols, i)
				}
			})
			validLoss = loss(vpred, validY, binary, t.threads)
		}
		if progress != nil {
			trainLoss = loss(t.pred, y, binary, t.threads)
			progress(it, trainLoss, validLoss)
		}
		if p.EarlyStoppingRounds > 0 {
			if validLoss < bestLoss {
				bestLoss, bestIter = validLoss, it
			} else if it-bestIter >= p.EarlyStoppingRounds {
				break
			}
		}
	}
	if p.EarlyStoppingRounds > 0 && bestIter >= 0 {
		m.trees = m.trees[:bestIter+1]
	}
	return m, nil
}

func checkData(what string, x *data.Matrix, y []float64, binary bool) error {
	if x == nil {
		return fmt.Errorf("gbdt: %s matrix is nil", what)
	}
	if len(x.Cols) == 0 || x.Rows() == 0 {
		return fmt.Errorf("gbdt: %s matrix is empty (%d columns, %d rows)", what, len(x.Cols), x.Rows())
	}
	if x.Rows() > math.MaxInt32 {
		return fmt.Errorf("gbdt: %s matrix has %d rows, more than %d", what, x.Rows(), math.MaxInt32)
	}
	if err := x.Validate(); err != nil {
		return fmt.Errorf("gbdt: %s matrix: %w", what, err)
	}
	if len(y) != x.Rows() {
		return fmt.Errorf("gbdt: %s labels: %d labels for %d rows", what, len(y), x.Rows())
	}
	for i, v := range y {
		if !finite(v) {
			return fmt.Errorf("gbdt: %s label of row %d is %v", what, i, v)
		}
		if binary && v != 0 && v != 1 {
			return fmt.Errorf("gbdt: %s label of row %d is %v, binary:logistic needs 0 or 1", what, i, v)
		}
	}
	return nil
}

// loss returns the mean log-loss (binary) or the RMSE of margins pred.
func loss(pred, y []float64, binary bool, threads int) float64 {
	nb := (len(pred) + blockRows - 1) / blockRows
	part := make([]float64, nb)
	parallelBlocks(len(pred), threads, func(lo, hi int) {
		s := 0.0
		for i := lo; i < hi; i++ {
			if binary {
				p := min(max(sigmoid(pred[i]), 1e-15), 1-1e-15)
				if y[i] == 1 {
					s -= math.Log(p)
				} else {
					s -= math.Log(1 - p)
				}
			} else {
				d := pred[i] - y[i]
				s += d * d
			}
		}
		part[lo/blockRows] = s
	})
	s := 0.0
	for _, v := range part {
		s += v
	}
	s /= float64(len(pred))
	if !binary {
		s = math.Sqrt(s)
	}
	return s
}

func (t *trainer) gradients() {
	parallelBlocks(t.n, t.threads, func(lo, hi int) {
		gh, pred, y := t.gh[lo:hi], t.pred[lo:hi], t.y[lo:hi]
		if t.binary {
			for i := range gh {
				p := sigmoid(pred[i])
				gh[i] = ghPair{p - y[i], max(p*(1-p), 1e-16)}
			}
			return
		}
		for i := range gh {
			gh[i] = ghPair{pred[i] - y[i], 1}
		}
	})
}

// sample draws the rows and the features of one tree.
func (t *trainer) sample() {
	p := t.p
	t.rows = t.rows[:0]
	t.unsampled = t.unsampled[:0]
	for i := 0; i < t.n; i++ {
		if p.Subsample >= 1 || t.rng.Float64() < p.Subsample {
			t.rows = append(t.rows, int32(i))
		} else {
			t.unsampled = append(t.unsampled, int32(i))
		}
	}
	nf := len(t.feats)
	t.active = t.active[:0]
	for j := 0; j < nf; j++ {
		t.active = append(t.active, int32(j))
	}
	if p.ColsampleByTree < 1 {
		k := max(1, int(math.Round(p.ColsampleByTree*float64(nf))))
		for i := 0; i < k; i++ {
			j := i + t.rng.IntN(nf-i)
			t.active[i], t.active[j] = t.active[j], t.active[i]
		}
		t.active = t.active[:k]
		slices.Sort(t.active)
	}
}

func (t *trainer) getHist() []ghPair {
	if k := len(t.histFree); k > 0 {
		h := t.histFree[k-1]
		t.histFree = t.histFree[:k-1]
		return h
	}
	return make([]ghPair, t.histLen)
}

func (t *trainer) putHist(h []ghPair) {
	if h != nil {
		t.histFree = append(t.histFree, h)
	}
}

// forFeatures calls fn for every active feature, in parallel when the
// work (rows times features) is large enough to pay for it. Every call
// writes only its own feature's data, so the result never depends on the
// scheduling.
func (t *trainer) forFeatures(rows int, fn func(f int)) {
	threads := t.threads
	if rows*len(t.active) < 1<<15 {
		threads = 1
	}
	parallelFor(len(t.active), threads, func(i int) { fn(int(t.active[i])) })
}

func (t *trainer) splittable(nd *gnode) bool {
	p := t.p
	return (p.MaxDepth == 0 || nd.depth < p.MaxDepth) && nd.end-nd.start >= 2 && nd.h >= 2*p.MinChildWeight
}

// reduce picks the best of the per-feature candidates, the lowest feature
// index on ties.
func (t *trainer) reduce(cands []split) split {
	var best split
	for _, f := range t.active {
		if c := &cands[f]; c.gain > best.gain {
			best = *c
		}
	}
	return best
}

func (t *trainer) buildTree() tree {
	p := t.p
	t.sample()
	nodes := tree{{feature: -1}}
	t.tables = t.tables[:0]
	t.tables = append(t.tables, nil)
	root := &gnode{end: int32(len(t.rows))}
	for _, r := range t.rows {
		root.g += t.gh[r].g
		root.h += t.gh[r].h
	}
	root.canSplit = t.splittable(root)
	if root.canSplit {
		root.hist = t.getHist()
		all := len(t.rows) == t.n
		t.builderHists(root.hist, t.rows)
		t.forFeatures(len(t.rows), func(f int) {
			t.buildHist(f, root.hist, t.rows, all)
			t.candA[f] = t.evalFeature(f, root.hist, root.g, root.h)
		})
		root.best = t.reduce(t.candA)
	}
	queue := []*gnode{root}
	leaves := 1
	for len(queue) > 0 {
		k := 0
		if p.GrowPolicy == GrowLossguide {
			for i, nd := range queue {
				if nd.best.gain > queue[k].best.gain {
					k = i
				}
			}
		}
		nd := queue[k]
		queue = slices.Delete(queue, k, k+1)
		if !nd.canSplit || nd.best.gain <= 0 || (p.MaxLeaves > 0 && leaves >= p.MaxLeaves) {
			t.makeLeaf(nodes, nd)
			continue
		}
		s := &nd.best
		table := t.table(s)
		mid := t.partition(nd, s, table)
		l := &gnode{idx: int32(len(nodes)), start: nd.start, end: mid, depth: nd.depth + 1, g: s.gl, h: s.hl}
		r := &gnode{idx: l.idx + 1, start: mid, end: nd.end, depth: nd.depth + 1, g: nd.g - s.gl, h: nd.h - s.hl}
		nodes[nd.idx] = t.makeSplitNode(s, l.idx, r.idx)
		nodes = append(nodes, node{feature: -1}, node{feature: -1})
		for len(t.tables) < len(nodes) {
			t.tables = append(t.tables, nil)
		}
		t.tables[nd.idx] = table
		leaves++
		l.canSplit, r.canSplit = t.splittable(l), t.splittable(r)
		if l.canSplit || r.canSplit {
			t.childHists(nd, l, r)
		}
		t.putHist(nd.hist)
		nd.hist = nil
		queue = append(queue, l, r)
	}
	if len(t.unsampled) > 0 {
		parallelBlocks(len(t.unsampled), t.threads, func(lo, hi int) {
			for _, r := range t.unsampled[lo:hi] {
				k := int32(0)
				for nodes[k].feature >= 0 {
					if t.tables[k][t.feats[nodes[k].feature].bin(r)] {
						k = nodes[k].left
					} else {
						k = nodes[k].right
					}
				}
				t.pred[r] += nodes[k].value
			}
		})
	}
	return nodes
}

func (f *feature) bin(r int32) int {
	if f.b8 != nil {
		return int(f.b8[r])
	}
	return int(f.b16[r])
}

// childHists builds the histogram of the smaller child from its rows, gets
// the larger child's as parent minus smaller (in the parent's buffer), and
// finds the best splits of the children that may split.
func (t *trainer) childHists(parent, l, r *gnode) {
	small, large := l, r
	if r.end-r.start < l.end-l.start {
		small, large = r, l
	}
	small.hist = t.getHist()
	large.hist = parent.hist
	parent.hist = nil
	rows := t.rows[small.start:small.end]
	t.builderHists(small.hist, rows)
	t.forFeatures(len(rows), func(f int) {
		t.buildHist(f, small.hist, rows, false)
		ft := &t.feats[f]
		sh, lh := small.hist[ft.off:ft.off+ft.nb], large.hist[ft.off:ft.off+ft.nb]
		for b := range lh {
			lh[b].g -= sh[b].g
			lh[b].h -= sh[b].h
		}
		if l.canSplit {
			t.candA[f] = t.evalFeature(f, l.hist, l.g, l.h)
		}
		if r.canSplit {
			t.candB[f] = t.evalFeature(f, r.hist, r.g, r.h)
		}
	})
	if l.canSplit {
		l.best = t.reduce(t.candA)
	} else {
		t.putHist(l.hist)
		l.hist = nil
	}
	if r.canSplit {
		r.best = t.reduce(t.candB)
	} else {
		t.putHist(r.hist)
		r.hist = nil
	}
}

func (t *trainer) makeLeaf(nodes tree, nd *gnode) {
	t.putHist(nd.hist)
	nd.hist = nil
	p := t.p
	w := -thresholdL1(nd.g, p.Alpha) / (nd.h + p.Lambda) * p.LearningRate
	if nd.h+p.Lambda == 0 || !finite(w) {
		w = 0
	}
	nodes[nd.idx] = node{feature: -1, value: w}
	for _, r := range t.rows[nd.start:nd.end] {
		t.pred[r] += w
	}
}

func (t *trainer) makeSplitNode(s *split, left, right int32) node {
	n := node{feature: s.feature, left: left, right: right, gain: s.gain + t.p.Gamma}
	if s.defaultLeft {
		n.flags |= flagDefaultLeft
	}
	f := &t.feats[s.feature]
	if f.cat {
		n.flags |= flagCategorical
		n.set = s.set
	} else if s.bin == 0 {
		n.threshold = math.Inf(-1)
	} else {
		n.threshold = f.cuts[s.bin-1]
	}
	return n
}

// table returns, for every bin of the split's feature, whether its rows go
// left.
func (t *trainer) table(s *split) []bool {
	f := &t.feats[s.feature]
	tb := make([]bool, max(f.nb, 256))
	tb[0] = s.defaultLeft
	for b := 1; b < f.nb; b++ {
		if f.cat {
			c := b - 1
			tb[b] = c>>6 < len(s.set) && s.set[c>>6]>>(c&63)&1 != 0
		} else {
			tb[b] = b <= int(s.bin)
		}
	}
	return tb
}

// partition reorders rows[nd.start:nd.end] stably so that the rows going
// left come first, and returns where the right child starts. Large nodes
// are partitioned in fixed chunks in parallel, then the chunks' left and
// right parts are concatenated in chunk order, so the order is the same
// as a serial stable partition.
func (t *trainer) partition(nd *gnode, s *split, table []bool) int32 {
	rows := t.rows[nd.start:nd.end]
	tmp := t.scratch[:len(rows)]
	f := &t.feats[s.feature]
	const chunk = 1 << 14
	nc := (len(rows) + chunk - 1) / chunk
	if nc <= 1 || t.threads <= 1 {
		w := partitionChunk(f, table, rows, tmp)
		copy(rows[w:], tmp)
		return nd.start + int32(w)
	}
	nl := make([]int, nc)
	parallelFor(nc, t.threads, func(c int) {
		lo, hi := c*chunk, min((c+1)*chunk, len(rows))
		nl[c] = partitionChunk(f, table, rows[lo:hi], tmp[lo:hi])
	})
	w := 0
	for c := 0; c < nc; c++ {
		lo := c * chunk
		w += copy(rows[w:], rows[lo:lo+nl[c]])
	}
	mid := w
	for c := 0; c < nc; c++ {
		lo, hi := c*chunk, min((c+1)*chunk, len(rows))
		w += copy(rows[w:], tmp[lo:hi-nl[c]])
	}
	return nd.start + int32(mid)
}

// partitionChunk moves the rows going left to the front of rows, in
// order, writes the others in order to the front of tmp, and returns the
// number going left.
func partitionChunk(f *feature, table []bool, rows, tmp []int32) int {
	// branch-free: every row is written to both sides and the side it
	// belongs to advances
	w, k := 0, 0
	tmp = tmp[:len(rows)]
	if f.b8 != nil {
		tb := (*[256]bool)(table)
		bins := f.b8
		for _, r := range rows {
			l := b2i(tb[bins[r]])
			rows[w] = r
			tmp[k] = r
			w += l
			k += 1 - l
		}
		return w
	}
	bins := f.b16
	for _, r := range rows {
		l := b2i(table[bins[r]])
		rows[w] = r
		tmp[k] = r
		w += l
		k += 1 - l
	}
	return w
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// buildHist fills feature f's part of hist with the sums over rows (over
// every row, in order, when all is set).
func (t *trainer) buildHist(f int, hist []ghPair, rows []int32, all bool) {
	if t.hbDone != nil && t.hbDone[f] {
		return
	}
	ft := &t.feats[f]
	h := hist[ft.off : ft.off+ft.span]
	clear(h[:ft.nb])
	gh := t.gh
	if ft.b8 != nil {
		hh := (*[256]ghPair)(h)
		bins := ft.b8
		if all {
			gh = gh[:len(bins)]
			for i, b := range bins {
				e := &hh[b]
				e.g += gh[i].g
				e.h += gh[i].h
			}
			return
		}
		for _, r := range rows {
			e := &hh[bins[r]]
			q := gh[r]
			e.g += q.g
			e.h += q.h
		}
		return
	}
	bins := ft.b16
	for _, r := range rows {
		e := &h[bins[r]]
		q := gh[r]
		e.g += q.g
		e.h += q.h
	}
}

func thresholdL1(g, alpha float64) float64 {
	switch {
	case g > alpha:
		return g - alpha
	case g < -alpha:
		return g + alpha
	}
	return 0
}

func (t *trainer) score(g, h float64) float64 {
	if t.p.Alpha != 0 {
		g = thresholdL1(g, t.p.Alpha)
	}
	d := h + t.p.Lambda
	if d <= 0 {
		return 0
	}
	return g * g / d
}

// startBuilder hands the binned columns to hb.
func (t *trainer) startBuilder(hb HistogramBuilder) error {
	bins := make([][]uint8, len(t.feats))
	for f := range t.feats {
		bins[f] = t.feats[f].b8
	}
	if err := hb.Start(bins); err != nil {
		return fmt.Errorf("gbdt: histogram builder: %w", err)
	}
	t.hb = hb
	t.hbDone = make([]bool, len(t.feats))
	return nil
}

// sendGradients hands the tree's gradients and hessians to the builder.
func (t *trainer) sendGradients() {
	if t.hbErr != nil {
		return
	}
	g, h := make([]float64, t.n), make([]float64, t.n)
	for i, q := range t.gh {
		g[i], h[i] = q.g, q.h
	}
	t.hbErr = t.hb.Gradients(g, h)
}

// builderHists has the builder fill hist for the active features with at
// most 256 bins and marks them done; buildHist then skips them. On an
// error nothing is marked, the CPU builds everything and Train fails after
// the tree.
func (t *trainer) builderHists(hist []ghPair, rows []int32) {
	if t.hb == nil {
		return
	}
	clear(t.hbDone)
	if t.hbErr != nil {
		return
	}
	t.hbFeats = t.hbFeats[:0]
	for _, f := range t.active {
		if t.feats[f].b8 != nil {
			t.hbFeats = append(t.hbFeats, int(f))
		}
	}
	for len(t.hbOut) < len(t.hbFeats) {
		t.hbOut = append(t.hbOut, make([]float64, 512))
	}
	out := t.hbOut[:len(t.hbFeats)]
	if err := t.hb.Build(rows, t.hbFeats, out); err != nil {
		t.hbErr = err
		return
	}
	for k, f := range t.hbFeats {
		ft := &t.feats[f]
		h := hist[ft.off : ft.off+ft.nb]
		for b := range h {
			h[b] = ghPair{out[k][2*b], out[k][2*b+1]}
		}
		t.hbDone[f] = true
	}
}
