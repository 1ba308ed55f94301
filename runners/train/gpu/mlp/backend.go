// Package gpumlp trains the mlp package's network on an NVIDIA GPU: the
// forward and backward passes, the loss and Adam's update run as float32
// kernels (mlp.cu, compiled to the embedded mlp.ptx), a few launches per
// minibatch and no host round trip inside an epoch. The same kernels are
// emulated in Go operation for operation (emulate.go), so the whole
// trainer runs and is tested on a machine without a GPU, and a device's
// results can be checked against the emulator's bit for bit. The trained
// model is the mlp package's Model, so prediction and saving are the CPU
// path's.
package gpumlp

import (
	_ "embed"
	"math"
)

// ptx is mlp.cu compiled for sm_80 by clang-16.
//
//go:embed mlp.ptx
var ptx string

// Epilogues of the gemm kernel.
const (
	modeStore    = 0
	modeHidden   = 1
	modeBackward = 3
)

// Activations, as the kernels number them.
const (
	actReLU    = 0
	actTanh    = 1
	actSigmoid = 2
)

// Tasks, as the output kernel numbers them.
const (
	taskBinary     = 0
	taskRegression = 1
)

// Launch shapes the kernels are written for.
const (
	tileM       = 64  // rows of a gemm block's tile
	tileN       = 64  // columns of a gemm block's tile
	tileK       = 16  // reduction steps a gemm block stages at a time
	gemmThreads = 256 // threads of a gemm block
	outRows     = 64  // rows of an output block
	flatThreads = 256 // threads of a block of the element-wise kernels
)

// buffer names a device (or emulated) array of 4-byte words.
type buffer int

// ref is an element offset into a buffer; the zero ref is the null
// pointer.
type ref struct {
	b   buffer
	off int
}

// at returns r moved on by n elements.
func (r ref) at(n int) ref { return ref{r.b, r.off + n} }

// gemmArgs are the gemm kernel's arguments (see mlp_gemm in mlp.cu):
// C[z·cz + a·ldc + b] = init[b] + Σ_t P(a,t)·Q(t,b) over block z's share
// [z·kc, min((z+1)·kc, K)) of the reduction, with P(a,t) = P[a·pa + t·pt]
// for a < Mp and 1 for Mp ≤ a < M, Q(t,b) = Q[t·qt + b·qb], then the
// epilogue of mode.
type gemmArgs struct {
	m, mp, n, k, kc int
	p               ref
	pa, pt          int
	q               ref
	qt, qb          int
	c               ref
	ldc, cz         int
	init            ref
	mode, act       int
	keep, aux       ref
	tf32            bool // on the tensor cores (mlp_gemm_tf32)
}

// splits is the number of blocks z the reduction is split into.
func (g gemmArgs) splits() int { return (g.k + g.kc - 1) / g.kc }

// Tile kinds of a product: mlp_gemm_group's numbering.
const (
	tileSmall = 0 // gemm_tile: 64×64
	tileBig   = 1 // gemm_tile_big: 128×128, the same bits
	tileTF32  = 2 // gemm_tile_tf32: 64×64 on the tensor cores
)

// tiles is the number of tiles of the kind across N and down M.
func (g gemmArgs) tiles(kind int) (across, down int) {
	size := tileM
	if kind == tileBig {
		size = 2 * tileM
	}
	return (g.n + size - 1) / size, (g.m + size - 1) / size
}

// groupTable returns mlp_gemm_group's table for gs (18 words a product), with addr giving each
// buffer's address and kind each product's tile kind, and the number of
// blocks.
func groupTable(gs []gemmArgs, addr func(ref) int64, kind func(gemmArgs) int) (words []int64, blocks int) {
	for _, g := range gs {
		k := kind(g)
		across, down := g.tiles(k)
		words = append(words, int64(g.m), int64(g.mp), int64(g.n), int64(g.k), int64(g.kc), addr(g.p), int64(g.pa), int64(g.pt),
			addr(g.q), int64(g.qt), int64(g.qb), addr(g.c), int64(g.ldc), int64(g.cz), int64(across), int64(down), int64(blocks), int64(k))
		blocks += across * down * g.splits()
	}
	return words, blocks
}

// outputArgs are the output kernel's arguments (see mlp_output in
// mlp.cu).
type outputArgs struct {
	a              ref
	h              int
	w, y           ref
	rows, task     int
	z, delta, prev ref
	act            int
	keep, out      ref
	slot           int
}

// outputBlocks is the number of output blocks, and of loss sums, for rows
// rows.
func outputBlocks(rows int) int { return (rows + outRows - 1) / outRows }

// adamArgs are the adam kernel's arguments (see mlp_adam in mlp.cu): the
// table holds six words per layer (tableWords).
type adamArgs struct {
	w, m, v, part, table ref
	layers, most         int // layers, and the most parameters of one
	l2, bs, lr           float32
}

// tableWords are the words of one layer's entry in the adam kernel's table:
// the offset of its parameters, their number, the number that are weights,
// the number of partial gradient sums, their stride and the offset of the
// first.
const tableWords = 6

// backend runs the kernels: on a device, or emulated on the CPU. Every
// method but run must be called inside run's function.
type backend interface {
	// run calls fn with the backend ready for the methods below (on a
	// device, on the thread owning its context).
	run(fn func() error) error
	// alloc returns a buffer of n words, zeroed.
	alloc(n int) (buffer, error)
	// write copies src to the words from r on.
	write(r ref, src []float32) error
	// writeInts copies src to the words from r on.
	writeInts(r ref, src []int32) error
	// read copies the words from r on into dst, after all earlier work.
	read(dst []float32, r ref) error
	gather(x, y, perm ref, start, rows, d int, a, yb ref) error
	dropmask(keep ref, rows, n int, seed uint64, layers, l int, thresh uint64, keepf float32) error
	gemm(g gemmArgs) error
	// gemmGroup runs independent products of mode modeStore without
	// initial values in one launch; key names the group's shapes and
	// buffers, the same at every call with the same key.
	gemmGroup(key int, gs []gemmArgs) error
	output(o outputArgs) error
	adam(a adamArgs) error
	// sync waits for all earlier work.
	sync() error
	// free releases every buffer.
	free() error
}

// dropThreshold is the 53-bit draw below which a unit is dropped:
// math/rand/v2's Float64() < p exactly when the draw's top 53 bits are
// below ⌈p·2^53⌉.
func dropThreshold(p float64) uint64 { return uint64(math.Ceil(p * (1 << 53))) }
