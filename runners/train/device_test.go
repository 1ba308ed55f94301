package train

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/features"
	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
)

// TestFitModelDevice checks FitModel's device choice: without a GPU,
// "gpu" fails with the reason and "auto" gives the CPU's model exactly.
func TestFitModelDevice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 500
	x := &data.Matrix{Names: []string{"a", "b"}, Cols: [][]float64{make([]float64, n), make([]float64, n)}, Categories: []int{0, 0}}
	y := make([]float64, n)
	for i := range n {
		x.Cols[0][i], x.Cols[1][i] = rng.NormFloat64(), rng.NormFloat64()
		if x.Cols[0][i]+rng.NormFloat64() > 0 {
			y[i] = 1
		}
	}
	_, openErr := cuda.Open(0)
	for _, model := range []string{"logistic", "gbdt"} {
		cpu, _, _, err := FitModel(context.Background(), ModelSpec{Model: model, Device: "cpu"}, features.Binary, x, y, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, _, err = FitModel(context.Background(), ModelSpec{Model: model, Device: "gpu"}, features.Binary, x, y, nil, nil)
		if openErr != nil && (err == nil || !strings.Contains(err.Error(), `device "gpu": no NVIDIA`)) {
			t.Errorf("%s on device gpu without one: %v", model, err)
		}
		if openErr == nil && err != nil {
			t.Errorf("%s on the GPU: %v", model, err)
		}
		auto, _, _, err := FitModel(context.Background(), ModelSpec{Model: model, Device: "auto"}, features.Binary, x, y, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := cpu.MarshalBinary()
		b, _ := auto.MarshalBinary()
		if openErr != nil && string(a) != string(b) {
			t.Errorf("%s: device auto without a GPU differs from the CPU", model)
		}
	}
}
