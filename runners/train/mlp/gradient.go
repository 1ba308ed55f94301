package mlp

import "github.com/slipway-ml/slipway/runners/train/data"

// Gradient returns the gradient of the loss summed over the rows of x with
// respect to each layer's weights (In×Out, the model's layout) and biases
// at the model's current weights, and the summed loss, computed by the
// trainer's own float64 forward and backward passes over the rows in order
// as one batch. Dropout (p.Dropout, p.Seed) is drawn for the step key, as
// Train draws it for the batch starting at row start of epoch e with key
// e<<32 | start. It is the reference other trainers of the network are
// checked against.
func Gradient(m *Model, x *data.Matrix, y []float64, p Params, key uint64) (gw, gb [][]float64, loss float64) {
	n := x.Rows()
	p.BatchSize = n
	indicators := make([]bool, len(x.Cols))
	for j, c := range x.Cols {
		indicators[j] = indicator(c)
	}
	rows := m.rowMajor(x, 1)
	t := newTrainer(m, p, 1, n, indicators)
	defer t.close()
	batch := make([]int, n)
	for i := range batch {
		batch[i] = i
	}
	t.backprop(rows, y, batch, key)
	for _, u := range t.parts[0] {
		t.gradient(u)
	}
	out0 := m.Layers[0].Out
	if len(t.ind) > 0 {
		t.indicatorGradient(0, out0)
	}
	for l := range t.ls {
		s := &t.ls[l]
		out := s.layer.Out
		g := make([]float64, s.layer.In*out)
		for k := range out {
			for j, v := range s.gw[k] {
				g[s.col(j)*out+k] = v
			}
		}
		if l == 0 {
			for j, c := range t.ind {
				for k, v := range t.gInd[j] {
					g[c*out+k] = v
				}
			}
		}
		gw = append(gw, g)
		gb = append(gb, append([]float64(nil), s.gb...))
	}
	for _, v := range t.loss[:n] {
		loss += v
	}
	return gw, gb, loss
}
