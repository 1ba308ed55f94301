package gpumlp

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// emulator runs the kernels of mlp.cu on the CPU with the same float32
// operations in the same order, so it computes the same bits as a device.
// A gemm block's tiling stages operands through shared memory but does not
// change any element's sequence of operations, so the emulator computes
// element by element. The one exception is mlp_gemm_tf32: the emulator
// rounds its operands to tf32 as the kernel does, but sums the products
// one by one, where the tensor cores add eight at a time with their own
// internal rounding, so there the two agree to rounding only. Integer
// words are kept as the bits of float32s.
type emulator struct {
	bufs [][]float32 // bufs[0] is the null buffer
}

func newEmulator() *emulator { return &emulator{bufs: [][]float32{nil}} }

func (e *emulator) run(fn func() error) error { return fn() }

func (e *emulator) alloc(n int) (buffer, error) {
	if n <= 0 {
		return 0, fmt.Errorf("allocate %d words: want a positive size", n)
	}
	e.bufs = append(e.bufs, make([]float32, n))
	return buffer(len(e.bufs) - 1), nil
}

// s returns the words of r on.
func (e *emulator) s(r ref) []float32 {
	if r.b == 0 {
		return nil
	}
	return e.bufs[r.b][r.off:]
}

func (e *emulator) write(r ref, src []float32) error {
	copy(e.s(r)[:len(src)], src)
	return nil
}

func (e *emulator) writeInts(r ref, src []int32) error {
	dst := e.s(r)[:len(src)]
	for i, v := range src {
		dst[i] = math.Float32frombits(uint32(v))
	}
	return nil
}

func (e *emulator) read(dst []float32, r ref) error {
	copy(dst, e.s(r)[:len(dst)])
	return nil
}

func (e *emulator) sync() error { return nil }

func (e *emulator) free() error {
	e.bufs = e.bufs[:1]
	return nil
}

func (e *emulator) gather(x, y, perm ref, start, rows, d int, a, yb ref) error {
	xs, ys, ps, as, ybs := e.s(x), e.s(y), e.s(perm), e.s(a), e.s(yb)
	for r := range rows {
		src := int(int32(math.Float32bits(ps[start+r])))
		copy(as[r*d:(r+1)*d], xs[src*d:(src+1)*d])
		ybs[r] = ys[src]
	}
	return nil
}

func (e *emulator) dropmask(keep ref, rows, n int, seed uint64, layers, l int, thresh uint64, keepf float32) error {
	ks := e.s(keep)
	pcg := rand.NewPCG(0, 0)
	for r := range rows {
		pcg.Seed(seed, uint64(r)*uint64(layers)+uint64(l))
		out := ks[r*n : (r+1)*n]
		for k := range out {
			if pcg.Uint64()<<11>>11 < thresh {
				out[k] = 0
			} else {
				out[k] = keepf
			}
		}
	}
	return nil
}

func (e *emulator) gemm(g gemmArgs) error {
	ps, qs, cs, is, ks, xs := e.s(g.p), e.s(g.q), e.s(g.c), e.s(g.init), e.s(g.keep), e.s(g.aux)
	round := func(v float32) float32 { return v }
	if g.tf32 {
		round = tf32
	}
	for z := range g.splits() {
		k0, k1 := z*g.kc, min((z+1)*g.kc, g.k)
		for a := range g.m {
			for b := range g.n {
				var acc float32
				if is != nil {
					acc = is[b]
				}
				if a < g.mp {
					for t := k0; t < k1; t++ {
						acc = fma32(round(ps[a*g.pa+t*g.pt]), round(qs[t*g.qt+b*g.qb]), acc)
					}
				} else {
					for t := k0; t < k1; t++ {
						acc = fma32(1, round(qs[t*g.qt+b*g.qb]), acc)
					}
				}
				o := a*g.ldc + b
				switch g.mode {
				case modeHidden:
					acc = activate32(acc, g.act)
					if ks != nil {
						acc = mul32(acc, ks[o])
					}
				case modeBackward:
					var f float32 = 1
					if ks != nil {
						f = ks[o]
					}
					acc = backward32(acc, f, ks != nil, xs[o], g.act)
				}
				cs[z*g.cz+o] = acc
			}
		}
	}
	return nil
}

func (e *emulator) gemmGroup(_ int, gs []gemmArgs) error {
	for _, g := range gs {
		if err := e.gemm(g); err != nil {
			return err
		}
	}
	return nil
}

func (e *emulator) output(o outputArgs) error {
	as, ws, ys, zs, ds, ps, ks, out := e.s(o.a), e.s(o.w), e.s(o.y), e.s(o.z), e.s(o.delta), e.s(o.prev), e.s(o.keep), e.s(o.out)
	for blk := range outputBlocks(o.rows) {
		base := blk * outRows
		n := min(outRows, o.rows-base)
		var total float32
		for r := base; r < base+n; r++ {
			var part [4]float32
			a := as[r*o.h : (r+1)*o.h]
			for q := range part {
				for k := q; k < o.h; k += 4 {
					part[q] = fma32(a[k], ws[k], part[q])
				}
			}
			z := add32(ws[o.h], add32(add32(part[0], part[1]), add32(part[2], part[3])))
			l, g := pointLoss32(z, ys[r], o.task)
			zs[r] = z
			if ds != nil {
				ds[r] = g
			}
			total = add32(total, l)
			if ps != nil {
				for k := range o.h {
					i := r*o.h + k
					var f float32 = 1
					if ks != nil {
						f = ks[i]
					}
					ps[i] = backward32(mul32(g, ws[k]), f, ks != nil, a[k], o.act)
				}
			}
		}
		out[o.slot+blk] = total
	}
	return nil
}

func (e *emulator) adam(a adamArgs) error {
	ws, ms, vs, ps, tab := e.s(a.w), e.s(a.m), e.s(a.v), e.s(a.part), e.s(a.table)
	word := func(i int) int { return int(int32(math.Float32bits(tab[i]))) }
	for l := range a.layers {
		off, n, nW, s, cz, poff := word(l*tableWords), word(l*tableWords+1), word(l*tableWords+2),
			word(l*tableWords+3), word(l*tableWords+4), word(l*tableWords+5)
		for i := range n {
			var g float32
			for z := range s {
				g = add32(g, ps[poff+z*cz+i])
			}
			p := off + i
			w := ws[p]
			if i < nW {
				g = fma32(a.l2, w, g)
			}
			ws[p], ms[p], vs[p] = adam32(w, ms[p], vs[p], g, a.bs, a.lr)
		}
	}
	return nil
}

// backward32 is the BACKWARD epilogue: the back-propagated sum v times the
// dropout factor f (when there is one), times the derivative of the
// activation whose output after dropout is y.
func backward32(v, f float32, dropout bool, y float32, act int) float32 {
	if dropout {
		v = mul32(v, f)
	}
	if act == actReLU {
		if y > 0 {
			return v
		}
		return 0
	}
	if dropout && f != 0 {
		y = div32(y, f)
	}
	if act == actTanh {
		return mul32(v, sub32(1, mul32(y, y)))
	}
	return mul32(v, mul32(y, sub32(1, y)))
}

// adam32 is one parameter's Adam update from its gradient sum g (L2 term
// included) over bs rows.
func adam32(w, m, v, g, bs, lr float32) (float32, float32, float32) {
	g = div32(g, bs)
	m = fma32(0.9, m, mul32(0.1, g))
	v = fma32(0.999, v, mul32(1.0e-3, mul32(g, g)))
	w = sub32(w, mul32(lr, div32(m, add32(sqrt32(v), 1.0e-8))))
	return w, m, v
}

// tf32 rounds v to tf32 as cvt.rna.tf32.f32 does: to 10 fraction bits,
// ties away from zero.
func tf32(v float32) float32 {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return v
	}
	return math.Float32frombits((math.Float32bits(v) + 0x1000) &^ 0x1fff)
}

// The operations below are the kernels' single roundings: float32
// conversions keep Go from fusing a product into a sum.

func mul32(a, b float32) float32 { return float32(a * b) }
func add32(a, b float32) float32 { return float32(a + b) }
func sub32(a, b float32) float32 { return float32(a - b) }
func div32(a, b float32) float32 { return float32(a / b) }

// sqrt32 is the correctly rounded square root (the float64 root of a
// float32 rounds to the same float32).
func sqrt32(a float32) float32 { return float32(math.Sqrt(float64(a))) }

// rint32 rounds to the nearest integer, ties to even.
func rint32(a float32) float32 { return float32(math.RoundToEven(float64(a))) }

// fma32 is a·b + c rounded once to float32, as the device's fma.rn.f32.
// The product of two float32s is exact in float64; the float64 sum then
// rounds to the right float32 unless it lands exactly halfway between two
// float32s, which fma32Slow resolves with the sum's exact error.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	s := p + float64(c)
	if math.Float64bits(s)&(1<<29-1) != 1<<28 && math.Abs(s) >= 0x1p-126 {
		return float32(s)
	}
	return fma32Slow(p, float64(c), s)
}

func fma32Slow(p, c, s float64) float32 {
	// TwoSum: s + e is exactly p + c.
	bv := s - p
	e := (p - (s - bv)) + (c - bv)
	r := float32(s)
	if e == 0 || float64(r) == s || math.IsInf(s, 0) || math.IsNaN(s) {
		return r
	}
	var o float32 // r's neighbour on the other side of s
	if float64(r) > s {
		o = math.Nextafter32(r, float32(math.Inf(-1)))
	} else {
		o = math.Nextafter32(r, float32(math.Inf(1)))
	}
	if float64(r)-s != s-float64(o) {
		return r
	}
	// s is halfway: the exact value lies on e's side of it.
	if (e > 0) == (float64(o) > s) {
		return o
	}
	return r
}

// exp32 is mlp.cu's exp32.
func exp32(x float32) float32 {
	if x > 88 {
		return float32(math.Inf(1))
	}
	if x < -87 {
		return 0
	}
	n := rint32(mul32(x, 1.44269502))
	r := fma32(n, -0.693145752, x)
	r = fma32(n, -1.42860677e-06, r)
	p := float32(1.98412698e-04)
	p = fma32(p, r, 1.38888889e-03)
	p = fma32(p, r, 8.33333333e-03)
	p = fma32(p, r, 4.16666667e-02)
	p = fma32(p, r, 1.66666667e-01)
	p = fma32(p, r, 0.5)
	p = fma32(p, r, 1.0)
	p = fma32(p, r, 1.0)
	e := int32(n) + 127
	return mul32(p, math.Float32frombits(uint32(e)<<23))
}

// log1p32 is mlp.cu's log1p32.
func log1p32(u float32) float32 {
	f := div32(u, add32(2, u))
	f2 := mul32(f, f)
	p := float32(6.66666667e-02)
	p = fma32(p, f2, 7.69230769e-02)
	p = fma32(p, f2, 9.09090909e-02)
	p = fma32(p, f2, 1.11111111e-01)
	p = fma32(p, f2, 1.42857143e-01)
	p = fma32(p, f2, 2.0e-01)
	p = fma32(p, f2, 3.33333333e-01)
	p = fma32(p, f2, 1.0)
	return mul32(mul32(2, f), p)
}

// sigmoid32 is mlp.cu's sigmoid32.
func sigmoid32(z float32) float32 {
	if z >= 0 {
		return div32(1, add32(1, exp32(-z)))
	}
	e := exp32(z)
	return div32(e, add32(1, e))
}

// tanh32 is mlp.cu's tanh32.
func tanh32(x float32) float32 {
	a := float32(math.Abs(float64(x)))
	t := sub32(1, div32(2, add32(exp32(mul32(2, a)), 1)))
	if x < 0 {
		return -t
	}
	return t
}

// activate32 is mlp.cu's activate.
func activate32(v float32, act int) float32 {
	switch act {
	case actTanh:
		return tanh32(v)
	case actSigmoid:
		return sigmoid32(v)
	}
	if v > 0 {
		return v
	}
	return 0
}

// pointLoss32 is one row's loss and its gradient with respect to the
// output z, as mlp_output computes them.
func pointLoss32(z, y float32, task int) (loss, grad float32) {
	if task == taskRegression {
		e := sub32(z, y)
		return mul32(0.5, mul32(e, e)), e
	}
	u := log1p32(exp32(-float32(math.Abs(float64(z)))))
	l := u
	if z > 0 {
		l = add32(z, u)
	}
	return sub32(l, mul32(y, z)), sub32(sigmoid32(z), y)
}
