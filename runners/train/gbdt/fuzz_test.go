package gbdt

import (
	"context"
	"math"
	"testing"
)

func FuzzUnmarshalBinary(f *testing.F) {
	x, y := synthetic(500, 11)
	p := DefaultParams()
	p.Trees = 3
	p.MaxDepth = 3
	m, err := Train(context.Background(), x, y, nil, nil, p, nil)
	if err != nil {
		f.Fatal(err)
	}
	b, _ := m.MarshalBinary()
	f.Add(b)
	f.Add([]byte(Magic))
	f.Add([]byte{})
	row := make([]float64, len(x.Cols))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Model
		if err := m.UnmarshalBinary(b); err != nil {
			return
		}
		// a model that loads predicts without panicking
		row := row[:0]
		for range m.FeatureNames() {
			row = append(row, math.NaN())
		}
		if _, err := m.PredictRow(row); err != nil {
			t.Fatal(err)
		}
		for i := range row {
			row[i] = float64(i)
		}
		m.PredictRow(row)
	})
}
