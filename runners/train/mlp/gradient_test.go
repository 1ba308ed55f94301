package mlp

import (
	"math"
	"testing"
)

// TestGradientFiniteDifferences checks Gradient against central
// differences of the loss it returns.
func TestGradientFiniteDifferences(t *testing.T) {
	x, y := xor(60, 4)
	for _, tc := range []struct {
		activation, task string
	}{{"tanh", "binary"}, {"sigmoid", "regression"}, {"relu", "binary"}} {
		t.Run(tc.activation+"-"+tc.task, func(t *testing.T) {
			p := DefaultParams()
			p.HiddenUnits, p.Activation, p.Task = []int{5, 4}, tc.activation, tc.task
			m, p, _, err := Setup(x, y, nil, nil, p)
			if err != nil {
				t.Fatal(err)
			}
			gw, gb, _ := Gradient(m, x, y, p, 0)
			const h = 1e-6
			for l := range m.Layers {
				for _, c := range []struct {
					vals, grad []float64
				}{{m.Layers[l].W, gw[l]}, {m.Layers[l].B, gb[l]}} {
					for i := range c.vals {
						v := c.vals[i]
						c.vals[i] = v + h
						_, _, up := Gradient(m, x, y, p, 0)
						c.vals[i] = v - h
						_, _, down := Gradient(m, x, y, p, 0)
						c.vals[i] = v
						num := (up - down) / (2 * h)
						if math.Abs(num-c.grad[i]) > 1e-5*math.Max(1, math.Abs(num)) {
							t.Fatalf("layer %d parameter %d: gradient %v, central difference %v", l, i, c.grad[i], num)
						}
					}
				}
			}
		})
	}
}
