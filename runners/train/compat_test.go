package train

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/gbdt"
	"github.com/slipway-ml/slipway/runners/train/logistic"
	"github.com/slipway-ml/slipway/runners/train/mlp"
)

var updateModels = flag.Bool("update-models", false, "rewrite the saved models in testdata/v1 (only when the format version changes)")

// compatMatrix is a fixed input: two numeric columns, one with missing
// values for the gbdt, and a label that depends on both.
func compatMatrix(withMissing bool) (*data.Matrix, []float64) {
	r := rand.New(rand.NewPCG(11, 12))
	n := 400
	x := &data.Matrix{Names: []string{"a", "b"}, Cols: [][]float64{make([]float64, n), make([]float64, n)}, Categories: []int{0, 0}}
	y := make([]float64, n)
	for i := range n {
		a, b := r.Float64()*4-2, r.Float64()*4-2
		x.Cols[0][i], x.Cols[1][i] = a, b
		if a*b+0.3*a > r.NormFloat64()*0.5 {
			y[i] = 1
		}
		if withMissing && i%17 == 0 {
			x.Cols[1][i] = math.NaN()
		}
	}
	return x, y
}

type saved struct {
	Predictions []float64 `json:"predictions"`
}

// TestSavedModelsStillLoad loads models saved by format version 1 and
// checks that they predict exactly what they predicted when saved: a
// change to a model format must bump its version, not silently change
// what a stored model means.
func TestSavedModelsStillLoad(t *testing.T) {
	type kind struct {
		name    string
		missing bool
		train   func(x *data.Matrix, y []float64) ([]byte, error)
		load    func([]byte) (model, error)
	}
	kinds := []kind{
		{"gbdt", true, func(x *data.Matrix, y []float64) ([]byte, error) {
			p := gbdt.DefaultParams()
			p.Trees = 20
			m, err := gbdt.Train(context.Background(), x, y, nil, nil, p, nil)
			if err != nil {
				return nil, err
			}
			return m.MarshalBinary()
		}, func(b []byte) (model, error) {
			m := &gbdt.Model{}
			return m, m.UnmarshalBinary(b)
		}},
		{"logistic", false, func(x *data.Matrix, y []float64) ([]byte, error) {
			m, err := logistic.Train(context.Background(), x, y, logistic.DefaultParams())
			if err != nil {
				return nil, err
			}
			return m.MarshalBinary()
		}, func(b []byte) (model, error) { return logistic.Unmarshal(b) }},
		{"mlp", false, func(x *data.Matrix, y []float64) ([]byte, error) {
			p := mlp.DefaultParams()
			p.Epochs, p.HiddenUnits = 5, []int{8}
			m, err := mlp.Train(context.Background(), x, y, nil, nil, p, nil)
			if err != nil {
				return nil, err
			}
			return m.MarshalBinary()
		}, func(b []byte) (model, error) { return mlp.Unmarshal(b) }},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			x, y := compatMatrix(k.missing)
			modelPath := filepath.Join("testdata", "v1", k.name+".model")
			predPath := filepath.Join("testdata", "v1", k.name+".predictions.json")
			if *updateModels {
				b, err := k.train(x, y)
				if err != nil {
					t.Fatal(err)
				}
				m, err := k.load(b)
				if err != nil {
					t.Fatal(err)
				}
				p, err := m.Predict(x)
				if err != nil {
					t.Fatal(err)
				}
				pj, _ := json.Marshal(saved{p})
				if err := os.WriteFile(modelPath, b, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(predPath, append(pj, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(modelPath)
			if err != nil {
				t.Fatalf("%v (run go test -run SavedModels -update-models once)", err)
			}
			m, err := k.load(b)
			if err != nil {
				t.Fatalf("a model saved by format version 1 no longer loads: %v", err)
			}
			var want saved
			pj, err := os.ReadFile(predPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(pj, &want); err != nil {
				t.Fatal(err)
			}
			got, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want.Predictions) {
				t.Fatalf("%d predictions, saved %d", len(got), len(want.Predictions))
			}
			for i := range got {
				if got[i] != want.Predictions[i] {
					t.Fatalf("row %d: predicts %v, saved model predicted %v", i, got[i], want.Predictions[i])
				}
			}
		})
	}
}
