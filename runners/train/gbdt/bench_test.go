package gbdt

import (
	"context"
	"sync"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/data"
)

var benchData = sync.OnceValues(func() (*data.Matrix, []float64) { return synthetic(100_000, 1) })

// BenchmarkTrain trains 100 trees of depth 6 with 256 bins on 100k rows ×
// 20 features (numeric, missing and categorical columns).
func BenchmarkTrain(b *testing.B) {
	x, y := benchData()
	p := DefaultParams()
	p.Trees, p.MaxDepth, p.MaxBin = 100, 6, 256
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Train(context.Background(), x, y, nil, nil, p, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPredict predicts 100k rows with a 100-tree model.
func BenchmarkPredict(b *testing.B) {
	x, y := benchData()
	p := DefaultParams()
	m, err := Train(context.Background(), x, y, nil, nil, p, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Predict(x); err != nil {
			b.Fatal(err)
		}
	}
}
