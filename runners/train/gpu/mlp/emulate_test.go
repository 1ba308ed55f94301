package gpumlp

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactFMA is a·b + c rounded once to float32, by big-number arithmetic.
func exactFMA(a, b, c float32) float32 {
	p := new(big.Float).SetPrec(200).Mul(big.NewFloat(float64(a)), big.NewFloat(float64(b)))
	p.Add(p, big.NewFloat(float64(c)))
	f, _ := p.Float32()
	return f
}

func TestFMA32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := [][3]float32{
		{1, 1, 0},
		{1 + 0x1p-23, 1 + 0x1p-23, -1},
		// a·b + c lands halfway between two float32s in float64 only after
		// the float64 sum has rounded: the double rounding case.
		{1 + 0x1p-12, 1 + 0x1p-12, 0x1p-48},
		{1 + 0x1p-12, 1 - 0x1p-12, 0x1p-60},
		{0x1p-70, 0x1p-70, 0x1p-149},
		{3, 0x1p-150, 0x1p-149},
		{-0.0, 1, 0},
	}
	for range 200000 {
		a := math.Float32frombits(r.Uint32())
		b := math.Float32frombits(r.Uint32())
		c := math.Float32frombits(r.Uint32())
		if !isFinite(a) || !isFinite(b) || !isFinite(c) || !isFinite(a*b) {
			continue
		}
		cases = append(cases, [3]float32{a, b, c})
		// Operands near 1, where the tie cases live.
		x := 1 + float32(r.IntN(1<<12))*0x1p-23
		y := 1 + float32(r.IntN(1<<12))*0x1p-23
		cases = append(cases, [3]float32{x, y, float32(r.IntN(64)-32) * 0x1p-48})
	}
	for _, c := range cases {
		got, want := fma32(c[0], c[1], c[2]), exactFMA(c[0], c[1], c[2])
		if math.Float32bits(got) != math.Float32bits(want) && !(got == 0 && want == 0) {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", c[0], c[1], c[2], got, want)
		}
	}
}

func isFinite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

func TestElementaryFunctions(t *testing.T) {
	for _, tc := range []struct {
		name     string
		f        func(float32) float32
		ref      func(float64) float64
		from, to float64
		tol      float64 // relative, or absolute where |ref| < 1
	}{
		{"exp", exp32, math.Exp, -87, 88, 4e-7},
		{"log1p", log1p32, math.Log1p, 0, 1, 4e-7},
		{"sigmoid", sigmoid32, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, -80, 80, 4e-7},
		{"tanh", tanh32, math.Tanh, -20, 20, 4e-7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			worst := 0.0
			for i := range 100001 {
				x := float32(tc.from + (tc.to-tc.from)*float64(i)/100000)
				got, want := float64(tc.f(x)), tc.ref(float64(x))
				err := math.Abs(got - want)
				if math.Abs(want) > 1 {
					err /= math.Abs(want)
				}
				worst = max(worst, err)
			}
			if !(worst < tc.tol) {
				t.Errorf("worst error %.3g over [%g, %g], want < %g", worst, tc.from, tc.to, tc.tol)
			}
		})
	}
	if exp32(89) != float32(math.Inf(1)) || exp32(-88) != 0 {
		t.Errorf("exp32 out of range: exp32(89) = %g, exp32(-88) = %g", exp32(89), exp32(-88))
	}
}

func TestDropThreshold(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range []float64{0.1, 0.25, 0.5, 1.0 / 3, 0.9} {
		th := dropThreshold(p)
		for range 10000 {
			u := r.Uint64()
			if got, want := u<<11>>11 < th, float64(u<<11>>11)/(1<<53) < p; got != want {
				t.Fatalf("p %v draw %d: dropped %v, want %v", p, u, got, want)
			}
		}
		// The boundary itself.
		if b := th - 1; !(float64(b)/(1<<53) < p) || float64(th)/(1<<53) < p {
			t.Errorf("p %v: threshold %d is not the boundary", p, th)
		}
	}
}

func TestTF32Rounding(t *testing.T) {
	for _, tc := range []struct{ in, want float32 }{
		{1, 1},
		{1 + 0x1p-10, 1 + 0x1p-10},
		{1 + 0x1p-11, 1 + 0x1p-10}, // a tie, away from zero
		{-(1 + 0x1p-11), -(1 + 0x1p-10)},
		{1 + 0x1p-12, 1},
		{1 + 0x1p-11 + 0x1p-23, 1 + 0x1p-10},
		{0, 0},
		{float32(math.Inf(-1)), float32(math.Inf(-1))},
	} {
		if got := tf32(tc.in); got != tc.want {
			t.Errorf("tf32(%g) = %g, want %g", tc.in, got, tc.want)
		}
	}
	if !math.IsNaN(float64(tf32(float32(math.NaN())))) {
		t.Error("tf32(NaN) is a number")
	}
}
