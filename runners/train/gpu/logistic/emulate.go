package logistic

import "math"

// Emulator computes the objective with the kernels' exact arithmetic on
// the CPU: float32 products and sums for x·w in the same lane and
// butterfly order, float64 for the loss, the residuals and every partial
// sum, the same tiles, blocks, thread groups and reduction trees. On the
// same inputs it returns the bits the GPU returns.
type Emulator struct {
	l  layout
	x  []float32 // row-major n×d
	y  []uint8
	cw [2]float64
}

// NewEmulator lays out standardised columns z, labels y (0 or 1) and class
// weights as the GPU objective does.
func NewEmulator(z [][]float64, y []float64, cw [2]float64) (*Emulator, error) {
	x, yb, l, err := pack(z, y)
	if err != nil {
		return nil, err
	}
	return &Emulator{l: l, x: x, y: yb, cw: cw}, nil
}

// Eval returns Σ w_i·loss_i at theta and writes the summed gradient into
// grad (the intercept's last), as logistic.Objective asks.
func (e *Emulator) Eval(theta, grad []float64) float64 {
	l := e.l
	d := l.d
	w := make([]float32, d)
	for j := range w {
		w[j] = float32(theta[j])
	}
	bias := theta[d]
	width := d + 2
	partials := make([]float64, l.blocks*width)
	acc := make([]float64, l.redLen) // [group][column]
	res := make([]float64, l.rows)
	var lossw [warps]float64
	var part [32]float32
	for b := range l.blocks {
		clear(acc)
		lossw = [warps]float64{}
		for tl := b; tl < l.tiles; tl += l.blocks {
			r0 := tl * l.rows
			rows := min(l.n-r0, l.rows)
			for r := range rows {
				xr := e.x[(r0+r)*d : (r0+r+1)*d]
				for lane := range 32 {
					p := float32(0)
					for j := lane; j < d; j += 32 {
						p = p + float32(xr[j]*w[j])
					}
					part[lane] = p
				}
				for off := 16; off >= 1; off >>= 1 {
					var next [32]float32
					for lane := range 32 {
						next[lane] = part[lane] + part[lane^off]
					}
					part = next
				}
				eta := float64(part[0]) + bias
				yv := e.y[r0+r]
				yi := float64(yv)
				cw := e.cw[0]
				if yv != 0 {
					cw = e.cw[1]
				}
				arg := eta
				if eta > 0 {
					arg = -eta
				}
				ex := expneg(arg)
				l1p := log1p01(ex)
				var loss float64
				if eta > 0 {
					loss = float64(eta+l1p) - float64(yi*eta)
				} else {
					loss = l1p - float64(yi*eta)
				}
				var sig float64
				if eta >= 0 {
					sig = 1 / (1 + ex)
				} else {
					sig = ex / (1 + ex)
				}
				warp := r % warps
				lossw[warp] = lossw[warp] + float64(cw*loss)
				res[r] = cw * (sig - yi)
			}
			for g := range l.groups {
				for c := range l.cols {
					a := acc[g*l.cols+c]
					for r := g; r < rows; r += l.groups {
						xv := 1.0
						if c < d {
							xv = float64(e.x[(r0+r)*d+c])
						}
						a = a + float64(res[r]*xv)
					}
					acc[g*l.cols+c] = a
				}
			}
		}
		for s := 1; s < l.groups; s *= 2 {
			for g := 0; g+s < l.groups; g += 2 * s {
				for c := range l.cols {
					acc[g*l.cols+c] = acc[g*l.cols+c] + acc[(g+s)*l.cols+c]
				}
			}
		}
		for s := 1; s < warps; s *= 2 {
			for t := 0; t+s < warps; t += 2 * s {
				lossw[t] = lossw[t] + lossw[t+s]
			}
		}
		out := partials[b*width : (b+1)*width]
		copy(out, acc[:l.cols])
		out[d+1] = lossw[0]
	}
	for k := range width - 1 {
		s := 0.0
		for b := range l.blocks {
			s = s + partials[b*width+k]
		}
		grad[k] = s
	}
	s := 0.0
	for b := range l.blocks {
		s = s + partials[b*width+d+1]
	}
	return s
}

// expneg is logistic.cu's exp for x <= 0.
func expneg(x float64) float64 {
	if x < -745.0 {
		return 0
	}
	k := math.RoundToEven(x * 1.4426950408889634)
	r := math.FMA(-k, 6.93147180369123816490e-01, x)
	r = math.FMA(-k, 1.90821492927058770002e-10, r)
	p := 1.6059043836821613e-10
	for _, c := range [...]float64{
		2.08767569878680989792e-09, 2.50521083854417187751e-08, 2.75573192239858906526e-07,
		2.75573192239858906526e-06, 2.48015873015873015873e-05, 1.98412698412698412698e-04,
		1.38888888888888888889e-03, 8.33333333333333333333e-03, 4.16666666666666666667e-02,
		1.66666666666666666667e-01, 0.5, 1.0, 1.0,
	} {
		p = math.FMA(p, r, c)
	}
	ki := int(k)
	k1 := ki / 2
	k2 := ki - k1
	s1 := math.Float64frombits(uint64(k1+1023) << 52)
	s2 := math.Float64frombits(uint64(k2+1023) << 52)
	return float64(p*s1) * s2
}

// log1p01 is logistic.cu's log(1+e) for e in [0, 1].
func log1p01(e float64) float64 {
	u := 1 + e
	c := (e - (u - 1)) / u
	m, kln2 := u, 0.0
	if u > 1.4142135623730951 {
		m = u * 0.5
		kln2 = 6.93147180559945309417e-01
	}
	f := (m - 1) / (m + 1)
	f2 := f * f
	s := 1.0 / 23.0
	for _, c := range [...]float64{1.0 / 21.0, 1.0 / 19.0, 1.0 / 17.0, 1.0 / 15.0, 1.0 / 13.0, 1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0} {
		s = math.FMA(s, f2, c)
	}
	return float64(kln2+float64(float64(2*f)*s)) + c
}
