package gpumlp

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
)

// device runs the kernels on a GPU. Its methods other than run issue
// driver calls on the Queue of the run in progress.
type device struct {
	c       *cuda.Context
	q       *cuda.Queue
	mod     *cuda.Module
	kernels map[string]*cuda.Kernel
	bufs    []cuda.Ptr // bufs[0] is the null pointer
	groups  map[int]group
}

// group is an uploaded mlp_gemm_group table.
type group struct {
	table  cuda.Ptr
	blocks int
}

// kind picks a product's tiles: the tensor cores when asked, else 128×128
// tiles when they still give every multiprocessor two blocks.
func (d *device) kind(g gemmArgs) int {
	if g.tf32 {
		return tileTF32
	}
	across, down := g.tiles(tileBig)
	if across*down*g.splits() >= 2*d.c.Multiprocessors() {
		return tileBig
	}
	return tileSmall
}

// kernelNames are the entry points of mlp.ptx.
var kernelNames = []string{"mlp_gather", "mlp_dropmask", "mlp_gemm", "mlp_gemm_big", "mlp_gemm_tf32", "mlp_gemm_group", "mlp_output", "mlp_adam"}

// newDevice loads the kernels on c.
func newDevice(c *cuda.Context) (*device, error) {
	mod, err := c.Load(ptx)
	if err != nil {
		return nil, fmt.Errorf("load the mlp kernels: %w", err)
	}
	d := &device{c: c, mod: mod, kernels: map[string]*cuda.Kernel{}, bufs: []cuda.Ptr{0}, groups: map[int]group{}}
	for _, name := range kernelNames {
		k, err := mod.Kernel(name)
		if err != nil {
			_ = mod.Unload()
			return nil, fmt.Errorf("load the mlp kernels: %w", err)
		}
		d.kernels[name] = k
	}
	return d, nil
}

func (d *device) run(fn func() error) error {
	return d.c.Do(func(q *cuda.Queue) error {
		d.q = q
		defer func() { d.q = nil }()
		return fn()
	})
}

func (d *device) alloc(n int) (buffer, error) {
	p, err := d.q.Alloc(4 * n)
	if err != nil {
		return 0, err
	}
	if err := d.q.Memset(p, 4*n); err != nil {
		_ = d.q.Free(p)
		return 0, err
	}
	d.bufs = append(d.bufs, p)
	return buffer(len(d.bufs) - 1), nil
}

// ptr is r's device address; the zero ref is the null pointer.
func (d *device) ptr(r ref) cuda.Ptr {
	if r.b == 0 {
		return 0
	}
	return d.bufs[r.b] + cuda.Ptr(4*r.off)
}

func (d *device) write(r ref, src []float32) error {
	return d.q.CopyToDevice(d.ptr(r), cuda.Float32Bytes(src))
}

func (d *device) writeInts(r ref, src []int32) error {
	return d.q.CopyToDevice(d.ptr(r), cuda.Int32Bytes(src))
}

func (d *device) read(dst []float32, r ref) error {
	return d.q.CopyFromDevice(cuda.Float32Bytes(dst), d.ptr(r))
}

func (d *device) sync() error { return d.q.Synchronize() }

func (d *device) free() error {
	var first error
	for _, p := range d.bufs[1:] {
		if err := d.q.Free(p); err != nil && first == nil {
			first = err
		}
	}
	d.bufs = d.bufs[:1]
	for key, g := range d.groups {
		if err := d.q.Free(g.table); err != nil && first == nil {
			first = err
		}
		delete(d.groups, key)
	}
	return first
}

// i32 converts a size or offset to a kernel's int argument.
func i32(v int) int32 {
	if v > math.MaxInt32 || v < math.MinInt32 {
		panic(fmt.Sprintf("gpumlp: kernel argument %d does not fit 32 bits", v))
	}
	return int32(v)
}

// blocks is the number of blocks of per threads covering n.
func blocks(n, per int) uint32 { return uint32(max(1, (n+per-1)/per)) }

func (d *device) gather(x, y, perm ref, start, rows, dd int, a, yb ref) error {
	grid := min(blocks(rows*dd, flatThreads), 65535)
	return d.q.Launch(d.kernels["mlp_gather"], [3]uint32{grid, 1, 1}, [3]uint32{flatThreads, 1, 1}, 0,
		d.ptr(x), d.ptr(y), d.ptr(perm), i32(start), i32(rows), i32(dd), d.ptr(a), d.ptr(yb))
}

func (d *device) dropmask(keep ref, rows, n int, seed uint64, layers, l int, thresh uint64, keepf float32) error {
	return d.q.Launch(d.kernels["mlp_dropmask"], [3]uint32{blocks(rows, 128), 1, 1}, [3]uint32{128, 1, 1}, 0,
		d.ptr(keep), i32(rows), i32(n), seed, i32(layers), i32(l), thresh, keepf)
}

func (d *device) gemm(g gemmArgs) error {
	kind := d.kind(g)
	across, down := g.tiles(kind)
	k := d.kernels[[...]string{tileSmall: "mlp_gemm", tileBig: "mlp_gemm_big", tileTF32: "mlp_gemm_tf32"}[kind]]
	return d.q.Launch(k, [3]uint32{uint32(across), uint32(down), uint32(g.splits())}, [3]uint32{gemmThreads, 1, 1}, 0,
		i32(g.m), i32(g.mp), i32(g.n), i32(g.k), i32(g.kc),
		d.ptr(g.p), i32(g.pa), i32(g.pt), d.ptr(g.q), i32(g.qt), i32(g.qb),
		d.ptr(g.c), i32(g.ldc), i32(g.cz), d.ptr(g.init), i32(g.mode), i32(g.act), d.ptr(g.keep), d.ptr(g.aux))
}

func (d *device) gemmGroup(key int, gs []gemmArgs) error {
	g, ok := d.groups[key]
	if !ok {
		words, blocks := groupTable(gs, func(r ref) int64 { return int64(d.ptr(r)) }, d.kind)
		b := make([]byte, 8*len(words))
		for i, w := range words {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(w))
		}
		p, err := d.q.Alloc(len(b))
		if err != nil {
			return err
		}
		if err := d.q.CopyToDevice(p, b); err != nil {
			_ = d.q.Free(p)
			return err
		}
		g = group{table: p, blocks: blocks}
		d.groups[key] = g
	}
	return d.q.Launch(d.kernels["mlp_gemm_group"], [3]uint32{uint32(g.blocks), 1, 1}, [3]uint32{gemmThreads, 1, 1}, 0,
		g.table, i32(len(gs)))
}

func (d *device) output(o outputArgs) error {
	return d.q.Launch(d.kernels["mlp_output"], [3]uint32{uint32(outputBlocks(o.rows)), 1, 1}, [3]uint32{gemmThreads, 1, 1}, 0,
		d.ptr(o.a), i32(o.h), d.ptr(o.w), d.ptr(o.y), i32(o.rows), i32(o.task), d.ptr(o.z), d.ptr(o.delta), d.ptr(o.prev),
		i32(o.act), d.ptr(o.keep), d.ptr(o.out), i32(o.slot))
}

func (d *device) adam(a adamArgs) error {
	return d.q.Launch(d.kernels["mlp_adam"], [3]uint32{blocks(a.most, flatThreads), uint32(a.layers), 1}, [3]uint32{flatThreads, 1, 1}, 0,
		d.ptr(a.w), d.ptr(a.m), d.ptr(a.v), d.ptr(a.part), d.ptr(a.table), a.l2, a.bs, a.lr)
}
