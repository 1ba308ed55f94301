package gpumlp

import (
	"fmt"
	"math"

	"github.com/slipway-ml/slipway/runners/train/mlp"
)

// net is the network's state on a backend: per layer l (widths[l] inputs,
// widths[l+1] outputs) a block of (in+1)×out parameters, the weights
// row-major In×Out as in mlp.Layer followed by the biases, Adam's moments
// in the same layout and the split gradient sums; per batch the inputs,
// each layer's outputs and error terms and the dropout factors.
type net struct {
	be      backend
	widths  []int // inputs, hidden widths, 1
	act     int
	task    int
	l2      float32
	lr      float64
	dropout float64
	keepf   float32
	thresh  uint64
	seed    uint64
	cap     int         // rows the batch buffers hold
	params  []ref       // per layer
	mom     []ref       // Adam's first moments
	vel     []ref       // Adam's second moments
	part    []ref       // split gradient sums
	a       []ref       // a[0] the batch's inputs, a[j] layer j-1's outputs
	delta   []ref       // delta[j] the loss gradient of a[j]'s pre-activation
	keep    []ref       // keep[j] the dropout factors of a[j] (hidden j)
	yb      ref         // the batch's labels
	steps   int         // Adam steps taken
	tf32    bool        // matrix products on the tensor cores
	most    int         // the most parameters of one layer
	tables  map[int]ref // the adam kernel's table for a batch size
}

// activations numbers the mlp package's activations as the kernels do.
var activations = map[string]int{"relu": actReLU, "tanh": actTanh, "sigmoid": actSigmoid}

// newNet allocates the network's buffers for batches of up to capRows rows
// and uploads the model's initial weights.
func newNet(be backend, m *mlp.Model, p mlp.Params, opts Options, capRows int) (*net, error) {
	n := &net{be: be, act: activations[p.Activation], task: taskBinary, l2: float32(p.L2), lr: p.LearningRate,
		dropout: p.Dropout, seed: p.Seed, cap: capRows, tf32: opts.TF32}
	if p.Task == "regression" {
		n.task = taskRegression
	}
	if p.Dropout > 0 {
		n.keepf = float32(1 / (1 - p.Dropout))
		n.thresh = dropThreshold(p.Dropout)
	}
	n.widths = append(n.widths, m.Layers[0].In)
	for _, l := range m.Layers {
		n.widths = append(n.widths, l.Out)
	}
	alloc := func(words int) (ref, error) {
		b, err := be.alloc(words)
		return ref{b: b}, err
	}
	var err error
	if n.yb, err = alloc(capRows); err != nil {
		return nil, err
	}
	for j, w := range n.widths {
		buf, err := alloc(capRows * w)
		if err != nil {
			return nil, err
		}
		n.a = append(n.a, buf)
		var d, k ref
		if j > 0 {
			if d, err = alloc(capRows * w); err != nil {
				return nil, err
			}
		}
		if j > 0 && j+1 < len(n.widths) && p.Dropout > 0 {
			if k, err = alloc(capRows * w); err != nil {
				return nil, err
			}
		}
		n.delta, n.keep = append(n.delta, d), append(n.keep, k)
	}
	// Every layer's parameters, moments and split gradient sums lie in one
	// buffer each, so that one launch updates them all.
	total, parts := 0, 0
	for l, layer := range m.Layers {
		size := (layer.In + 1) * layer.Out
		s := n.maxSplits(l, capRows)
		n.params = append(n.params, ref{off: total})
		n.part = append(n.part, ref{off: parts})
		total, parts, n.most = total+size, parts+s*size, max(n.most, size)
	}
	var bufs [4]ref
	for i, words := range []int{total, total, total, parts} {
		if bufs[i], err = alloc(words); err != nil {
			return nil, err
		}
	}
	w := make([]float32, 0, total)
	for l, layer := range m.Layers {
		n.params[l].b, n.part[l].b = bufs[0].b, bufs[3].b
		n.mom, n.vel = append(n.mom, ref{bufs[1].b, n.params[l].off}), append(n.vel, ref{bufs[2].b, n.params[l].off})
		for _, v := range layer.W {
			w = append(w, float32(v))
		}
		for _, v := range layer.B {
			w = append(w, float32(v))
		}
	}
	if err := be.write(bufs[0], w); err != nil {
		return nil, err
	}
	n.tables = map[int]ref{}
	return n, nil
}

// split returns how many blocks layer l's gradient sums over rows rows are
// split into, and the rows of each: enough blocks to fill a device (about
// 256 tiles), each of at least 64 rows, a multiple of the tile's 16.
func (n *net) split(l, rows int) (s, kc int) {
	target := n.splitTarget(l)
	kc = (rows + target - 1) / target
	kc = max(64, (kc+tileK-1)/tileK*tileK)
	return (rows + kc - 1) / kc, kc
}

// splitTarget is the number of splits that makes about 256 tiles of layer
// l's gradient product.
func (n *net) splitTarget(l int) int {
	tiles := ((n.widths[l] + tileM) / tileM) * ((n.widths[l+1] + tileN - 1) / tileN)
	return max(1, (256+tiles-1)/tiles)
}

// maxSplits bounds split(l, rows) for every rows ≤ capRows: each split
// has at least 64 rows, and at least rows/target of them.
func (n *net) maxSplits(l, capRows int) int {
	return min(n.splitTarget(l), (capRows+63)/64)
}

// layers is the number of layers, the output layer included.
func (n *net) layers() int { return len(n.widths) - 1 }

// forward runs the hidden layers on rows inputs at in (row-major,
// widths[0] wide), drawing dropout for the step key when training, then
// the output layer with the loss of labels y, summed per block of outRows
// rows into out[slot...]; when training it also writes the output's and
// the last hidden layer's error terms.
func (n *net) forward(in, y ref, rows int, train bool, key uint64, out ref, slot int) error {
	top := n.layers() - 1
	for l := range top {
		inW, outW := n.widths[l], n.widths[l+1]
		src := in
		if l > 0 {
			src = n.a[l]
		}
		g := gemmArgs{m: rows, mp: rows, n: outW, k: inW, kc: inW, p: src, pa: inW, pt: 1,
			q: n.params[l], qt: outW, qb: 1, c: n.a[l+1], ldc: outW, init: n.params[l].at(inW * outW),
			mode: modeHidden, act: n.act, tf32: n.tf32}
		if train && n.dropout > 0 {
			g.keep = n.keep[l+1]
			if err := n.be.dropmask(g.keep, rows, outW, n.seed^key, n.layers(), l, n.thresh, n.keepf); err != nil {
				return err
			}
		}
		if err := n.be.gemm(g); err != nil {
			return err
		}
	}
	o := outputArgs{a: n.a[top], h: n.widths[top], w: n.params[top], y: y, rows: rows, task: n.task,
		z: n.a[top+1], act: n.act, out: out, slot: slot}
	if train {
		o.delta, o.prev, o.keep = n.delta[top+1], n.delta[top], n.keep[top]
	}
	return n.be.output(o)
}

// lossSlots is the number of loss sums of total rows taken per rows at a
// time: outputBlocks(per) for each full run and fewer for the last.
func lossSlots(total, per int) int {
	full := (total - 1) / per
	return full*outputBlocks(per) + outputBlocks(total-full*per)
}

// step runs one Adam step on the rows perm[start, start+rows) of x and y,
// writing their losses, summed per block of outRows rows, to out[slot...].
func (n *net) step(x, y, perm ref, start, rows int, key uint64, out ref, slot int) error {
	if err := n.backprop(x, y, perm, start, rows, key, out, slot); err != nil {
		return err
	}
	return n.update(rows)
}

// backprop runs the forward and backward passes on the rows perm[start,
// start+rows) of x and y and sums the gradients into the split sums.
func (n *net) backprop(x, y, perm ref, start, rows int, key uint64, out ref, slot int) error {
	be := n.be
	top := n.layers()
	if err := be.gather(x, y, perm, start, rows, n.widths[0], n.a[0], n.yb); err != nil {
		return err
	}
	if err := n.forward(n.a[0], n.yb, rows, true, key, out, slot); err != nil {
		return err
	}
	for l := top - 2; l >= 1; l-- {
		inW, outW := n.widths[l], n.widths[l+1]
		g := gemmArgs{m: rows, mp: rows, n: inW, k: outW, kc: outW, p: n.delta[l+1], pa: outW, pt: 1,
			q: n.params[l], qt: 1, qb: outW, c: n.delta[l], ldc: inW, mode: modeBackward, act: n.act,
			keep: n.keep[l], aux: n.a[l], tf32: n.tf32}
		if err := be.gemm(g); err != nil {
			return err
		}
	}
	return n.gradients(rows)
}

// update takes Adam's step from the split gradient sums of a batch of rows
// rows.
func (n *net) update(rows int) error {
	top := n.layers()
	n.steps++
	const b1, b2 = 0.9, 0.999
	lr := n.lr * math.Sqrt(1-math.Pow(b2, float64(n.steps))) / (1 - math.Pow(b1, float64(n.steps)))
	table, err := n.table(rows)
	if err != nil {
		return err
	}
	return n.be.adam(adamArgs{w: ref{b: n.params[0].b}, m: ref{b: n.mom[0].b}, v: ref{b: n.vel[0].b}, part: ref{b: n.part[0].b},
		table: table, layers: top, most: n.most, l2: n.l2, bs: float32(rows), lr: float32(lr)})
}

// table returns the adam kernel's table for batches of rows rows, making
// it the first time.
func (n *net) table(rows int) (ref, error) {
	if t, ok := n.tables[rows]; ok {
		return t, nil
	}
	var words []int32
	for l := range n.layers() {
		inW, outW := n.widths[l], n.widths[l+1]
		s, _ := n.split(l, rows)
		size := (inW + 1) * outW
		words = append(words, i32(n.params[l].off), i32(size), i32(inW*outW), i32(s), i32(size), i32(n.part[l].off))
	}
	b, err := n.be.alloc(len(words))
	if err != nil {
		return ref{}, err
	}
	t := ref{b: b}
	if err := n.be.writeInts(t, words); err != nil {
		return ref{}, err
	}
	n.tables[rows] = t
	return t, nil
}

// gradients sums every layer's weight and bias gradients over the batch's
// rows into its split sums.
func (n *net) gradients(rows int) error {
	var gs []gemmArgs
	for l := range n.layers() {
		inW, outW := n.widths[l], n.widths[l+1]
		_, kc := n.split(l, rows)
		gs = append(gs, gemmArgs{m: inW + 1, mp: inW, n: outW, k: rows, kc: kc, p: n.a[l], pa: 1, pt: inW,
			q: n.delta[l+1], qt: outW, qb: 1, c: n.part[l], ldc: outW, cz: (inW + 1) * outW, mode: modeStore, tf32: n.tf32})
	}
	return n.be.gemmGroup(rows, gs)
}

// evaluate writes the losses of the nrows consecutive rows of x and y,
// summed per block of outRows rows, to out, cap rows at a time, and returns
// the number of sums (lossSlots(nrows, cap)).
func (n *net) evaluate(x, y ref, nrows int, out ref) (int, error) {
	d, slot := n.widths[0], 0
	for base := 0; base < nrows; base += n.cap {
		rows := min(n.cap, nrows-base)
		if err := n.forward(x.at(base*d), y.at(base), rows, false, 0, out, slot); err != nil {
			return 0, err
		}
		slot += outputBlocks(rows)
	}
	return slot, nil
}

// weights reads every layer's parameters.
func (n *net) weights() ([][]float32, error) {
	var out [][]float32
	for l := range n.layers() {
		w := make([]float32, (n.widths[l]+1)*n.widths[l+1])
		if err := n.be.read(w, n.params[l]); err != nil {
			return nil, fmt.Errorf("read layer %d's weights: %w", l, err)
		}
		out = append(out, w)
	}
	return out, nil
}

// setLayers copies parameters read by weights into the model's layers.
func setLayers(m *mlp.Model, w [][]float32) {
	for l := range m.Layers {
		layer := &m.Layers[l]
		for i := range layer.W {
			layer.W[i] = float64(w[l][i])
		}
		for k := range layer.B {
			layer.B[k] = float64(w[l][len(layer.W)+k])
		}
	}
}
