package hist

import (
	"errors"
	"fmt"

	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
)

// Builder builds histograms with hist_build on a GPU. The binned columns
// stay on the device for the whole training; gradients are copied once
// per tree and the node's rows once per node.
type Builder struct {
	c      *cuda.Context
	k      *cuda.Kernel
	n      int
	slots  []int // feature → device column, -1 without uint8 bins
	bins   cuda.Ptr
	gq, hq cuda.Ptr
	rows   cuda.Ptr
	fslots cuda.Ptr // slots of the features being built
	out    cuda.Ptr // features × 512 int64
	outCap int
	scale  float64
	host   []int64
	ready  bool
}

// NewBuilder loads the kernel on c.
func NewBuilder(c *cuda.Context) (*Builder, error) {
	m, err := c.Shared(PTX)
	if err != nil {
		return nil, fmt.Errorf("gpu histograms: %w", err)
	}
	k, err := m.Kernel("hist_build")
	if err != nil {
		return nil, fmt.Errorf("gpu histograms: %w", err)
	}
	return &Builder{c: c, k: k}, nil
}

// Start copies the uint8-binned columns to the device, column-major.
func (b *Builder) Start(cols [][]uint8) error {
	b.slots = make([]int, len(cols))
	var packed []uint8
	for f, col := range cols {
		b.slots[f] = -1
		if col == nil {
			continue
		}
		if b.n == 0 {
			b.n = len(col)
		}
		if len(col) != b.n {
			return fmt.Errorf("gpu histograms: feature %d has %d rows, want %d", f, len(col), b.n)
		}
		b.slots[f] = len(packed) / b.n
		packed = append(packed, col...)
	}
	if len(packed) == 0 {
		return nil
	}
	return b.c.Do(func(q *cuda.Queue) error {
		var err error
		if b.bins, err = q.Alloc(len(packed)); err != nil {
			return err
		}
		if err := q.CopyToDevice(b.bins, packed); err != nil {
			return err
		}
		if b.gq, err = q.Alloc(8 * b.n); err != nil {
			return err
		}
		if b.hq, err = q.Alloc(8 * b.n); err != nil {
			return err
		}
		if b.rows, err = q.Alloc(4 * b.n); err != nil {
			return err
		}
		b.fslots, err = q.Alloc(4 * len(cols))
		return err
	})
}

// Gradients quantizes the tree's gradients and hessians and copies them to
// the device.
func (b *Builder) Gradients(g, h []float64) error {
	gq, hq, scale, err := quantize(g, h)
	if err != nil {
		return fmt.Errorf("gpu histograms: %w", err)
	}
	if b.n == 0 {
		return nil
	}
	if len(gq) != b.n {
		return fmt.Errorf("gpu histograms: %d gradients for %d rows", len(gq), b.n)
	}
	b.scale = scale
	b.ready = true
	return b.c.Do(func(q *cuda.Queue) error {
		if err := q.CopyToDevice(b.gq, cuda.Int64Bytes(gq)); err != nil {
			return err
		}
		return q.CopyToDevice(b.hq, cuda.Int64Bytes(hq))
	})
}

// Build sums the node's rows by bin for each feature on the device.
func (b *Builder) Build(rows []int32, feats []int, out [][]float64) error {
	if !b.ready {
		return errors.New("gpu histograms: histograms asked for before any gradients")
	}
	if len(out) < len(feats) {
		return fmt.Errorf("gpu histograms: %d output histograms for %d features", len(out), len(feats))
	}
	if len(feats) == 0 || len(rows) == 0 {
		for k := range feats {
			clear(out[k])
		}
		return nil
	}
	fs := make([]int32, len(feats))
	for k, f := range feats {
		if f < 0 || f >= len(b.slots) || b.slots[f] < 0 {
			return fmt.Errorf("gpu histograms: feature %d has no uint8 bins", f)
		}
		fs[k] = int32(b.slots[f])
	}
	words := len(feats) * 2 * bins
	if len(b.host) < words {
		b.host = make([]int64, words)
	}
	host := b.host[:words]
	grid := uint32(min((len(rows)+threads-1)/threads, 64))
	err := b.c.Do(func(q *cuda.Queue) error {
		if b.outCap < words {
			if err := q.Free(b.out); err != nil {
				return err
			}
			var err error
			if b.out, err = q.Alloc(8 * words); err != nil {
				return err
			}
			b.outCap = words
		}
		if err := q.CopyToDevice(b.rows, cuda.Int32Bytes(rows)); err != nil {
			return err
		}
		if err := q.CopyToDevice(b.fslots, cuda.Int32Bytes(fs)); err != nil {
			return err
		}
		if err := q.Memset(b.out, 8*words); err != nil {
			return err
		}
		if err := q.Launch(b.k, [3]uint32{grid, uint32(len(feats)), 1}, [3]uint32{threads, 1, 1}, 0,
			b.bins, b.fslots, b.rows, int32(len(rows)), b.gq, b.hq, int64(b.n), b.out); err != nil {
			return err
		}
		return q.CopyFromDevice(cuda.Int64Bytes(host), b.out)
	})
	if err != nil {
		return fmt.Errorf("gpu histograms: node of %d rows: %w", len(rows), err)
	}
	for k := range feats {
		for i, v := range host[k*2*bins : (k+1)*2*bins] {
			out[k][i] = float64(v) / b.scale
		}
	}
	return nil
}

// Close frees the device buffers.
func (b *Builder) Close() error {
	var errs []error
	for _, p := range []cuda.Ptr{b.bins, b.gq, b.hq, b.rows, b.fslots, b.out} {
		if p != 0 {
			errs = append(errs, b.c.Free(p))
		}
	}
	b.bins, b.gq, b.hq, b.rows, b.fslots, b.out = 0, 0, 0, 0, 0, 0
	return errors.Join(errs...)
}
