package logistic

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
	cpu "github.com/slipway-ml/slipway/runners/train/logistic"
)

// pack lays standardised columns out row-major in float32 and labels as
// bytes, checking the shape the kernel takes.
func pack(z [][]float64, y []float64) ([]float32, []uint8, layout, error) {
	d := len(z)
	n := len(y)
	l, err := newLayout(n, d)
	if err != nil {
		return nil, nil, l, err
	}
	x := make([]float32, n*d)
	for j, col := range z {
		if len(col) != n {
			return nil, nil, l, fmt.Errorf("column %d has %d rows, want %d", j, len(col), n)
		}
		for i, v := range col {
			x[i*d+j] = float32(v)
		}
	}
	yb := make([]uint8, n)
	for i, v := range y {
		switch v {
		case 0:
		case 1:
			yb[i] = 1
		default:
			return nil, nil, l, fmt.Errorf("label of row %d is %v; want 0 or 1", i, v)
		}
	}
	return x, yb, l, nil
}

// Objective owns the device copy of the data and evaluates the data term
// with logistic_eval and logistic_sum: one pass over X per call.
type Objective struct {
	c        *cuda.Context
	l        layout
	cw       [2]float64
	eval     *cuda.Kernel
	sum      *cuda.Kernel
	x, y     cuda.Ptr
	w        cuda.Ptr // d float32 weights
	partials cuda.Ptr // blocks × (d+2) float64
	out      cuda.Ptr // d+2 float64
	wbuf     []float32
	obuf     []float64
}

// NewObjective copies standardised columns z (as float32, row-major),
// labels y and class weights to the device.
func NewObjective(c *cuda.Context, z [][]float64, y []float64, cw [2]float64) (*Objective, error) {
	x, yb, l, err := pack(z, y)
	if err != nil {
		return nil, fmt.Errorf("gpu logistic: %w", err)
	}
	o := &Objective{c: c, l: l, cw: cw, wbuf: make([]float32, l.d), obuf: make([]float64, l.d+2)}
	if err := o.setup(x, yb); err != nil {
		o.Close()
		return nil, fmt.Errorf("gpu logistic: %w", err)
	}
	return o, nil
}

func (o *Objective) setup(x []float32, y []uint8) error {
	m, err := o.c.Shared(PTX)
	if err != nil {
		return err
	}
	if o.eval, err = m.Kernel("logistic_eval"); err != nil {
		return err
	}
	if o.sum, err = m.Kernel("logistic_sum"); err != nil {
		return err
	}
	if sb := o.l.sharedBytes(); sb > 48<<10 {
		if err := o.eval.SetMaxDynamicShared(sb); err != nil {
			return err
		}
	}
	return o.c.Do(func(q *cuda.Queue) error {
		var err error
		if o.x, err = q.Alloc(4 * len(x)); err != nil {
			return err
		}
		if err := q.CopyToDevice(o.x, cuda.Float32Bytes(x)); err != nil {
			return err
		}
		if o.y, err = q.Alloc(len(y)); err != nil {
			return err
		}
		if err := q.CopyToDevice(o.y, y); err != nil {
			return err
		}
		if o.w, err = q.Alloc(4 * o.l.d); err != nil {
			return err
		}
		if o.partials, err = q.Alloc(8 * o.l.blocks * (o.l.d + 2)); err != nil {
			return err
		}
		o.out, err = q.Alloc(8 * (o.l.d + 2))
		return err
	})
}

// Eval returns Σ w_i·loss_i at theta and writes the summed gradient into
// grad, as logistic.Objective asks. A device failure panics: the solver
// has no error path, and Train recovers it into an error.
func (o *Objective) Eval(theta, grad []float64) float64 {
	f, err := o.Evaluate(theta, grad)
	if err != nil {
		panic(evalError{err})
	}
	return f
}

// evalError carries a device error out of Eval.
type evalError struct{ err error }

// Evaluate is Eval returning the device's error.
func (o *Objective) Evaluate(theta, grad []float64) (float64, error) {
	d := o.l.d
	if len(theta) != d+1 || len(grad) != d+1 {
		return 0, fmt.Errorf("gpu logistic: theta has %d and grad %d values; want %d", len(theta), len(grad), d+1)
	}
	for j := range o.wbuf {
		o.wbuf[j] = float32(theta[j])
	}
	width := d + 2
	err := o.c.Do(func(q *cuda.Queue) error {
		if err := q.CopyToDevice(o.w, cuda.Float32Bytes(o.wbuf)); err != nil {
			return err
		}
		if err := q.Launch(o.eval, [3]uint32{uint32(o.l.blocks), 1, 1}, [3]uint32{threads, 1, 1}, uint32(o.l.sharedBytes()),
			o.x, o.y, o.w, theta[d], o.cw[0], o.cw[1], int64(o.l.n), int32(d), o.partials); err != nil {
			return err
		}
		if err := q.Launch(o.sum, [3]uint32{uint32((width + threads - 1) / threads), 1, 1}, [3]uint32{threads, 1, 1}, 0,
			o.partials, int32(o.l.blocks), int32(width), o.out); err != nil {
			return err
		}
		return q.CopyFromDevice(cuda.Float64Bytes(o.obuf), o.out)
	})
	if err != nil {
		return 0, fmt.Errorf("gpu logistic: evaluate: %w", err)
	}
	copy(grad, o.obuf[:d+1])
	return o.obuf[d+1], nil
}

// Close frees the device buffers.
func (o *Objective) Close() error {
	var errs []error
	for _, p := range []cuda.Ptr{o.x, o.y, o.w, o.partials, o.out} {
		if p != 0 {
			errs = append(errs, o.c.Free(p))
		}
	}
	o.x, o.y, o.w, o.partials, o.out = 0, 0, 0, 0, 0
	return errors.Join(errs...)
}

// Train fits logistic regression with the data term on the GPU and the
// CPU package's solver: the same model as logistic.Train within float32
// rounding of the features.
func Train(ctx context.Context, c *cuda.Context, x *data.Matrix, y []float64, p cpu.Params) (m *cpu.Model, err error) {
	var obj *Objective
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(evalError)
			if !ok {
				panic(r)
			}
			m, err = nil, fmt.Errorf("logistic on %s: %w", c.DeviceName(), e.err)
		}
		if obj != nil {
			err = errors.Join(err, obj.Close())
		}
	}()
	return cpu.TrainWith(ctx, x, y, p, func(d cpu.Data) (cpu.Objective, error) {
		var err error
		obj, err = NewObjective(c, d.Z, d.Y, d.ClassWeights)
		if err != nil {
			return nil, err
		}
		return obj.Eval, nil
	})
}

// TrainEmulated fits logistic regression through the Emulator: the GPU
// path's arithmetic, on the CPU.
func TrainEmulated(ctx context.Context, x *data.Matrix, y []float64, p cpu.Params) (*cpu.Model, error) {
	return cpu.TrainWith(ctx, x, y, p, func(d cpu.Data) (cpu.Objective, error) {
		e, err := NewEmulator(d.Z, d.Y, d.ClassWeights)
		if err != nil {
			return nil, err
		}
		return e.Eval, nil
	})
}
