package gpumlp

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
	"github.com/slipway-ml/slipway/runners/train/mlp"
)

// benchFeatures is the input width BenchEpoch trains on.
const benchFeatures = 64

// BenchEpoch times one epoch of training steps (relu, Adam, no dropout) on
// rows random rows of 64 standard normal features with a label from a
// random linear rule, in minibatches of batch rows, on the device of c. The
// data are generated and uploaded first and a few steps warm up; the
// result is the median of three epochs, each timed from the first launch
// to the device's synchronisation.
func BenchEpoch(c *cuda.Context, rows, batch int, hidden []int, seed uint64) (seconds float64, err error) {
	return BenchEpochWith(c, Options{}, rows, batch, hidden, seed)
}

// BenchEpochWith is BenchEpoch with the kernels' variants chosen by opts.
func BenchEpochWith(c *cuda.Context, opts Options, rows, batch int, hidden []int, seed uint64) (seconds float64, err error) {
	if rows < 1 || batch < 1 || batch > rows || batch > maxRows || len(hidden) == 0 || slices.Min(hidden) < 1 {
		return 0, fmt.Errorf("gpumlp: bench: %d rows, batch %d, hidden %v: want 1 ≤ batch ≤ rows, batch ≤ %d and positive widths", rows, batch, hidden, maxRows)
	}
	if c == nil {
		return 0, errors.New("gpumlp: bench: no CUDA context")
	}
	dev, err := newDevice(c)
	if err != nil {
		return 0, fmt.Errorf("gpumlp: bench: %w", err)
	}
	defer func() { _ = dev.mod.Unload() }()
	times, err := benchEpochs(dev, opts, rows, batch, hidden, seed)
	if err != nil {
		return 0, fmt.Errorf("gpumlp: bench: %w", err)
	}
	sort.Float64s(times)
	return times[len(times)/2], nil
}

// benchEpochs runs BenchEpoch's work on be and returns the three epochs'
// times in seconds.
func benchEpochs(dev backend, opts Options, rows, batch int, hidden []int, seed uint64) ([]float64, error) {
	x, y := benchData(rows, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	m := randomModel(benchFeatures, hidden, rng)
	p := mlp.DefaultParams()
	p.HiddenUnits, p.BatchSize, p.Seed = hidden, batch, seed
	perm := make([]int32, rows)
	for i, v := range rng.Perm(rows) {
		perm[i] = int32(v)
	}
	var times []float64
	err := dev.run(func() (err error) {
		defer func() {
			if ferr := dev.free(); err == nil && ferr != nil {
				err = ferr
			}
		}()
		nt, err := newNet(dev, m, p, opts, batch)
		if err != nil {
			return err
		}
		bufs := make([]ref, 4)
		for i, n := range []int{len(x), rows, rows, lossSlots(rows, batch)} {
			b, err := dev.alloc(n)
			if err != nil {
				return err
			}
			bufs[i] = ref{b: b}
		}
		xb, yb, pb, losses := bufs[0], bufs[1], bufs[2], bufs[3]
		if err := dev.write(xb, x); err != nil {
			return err
		}
		if err := dev.write(yb, y); err != nil {
			return err
		}
		if err := dev.writeInts(pb, perm); err != nil {
			return err
		}
		epoch := func(steps int) error {
			for s := range steps {
				start := s * batch
				n := min(batch, rows-start)
				if err := nt.step(xb, yb, pb, start, n, uint64(start), losses, s*outputBlocks(batch)); err != nil {
					return err
				}
			}
			return dev.sync()
		}
		if err := epoch(min(3, (rows+batch-1)/batch)); err != nil {
			return err
		}
		for range 3 {
			t0 := time.Now()
			if err := epoch((rows + batch - 1) / batch); err != nil {
				return err
			}
			times = append(times, time.Since(t0).Seconds())
		}
		l := make([]float32, lossSlots(rows, batch))
		if err := dev.read(l, losses); err != nil {
			return err
		}
		for s, v := range l {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("loss sum %d is %v", s, v)
			}
		}
		return nil
	})
	return times, err
}

// benchData generates rows×64 standard normal features, row-major, and
// labels 1 where a random linear rule is positive, in parallel.
func benchData(rows int, seed uint64) (x, y []float32) {
	x, y = make([]float32, rows*benchFeatures), make([]float32, rows)
	r := rand.New(rand.NewPCG(seed, 2))
	var w [benchFeatures]float32
	for j := range w {
		w[j] = float32(r.NormFloat64())
	}
	const chunk = 1 << 16
	chunks := (rows + chunk - 1) / chunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			for c := k; c < chunks; c += workers {
				r := rand.New(rand.NewPCG(seed, uint64(3+c)))
				for i := c * chunk; i < min((c+1)*chunk, rows); i++ {
					s := float32(0)
					row := x[i*benchFeatures : (i+1)*benchFeatures]
					for j := range row {
						row[j] = float32(r.NormFloat64())
						s += row[j] * w[j]
					}
					if s > 0 {
						y[i] = 1
					}
				}
			}
		})
	}
	wg.Wait()
	return x, y
}

// randomModel is a network of in inputs, the hidden widths and one output
// with PyTorch's initialisation drawn from rng.
func randomModel(in int, hidden []int, rng *rand.Rand) *mlp.Model {
	m := &mlp.Model{Activation: "relu", Task: "binary"}
	widths := append(append([]int{in}, hidden...), 1)
	for l := 0; l+1 < len(widths); l++ {
		layer := mlp.Layer{In: widths[l], Out: widths[l+1], W: make([]float64, widths[l]*widths[l+1]), B: make([]float64, widths[l+1])}
		bound := 1 / math.Sqrt(float64(layer.In))
		for i := range layer.W {
			layer.W[i] = (rng.Float64()*2 - 1) * bound
		}
		for i := range layer.B {
			layer.B[i] = (rng.Float64()*2 - 1) * bound
		}
		m.Layers = append(m.Layers, layer)
	}
	return m
}

// checkCase is one small problem CheckStep runs on the device and the
// emulator.
type checkCase struct {
	rows, d, batch, vrows int
	hidden                []int
	activation, task      string
	dropout               float64
}

var checkCases = []checkCase{
	{rows: 300, d: 37, batch: 128, vrows: 530, hidden: []int{70, 45}, activation: "relu", task: "binary", dropout: 0.2},
	{rows: 200, d: 64, batch: 200, vrows: 100, hidden: []int{256, 256}, activation: "relu", task: "binary"},
	{rows: 150, d: 5, batch: 64, vrows: 70, hidden: []int{33}, activation: "tanh", task: "regression", dropout: 0.1},
	{rows: 90, d: 12, batch: 90, vrows: 90, hidden: []int{20, 7, 3}, activation: "sigmoid", task: "binary"},
}

// CheckStep runs one epoch of training steps and one validation pass on
// small random problems (a partial last batch, widths that are not
// multiples of the tiles, dropout, each activation and task) on the
// device of c and on the emulator, from outputs poisoned with NaN, and
// returns the largest relative difference ‖device − emulator‖ / ‖emulator‖
// over the weights, Adam's moments, the last step's activations, error
// terms, dropout factors and gradient sums, and the losses. It fails when
// an output the kernels should write is still NaN. The kernels and the
// emulator do the same float32 operations in the same order, so the
// difference should be 0.
func CheckStep(c *cuda.Context, seed uint64) (relErr float64, err error) {
	return CheckStepWith(c, Options{}, seed)
}

// CheckStepWith is CheckStep with the kernels' variants chosen by opts.
// With TF32 the emulator rounds the operands as the tensor cores do but
// sums the products one at a time, so the difference is rounding, of the
// order of 1e-6, rather than 0.
func CheckStepWith(c *cuda.Context, opts Options, seed uint64) (relErr float64, err error) {
	if c == nil {
		return 0, errors.New("gpumlp: check: no CUDA context")
	}
	dev, err := newDevice(c)
	if err != nil {
		return 0, fmt.Errorf("gpumlp: check: %w", err)
	}
	defer func() { _ = dev.mod.Unload() }()
	return check(dev, opts, seed)
}

// check runs CheckStep's problems on be and on the emulator.
func check(dev backend, opts Options, seed uint64) (relErr float64, err error) {
	for i, cc := range checkCases {
		want, err := checkRun(newEmulator(), opts, cc, seed+uint64(i))
		if err != nil {
			return 0, fmt.Errorf("gpumlp: check case %d on the emulator: %w", i, err)
		}
		got, err := checkRun(dev, opts, cc, seed+uint64(i))
		if err != nil {
			return 0, fmt.Errorf("gpumlp: check case %d on the device: %w", i, err)
		}
		e, err := compare(got, want)
		if err != nil {
			return 0, fmt.Errorf("gpumlp: check case %d: %w", i, err)
		}
		relErr = max(relErr, e)
	}
	return relErr, nil
}

// output is one named array a check reads back.
type output struct {
	name string
	v    []float32
}

// compare returns ‖got − want‖ / ‖want‖ over all outputs, failing on a NaN
// in either.
func compare(got, want []output) (float64, error) {
	if len(got) != len(want) {
		return 0, fmt.Errorf("%d outputs, want %d", len(got), len(want))
	}
	num, den := 0.0, 0.0
	for i, w := range want {
		g := got[i]
		for k, v := range w.v {
			if math.IsNaN(float64(v)) {
				return 0, fmt.Errorf("the emulator left %s[%d] unwritten", w.name, k)
			}
			if math.IsNaN(float64(g.v[k])) {
				return 0, fmt.Errorf("the device left %s[%d] unwritten (NaN)", w.name, k)
			}
			d := float64(g.v[k]) - float64(v)
			num += d * d
			den += float64(v) * float64(v)
		}
	}
	if den == 0 {
		return 0, errors.New("every output is zero")
	}
	return math.Sqrt(num / den), nil
}

// checkRun trains one epoch of cc's problem on be from NaN-poisoned
// buffers, evaluates the validation rows, and reads back every output.
func checkRun(be backend, opts Options, cc checkCase, seed uint64) (outs []output, err error) {
	rng := rand.New(rand.NewPCG(seed, 9))
	m := randomModel(cc.d, cc.hidden, rng)
	m.Activation, m.Task = cc.activation, cc.task
	p := mlp.DefaultParams()
	p.HiddenUnits, p.BatchSize, p.Activation, p.Task, p.Dropout, p.Seed = cc.hidden, cc.batch, cc.activation, cc.task, cc.dropout, seed
	p.L2 = 0.01
	random := func(n int, label bool) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
			if label && cc.task == "binary" {
				v[i] = float32(rng.IntN(2))
			}
		}
		return v
	}
	x, y, vx, vy := random(cc.rows*cc.d, false), random(cc.rows, true), random(cc.vrows*cc.d, false), random(cc.vrows, true)
	perm := make([]int32, cc.rows)
	for i, v := range rng.Perm(cc.rows) {
		perm[i] = int32(v)
	}
	err = be.run(func() (err error) {
		defer func() {
			if ferr := be.free(); err == nil && ferr != nil {
				err = ferr
			}
		}()
		nt, err := newNet(be, m, p, opts, max(cc.batch, evalRows))
		if err != nil {
			return err
		}
		steps := (cc.rows + cc.batch - 1) / cc.batch
		slots, vblocks := lossSlots(cc.rows, cc.batch), lossSlots(cc.vrows, nt.cap)
		var bufs [6]ref
		for i, n := range []int{len(x), len(y), len(vx), len(vy), slots, vblocks} {
			b, err := be.alloc(n)
			if err != nil {
				return err
			}
			bufs[i] = ref{b: b}
		}
		xb, yb, vxb, vyb, losses, vloss := bufs[0], bufs[1], bufs[2], bufs[3], bufs[4], bufs[5]
		pb, err := be.alloc(cc.rows)
		if err != nil {
			return err
		}
		for i, v := range [][]float32{x, y, vx, vy} {
			if err := be.write(bufs[i], v); err != nil {
				return err
			}
		}
		if err := be.writeInts(ref{b: pb}, perm); err != nil {
			return err
		}
		scratch := nt.scratch(cc.batch)
		scratch = append(scratch, output{"losses", make([]float32, slots)}, output{"validation losses", make([]float32, vblocks)})
		refs := append(nt.scratchRefs(), losses, vloss)
		for i, s := range scratch {
			nan := make([]float32, len(s.v))
			for k := range nan {
				nan[k] = float32(math.NaN())
			}
			if err := be.write(refs[i], nan); err != nil {
				return err
			}
		}
		for s := range steps {
			start := s * cc.batch
			if err := nt.step(xb, yb, ref{b: pb}, start, min(cc.batch, cc.rows-start), uint64(1)<<32|uint64(start), losses, s*outputBlocks(cc.batch)); err != nil {
				return err
			}
		}
		// The last step's rows, for the row buffers.
		last := cc.rows - (steps-1)*cc.batch
		scratch = nt.scratchRows(scratch, last)[:len(scratch)-1]
		for i := range scratch {
			if err := be.read(scratch[i].v, refs[i]); err != nil {
				return err
			}
		}
		outs = append(outs, scratch...)
		if _, err := nt.evaluate(vxb, vyb, cc.vrows, vloss); err != nil {
			return err
		}
		v := make([]float32, vblocks)
		if err := be.read(v, vloss); err != nil {
			return err
		}
		outs = append(outs, output{"validation loss", v})
		for l := range nt.layers() {
			size := (nt.widths[l] + 1) * nt.widths[l+1]
			for _, s := range []struct {
				name string
				r    ref
			}{{"weights", nt.params[l]}, {"first moments", nt.mom[l]}, {"second moments", nt.vel[l]}} {
				o := output{fmt.Sprintf("layer %d %s", l, s.name), make([]float32, size)}
				if err := be.read(o.v, s.r); err != nil {
					return err
				}
				outs = append(outs, o)
			}
		}
		return nil
	})
	return outs, err
}

// scratch returns an output for every buffer a step writes, sized for
// rows rows (the gradient sums for their split); scratchRefs returns the
// buffers in the same order.
func (n *net) scratch(rows int) []output {
	outs := []output{{"batch inputs", make([]float32, rows*n.widths[0])}, {"batch labels", make([]float32, rows)}}
	for j := 1; j < len(n.widths); j++ {
		outs = append(outs, output{fmt.Sprintf("outputs %d", j), make([]float32, rows*n.widths[j])},
			output{fmt.Sprintf("error terms %d", j), make([]float32, rows*n.widths[j])})
		if n.keep[j].b != 0 {
			outs = append(outs, output{fmt.Sprintf("dropout factors %d", j), make([]float32, rows*n.widths[j])})
		}
	}
	for l := range n.layers() {
		s, _ := n.split(l, rows)
		outs = append(outs, output{fmt.Sprintf("gradient sums %d", l), make([]float32, s*(n.widths[l]+1)*n.widths[l+1])})
	}
	return outs
}

func (n *net) scratchRefs() []ref {
	refs := []ref{n.a[0], n.yb}
	for j := 1; j < len(n.widths); j++ {
		refs = append(refs, n.a[j], n.delta[j])
		if n.keep[j].b != 0 {
			refs = append(refs, n.keep[j])
		}
	}
	return append(refs, n.part...)
}

// scratchRows cuts the outputs of scratch to what a step of rows rows
// writes.
func (n *net) scratchRows(outs []output, rows int) []output {
	cut := n.scratch(rows)
	for i := range cut {
		outs[i].v = outs[i].v[:len(cut[i].v)]
	}
	return outs
}
