package mlp

import (
	"math"
	"math/rand/v2"
	"sync"
)

// A minibatch step runs in two phases, each split between the threads:
//
//   - by rows: the forward pass of every layer, the loss and the backward
//     pass down to each layer's error terms, written row-major and
//     transposed;
//   - by parameters: each weight's gradient summed over the batch's rows
//     in row order, then its Adam update.
//
// No value is ever summed across threads, so the result does not depend on
// the number of threads.
//
// Indicator inputs (0/1 columns, as one-hot encoding makes) are mostly zero:
// the first layer multiplies only the other columns densely and adds the
// weights of each row's nonzero indicators, and their gradients are summed
// over the rows where they are nonzero.

// layerState is one layer's training state: its weights transposed, the
// gradients and Adam's moments in that layout, and the batch's buffers.
type layerState struct {
	layer   *Layer      // the model's layer, kept in step with wt
	wt      [][]float64 // Out rows of the dense inputs' weights
	cols    []int       // the model's input of each column of wt; nil: all, in order
	wRows   [][]float64 // In rows of Out weights: the model's layout
	gw      [][]float64 // gradient of wt
	gb      []float64   // gradient of the biases
	mw, vw  []float64   // Adam's moments of wt, flat
	mb, vb  []float64   // and of the biases
	act     [][]float64 // rows × Out: outputs (after activation and dropout)
	actT    [][]float64 // Out × rows: the same transposed
	delta   [][]float64 // rows × Out: loss gradient of the pre-activation
	deltaT  [][]float64 // Out × rows: the same transposed
	keep    [][]float64 // rows × Out: dropout factors (0 or 1/(1-dropout))
	actBuf  []float64   // backing of actT
	deltBuf []float64   // backing of deltaT
}

// unit is a block of one layer's output units updated by one thread.
type unit struct{ layer, from, to int }

// trainer holds everything a step needs, allocated once.
type trainer struct {
	m         *Model
	p         Params
	threads   int
	ls        []layerState
	capRows   int         // rows the row buffers hold
	batchRows int         // rows the transposed buffers hold now
	xb        [][]float64 // batch rows × In: the batch's inputs, gathered
	dense     []int       // the first layer's dense inputs
	ind       []int       // and its indicator inputs
	xd        [][]float64 // block rows × dense inputs, gathered
	nz        [][]int     // block rows: positions in ind of the nonzero indicators
	nzVal     [][]float64 // and their values
	gInd      [][]float64 // ind × first layer's Out: the indicators' weight gradients
	mInd      []float64   // Adam's moments of the indicators' weights, flat as gInd
	vInd      []float64
	yb        []float64   // the current block's labels
	inT       [][]float64 // dense inputs × batch rows: xd transposed
	inBuf     []float64   // backing of inT
	loss      []float64   // per-row loss of the current block
	rng       []*rand.Rand
	pcg       []*rand.PCG
	parts     [][]unit // phase two's units, one list per thread
	first     [][2]int // each thread's range of the first layer's units
	steps     int
	lr        float64 // Adam's bias-corrected step size for this step

	// The current job, read by the workers.
	data, y []float64
	idx     []int // rows of data in this block; nil means consecutive from base
	base    int
	rows    int // rows in this block
	train   bool
	key     uint64
	jobs    []chan int
	done    sync.WaitGroup
}

const (
	phaseRows = iota
	phaseParams
)

// newTrainer allocates the buffers for batches of p.BatchSize rows and
// blocks of evalRows validation rows, and starts threads-1 workers; close
// stops them. indicator marks the 0/1 inputs.
func newTrainer(m *Model, p Params, threads, evalRows int, indicator []bool) *trainer {
	t := &trainer{m: m, p: p, threads: threads, capRows: max(p.BatchSize, evalRows)}
	for j, ind := range indicator {
		if ind {
			t.ind = append(t.ind, j)
		} else {
			t.dense = append(t.dense, j)
		}
	}
	nd, ni, out0 := len(t.dense), len(t.ind), m.Layers[0].Out
	t.xb = rows(make([]float64, p.BatchSize*m.Layers[0].In), p.BatchSize, m.Layers[0].In)
	t.xd = rows(make([]float64, t.capRows*nd), t.capRows, nd)
	t.nz = make([][]int, t.capRows)
	t.nzVal = make([][]float64, t.capRows)
	for r := range t.nz {
		t.nz[r] = make([]int, 0, ni)
		t.nzVal[r] = make([]float64, 0, ni)
	}
	t.gInd = rows(make([]float64, ni*out0), ni, out0)
	t.mInd, t.vInd = make([]float64, ni*out0), make([]float64, ni*out0)
	t.yb = make([]float64, t.capRows)
	t.inBuf = make([]float64, nd*p.BatchSize)
	t.inT = make([][]float64, nd)
	t.loss = make([]float64, t.capRows)
	for l := range m.Layers {
		layer := &m.Layers[l]
		in, out := layer.In, layer.Out
		var cols []int
		if l == 0 && ni > 0 {
			in, cols = nd, t.dense
		}
		s := layerState{layer: layer, wt: rows(make([]float64, in*out), out, in), cols: cols, wRows: rows(layer.W, layer.In, out),
			gw: rows(make([]float64, in*out), out, in), gb: make([]float64, out),
			mw: make([]float64, in*out), vw: make([]float64, in*out), mb: make([]float64, out), vb: make([]float64, out),
			act: rows(make([]float64, t.capRows*out), t.capRows, out), delta: rows(make([]float64, t.capRows*out), t.capRows, out),
			actBuf: make([]float64, out*p.BatchSize), deltBuf: make([]float64, out*p.BatchSize),
			actT: make([][]float64, out), deltaT: make([][]float64, out)}
		for k := range out {
			for j := range in {
				s.wt[k][j] = layer.W[s.col(j)*out+k]
			}
		}
		if p.Dropout > 0 && l+1 < len(m.Layers) {
			s.keep = rows(make([]float64, p.BatchSize*out), p.BatchSize, out)
		}
		t.ls = append(t.ls, s)
	}
	t.setBatchRows(p.BatchSize)
	for range threads {
		pcg := rand.NewPCG(0, 0)
		t.pcg = append(t.pcg, pcg)
		t.rng = append(t.rng, rand.New(pcg))
	}
	t.parts = partitionUnits(m.Layers, threads)
	for _, part := range t.parts {
		r := [2]int{0, 0}
		for _, u := range part {
			if u.layer == 0 {
				if r[0] == r[1] {
					r[0] = u.from
				}
				r[1] = u.to
			}
		}
		t.first = append(t.first, r)
	}
	for w := 1; w < threads; w++ {
		ch := make(chan int)
		t.jobs = append(t.jobs, ch)
		go func() {
			for phase := range ch {
				t.run(phase, w)
				t.done.Done()
			}
		}()
	}
	return t
}

// col is the model's input of column j of wt.
func (s *layerState) col(j int) int {
	if s.cols == nil {
		return j
	}
	return s.cols[j]
}

// close stops the worker goroutines.
func (t *trainer) close() {
	for _, ch := range t.jobs {
		close(ch)
	}
}

// rows cuts a flat n×w array into n rows of w.
func rows(flat []float64, n, w int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = flat[i*w : (i+1)*w : (i+1)*w]
	}
	return out
}

// setBatchRows points the transposed buffers at rows of length n.
func (t *trainer) setBatchRows(n int) {
	t.batchRows = n
	bs := t.p.BatchSize
	for i := range t.inT {
		t.inT[i] = t.inBuf[i*bs : i*bs+n : i*bs+n]
	}
	for l := range t.ls {
		s := &t.ls[l]
		for k := range s.actT {
			s.actT[k] = s.actBuf[k*bs : k*bs+n : k*bs+n]
			s.deltaT[k] = s.deltBuf[k*bs : k*bs+n : k*bs+n]
		}
	}
}

// partitionUnits splits the output units of every layer into blocks of
// three (the kernel's rows) and deals contiguous runs of blocks to the
// threads so that each gets about the same number of weights.
func partitionUnits(layers []Layer, threads int) [][]unit {
	var all []unit
	total := 0
	for l, layer := range layers {
		for k := 0; k < layer.Out; k += 3 {
			all = append(all, unit{l, k, min(k+3, layer.Out)})
			total += (min(k+3, layer.Out) - k) * (layer.In + 1)
		}
	}
	parts := make([][]unit, threads)
	done, w := 0, 0
	for _, u := range all {
		parts[w] = append(parts[w], u)
		done += (u.to - u.from) * (layers[u.layer].In + 1)
		if w+1 < threads && done*threads >= total*(w+1) {
			w++
		}
	}
	return parts
}

// dispatch runs phase on every thread and waits for all of them.
func (t *trainer) dispatch(phase int) {
	t.done.Add(len(t.jobs))
	for _, ch := range t.jobs {
		ch <- phase
	}
	t.run(phase, 0)
	t.done.Wait()
}

func (t *trainer) run(phase, w int) {
	if phase == phaseParams {
		if from, to := t.first[w][0], t.first[w][1]; from < to && len(t.ind) > 0 {
			t.indicatorGradient(from, to)
			t.indicatorAdam(from, to)
		}
		for _, u := range t.parts[w] {
			t.gradient(u)
			t.adam(u)
		}
		return
	}
	// Rows in runs of three, the kernel's block.
	per := (t.rows + t.threads - 1) / t.threads
	per = (per + 2) / 3 * 3
	from, to := min(w*per, t.rows), min((w+1)*per, t.rows)
	if from < to {
		t.rowsPass(from, to, w)
	}
}

// step runs one Adam update on the rows of batch and returns their summed
// loss.
func (t *trainer) step(data, y []float64, batch []int, key uint64) float64 {
	t.backprop(data, y, batch, key)
	t.steps++
	const b1, b2 = 0.9, 0.999
	t.lr = t.p.LearningRate * math.Sqrt(1-math.Pow(b2, float64(t.steps))) / (1 - math.Pow(b1, float64(t.steps)))
	t.dispatch(phaseParams)
	s := 0.0
	for _, v := range t.loss[:len(batch)] {
		s += v
	}
	return s
}

// backprop runs the forward and backward passes on the rows of batch, key
// seeding the dropout masks.
func (t *trainer) backprop(data, y []float64, batch []int, key uint64) {
	if len(batch) != t.batchRows {
		t.setBatchRows(len(batch))
	}
	t.data, t.y, t.idx, t.rows, t.train, t.key = data, y, batch, len(batch), true, key
	t.dispatch(phaseRows)
}

// meanLoss is the mean loss over standardised rows, without dropout.
func (t *trainer) meanLoss(data, y []float64) float64 {
	s := 0.0
	t.data, t.y, t.idx, t.train = data, y, nil, false
	for start := 0; start < len(y); start += t.capRows {
		t.base, t.rows = start, min(t.capRows, len(y)-start)
		t.dispatch(phaseRows)
		for _, v := range t.loss[:t.rows] {
			s += v
		}
	}
	return s / float64(len(y))
}

// rowsPass runs the forward pass on rows [from, to) of the current block
// and, when training, the backward pass down to the first layer's error
// terms.
func (t *trainer) rowsPass(from, to, w int) {
	m := t.m
	d := m.Layers[0].In
	if t.idx != nil {
		// The batch's rows lie anywhere in memory: fetch them in loops of
		// independent loads first, so that their cache misses overlap.
		for r, i := range t.idx[from:to] {
			t.yb[from+r] = t.y[i]
		}
		for r, i := range t.idx[from:to] {
			copy(t.xb[from+r], t.data[i*d:(i+1)*d])
		}
	} else {
		copy(t.yb[from:to], t.y[t.base+from:t.base+to])
	}
	for r := from; r < to; r++ {
		var row []float64
		if t.idx != nil {
			row = t.xb[r]
		} else {
			i := t.base + r
			row = t.data[i*d : (i+1)*d]
		}
		xd := t.xd[r]
		if len(xd) == d {
			copy(xd, row)
			continue
		}
		for j, c := range t.dense {
			xd[j] = row[c]
		}
		nz, nzVal := t.nz[r][:0], t.nzVal[r][:0]
		for j, c := range t.ind {
			if v := row[c]; v != 0 {
				nz, nzVal = append(nz, j), append(nzVal, v)
			}
		}
		t.nz[r], t.nzVal[r] = nz, nzVal
	}
	if t.train && t.ls[0].layer.Out > 1 {
		transpose(t.inT, t.xd, from, to)
	}
	in := t.xd[from:to]
	top := len(t.ls) - 1
	for l := range t.ls {
		s := &t.ls[l]
		out := s.act[from:to]
		dotRows(out, in, s.wt, s.layer.B)
		if l == 0 && len(t.ind) > 0 {
			for r := from; r < to; r++ {
				row, nz, val := s.act[r], t.nz[r], t.nzVal[r]
				n := 0
				// Two indicators per pass, added in order.
				for ; n+2 <= len(nz); n += 2 {
					v0, v1 := val[n], val[n+1]
					w0, w1 := s.wRows[t.ind[nz[n]]][:len(row)], s.wRows[t.ind[nz[n+1]]][:len(row)]
					for k, z := range row {
						row[k] = z + v0*w0[k] + v1*w1[k]
					}
				}
				if n < len(nz) {
					v, w := val[n], s.wRows[t.ind[nz[n]]][:len(row)]
					for k, z := range row {
						row[k] = z + v*w[k]
					}
				}
			}
		}
		if l < top {
			t.activate(l, from, to, w)
		}
		in = out
	}
	for r := from; r < to; r++ {
		z, y := t.ls[top].act[r][0], t.yb[r]
		t.loss[r] = m.pointLoss(z, y)
		if !t.train {
			continue
		}
		g := z - y
		if m.Task == "binary" {
			g = sigmoid(z) - y
		}
		t.ls[top].delta[r][0] = g
	}
	if !t.train {
		return
	}
	for l := top; l > 0; l-- {
		s, prev := &t.ls[l], &t.ls[l-1]
		if s.layer.Out == 1 {
			w := s.layer.W
			for r := from; r < to; r++ {
				g, pd := s.delta[r][0], prev.delta[r][:len(w)]
				for i, wi := range w {
					pd[i] = g * wi
				}
			}
		} else {
			dotRows(prev.delta[from:to], s.delta[from:to], s.wRows, nil)
		}
		t.derivative(prev, from, to)
	}
}

// activate applies the activation and, when training, dropout to rows
// [from, to) of hidden layer l's output, and writes the transposed copy
// (not needed when the next layer has one unit: see gradient).
func (t *trainer) activate(l, from, to, w int) {
	s := &t.ls[l]
	for _, row := range s.act[from:to] {
		switch t.m.Activation {
		case "tanh":
			for k, v := range row {
				row[k] = math.Tanh(v)
			}
		case "sigmoid":
			for k, v := range row {
				row[k] = sigmoid(v)
			}
		default:
			for k, v := range row {
				row[k] = max(v, 0)
			}
		}
	}
	if !t.train {
		return
	}
	if t.p.Dropout > 0 {
		keep := 1 / (1 - t.p.Dropout)
		for r := from; r < to; r++ {
			// One stream per row and layer: the mask does not depend
			// on which thread draws it.
			t.pcg[w].Seed(t.p.Seed^t.key, uint64(r*len(t.ls)+l))
			row, f := s.act[r], s.keep[r][:len(s.act[r])]
			for k := range row {
				f[k] = keep
				if t.rng[w].Float64() < t.p.Dropout {
					f[k] = 0
				}
				row[k] *= f[k]
			}
		}
	}
	if t.ls[l+1].layer.Out > 1 {
		transpose(s.actT, s.act, from, to)
	}
}

// derivative multiplies rows [from, to) of a hidden layer's back-propagated
// gradient by the dropout factor and the activation's derivative, and
// writes the transposed copy (not needed for one unit: see gradient).
func (t *trainer) derivative(s *layerState, from, to int) {
	for r := from; r < to; r++ {
		row, act := s.delta[r], s.act[r][:len(s.delta[r])]
		var keep []float64
		if s.keep != nil {
			keep = s.keep[r][:len(row)]
			for k, f := range keep {
				row[k] *= f
			}
		}
		switch t.m.Activation {
		case "tanh", "sigmoid":
			for k, a := range act {
				if keep != nil && keep[k] != 0 {
					a /= keep[k]
				}
				if t.m.Activation == "tanh" {
					row[k] *= 1 - a*a
				} else {
					row[k] *= a * (1 - a)
				}
			}
		default:
			// ReLU's output is +0 or positive (0 where dropped): keep
			// the gradient where its bits are not zero, without a
			// branch.
			for k, a := range act {
				mask := uint64(-int64(math.Float64bits(a)) >> 63)
				row[k] = math.Float64frombits(math.Float64bits(row[k]) & mask)
			}
		}
	}
	if s.layer.Out > 1 {
		transpose(s.deltaT, s.delta, from, to)
	}
}

// transpose copies columns [from, to) of the rows src into dst: dst[k][r]
// = src[r][k].
func transpose(dst, src [][]float64, from, to int) {
	const tile = 8
	for r0 := from; r0 < to; r0 += tile {
		r1 := min(r0+tile, to)
		for k, d := range dst {
			d = d[r0:r1]
			for r := range d {
				d[r] = src[r0+r][k]
			}
		}
	}
}

// gradient sums one block of output units' weight and bias gradients over
// the batch's rows, in row order.
func (t *trainer) gradient(u unit) {
	s := &t.ls[u.layer]
	if s.layer.Out == 1 {
		// One unit: add each row's input times its error term, which
		// sums every weight's gradient in the same order as dotRows
		// without the transposed copies.
		in := t.xd
		if u.layer > 0 {
			in = t.ls[u.layer-1].act
		}
		g, b := s.gw[0], 0.0
		clear(g)
		r := 0
		// Four rows per pass, added in order.
		for ; r+4 <= t.rows; r += 4 {
			d0, d1, d2, d3 := s.delta[r][0], s.delta[r+1][0], s.delta[r+2][0], s.delta[r+3][0]
			a0, a1, a2, a3 := in[r][:len(g)], in[r+1][:len(g)], in[r+2][:len(g)], in[r+3][:len(g)]
			for i, z := range g {
				g[i] = z + d0*a0[i] + d1*a1[i] + d2*a2[i] + d3*a3[i]
			}
			b = b + d0 + d1 + d2 + d3
		}
		for ; r < t.rows; r++ {
			d, a := s.delta[r][0], in[r][:len(g)]
			for i, z := range g {
				g[i] = z + d*a[i]
			}
			b += d
		}
		s.gb[0] = b
		return
	}
	in := t.inT
	if u.layer > 0 {
		in = t.ls[u.layer-1].actT
	}
	dotRows(s.gw[u.from:u.to], s.deltaT[u.from:u.to], in, nil)
	for k := u.from; k < u.to; k++ {
		g := 0.0
		for _, v := range s.deltaT[k] {
			g += v
		}
		s.gb[k] = g
	}
}

// indicatorGradient sums the gradients of the indicator inputs' weights to
// the first layer's units [from, to) over the rows where they are nonzero,
// in row order.
func (t *trainer) indicatorGradient(from, to int) {
	for _, g := range t.gInd {
		clear(g[from:to])
	}
	for r, nz := range t.nz[:t.rows] {
		delta := t.ls[0].delta[r][from:to]
		for n, j := range nz {
			v, g := t.nzVal[r][n], t.gInd[j][from:to]
			g = g[:len(delta)]
			for k, d := range delta {
				g[k] += v * d
			}
		}
	}
}

// indicatorAdam updates the indicator inputs' weights to the first layer's
// units [from, to) from their gradients, as adam does.
func (t *trainer) indicatorAdam(from, to int) {
	bs := float64(t.rows)
	const b1, b2, eps = 0.9, 0.999, 1e-8
	lr, l2 := t.lr, t.p.L2
	out := t.ls[0].layer.Out
	for j, c := range t.ind {
		g := t.gInd[j][from:to]
		w := t.ls[0].layer.W[c*out+from : c*out+to][:len(g)]
		mw, vw := t.mInd[j*out+from : j*out+to][:len(g)], t.vInd[j*out+from : j*out+to][:len(g)]
		for k, gk := range g {
			gk = gk/bs + l2*w[k]/bs
			mw[k] = b1*mw[k] + (1-b1)*gk
			vw[k] = b2*vw[k] + (1-b2)*gk*gk
			w[k] -= lr * mw[k] / (math.Sqrt(vw[k]) + eps)
		}
	}
}

// adam updates one block of output units from their gradients, with
// scikit-learn's L2 term alpha·W / batch size, and copies the weights into
// the model's layout.
func (t *trainer) adam(u unit) {
	s := &t.ls[u.layer]
	bs := float64(t.rows)
	const b1, b2, eps = 0.9, 0.999, 1e-8
	lr, l2 := t.lr, t.p.L2
	out := s.layer.Out
	for k := u.from; k < u.to; k++ {
		wt, gw := s.wt[k], s.gw[k][:len(s.wt[k])]
		mw, vw := s.mw[k*len(wt):(k+1)*len(wt)], s.vw[k*len(wt):(k+1)*len(wt)]
		for i, w := range wt {
			g := gw[i]/bs + l2*w/bs
			mw[i] = b1*mw[i] + (1-b1)*g
			vw[i] = b2*vw[i] + (1-b2)*g*g
			w -= lr * mw[i] / (math.Sqrt(vw[i]) + eps)
			wt[i] = w
			s.layer.W[s.col(i)*out+k] = w
		}
		g := s.gb[k] / bs
		s.mb[k] = b1*s.mb[k] + (1-b1)*g
		s.vb[k] = b2*s.vb[k] + (1-b2)*g*g
		s.layer.B[k] -= lr * s.mb[k] / (math.Sqrt(s.vb[k]) + eps)
	}
}
