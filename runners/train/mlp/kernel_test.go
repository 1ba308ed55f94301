package mlp

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func randRows(r *rand.Rand, n, m int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, m)
		for j := range out[i] {
			out[i][j] = r.NormFloat64()
		}
	}
	return out
}

func BenchmarkDotRows(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	p, q, c := randRows(r, 200, 42), randRows(r, 100, 42), randRows(r, 200, 100)
	init := make([]float64, 100)
	b.SetBytes(200 * 100 * 42) // MACs
	for b.Loop() {
		dotRows(c, p, q, init)
	}
}

// naiveDot is the reference for dotRows: init, then every product added in
// order.
func naiveDot(p, q []float64, init float64) float64 {
	s := init
	for t := range p {
		s += p[t] * q[t]
	}
	return s
}

func TestDotRows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ np, nq, n int }{
		{0, 3, 4}, {1, 1, 1}, {1, 5, 7}, {2, 2, 0}, {3, 2, 5}, {3, 3, 9}, {4, 7, 3}, {5, 4, 11}, {7, 1, 6}, {9, 6, 42}, {10, 5, 1},
	} {
		for _, withInit := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%dx%d/init=%v", tc.np, tc.nq, tc.n, withInit), func(t *testing.T) {
				p, q, c := randRows(r, tc.np, tc.n), randRows(r, tc.nq, tc.n), randRows(r, tc.np, tc.nq)
				var init []float64
				if withInit {
					init = randRows(r, 1, tc.nq)[0]
				}
				dotRows(c, p, q, init)
				for a := range p {
					for b := range q {
						i := 0.0
						if init != nil {
							i = init[b]
						}
						// Bit for bit: the order of the sum is part of the
						// contract that makes training independent of the
						// number of threads.
						if want := naiveDot(p[a], q[b], i); c[a][b] != want {
							t.Fatalf("c[%d][%d] = %v, want %v", a, b, c[a][b], want)
						}
					}
				}
				// Any split of the rows gives the same bits.
				for cut := 0; cut <= tc.np; cut++ {
					c2 := randRows(r, tc.np, tc.nq)
					dotRows(c2[:cut], p[:cut], q, init)
					dotRows(c2[cut:], p[cut:], q, init)
					for a := range c {
						for b := range c[a] {
							if c2[a][b] != c[a][b] {
								t.Fatalf("split at %d: c[%d][%d] = %v, want %v", cut, a, b, c2[a][b], c[a][b])
							}
						}
					}
				}
			})
		}
	}
}

func TestTranspose(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	src := randRows(r, 19, 5)
	dst := randRows(r, 5, 19)
	transpose(dst, src, 3, 17)
	for k := range dst {
		for row := 3; row < 17; row++ {
			if dst[k][row] != src[row][k] {
				t.Fatalf("dst[%d][%d] = %v, want %v", k, row, dst[k][row], src[row][k])
			}
		}
	}
}
