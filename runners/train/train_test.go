package train

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/table"
)

func churn(t *testing.T) *table.Table {
	t.Helper()
	f, err := os.Open("../../examples/churn/data/churn.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tb, err := table.ReadCSV(f, table.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestModelsOnChurn trains each model on the real churn data and checks
// that it learns something a person would accept, that the output says
// which class is positive, and that the files are written.
func TestModelsOnChurn(t *testing.T) {
	data := churn(t)
	for _, tc := range []struct {
		model  string
		set    map[string]string
		minAUC float64
	}{
		{"logistic", nil, 0.78},
		{"gbdt", map[string]string{"learningRate": "0.1"}, 0.88},
		{"mlp", map[string]string{"epochs": "30", "hiddenUnits": "32"}, 0.82},
	} {
		t.Run(tc.model, func(t *testing.T) {
			dir := t.TempDir()
			res, err := Run(context.Background(), Options{Train: data, Label: "churn", Model: tc.model, Set: tc.set, Seed: 1, OutDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if res.Metrics["roc_auc"] < tc.minAUC {
				t.Errorf("roc_auc %.4f, want ≥ %.2f", res.Metrics["roc_auc"], tc.minAUC)
			}
			if res.Positive != "yes" || res.Rows != 4000 || res.TestRows != 1000 {
				t.Errorf("positive %q, rows %d, test rows %d", res.Positive, res.Rows, res.TestRows)
			}
			for _, k := range []string{"roc_auc", "log_loss", "accuracy", "f1", "pr_auc"} {
				if _, ok := res.Metrics[k]; !ok {
					t.Errorf("metric %s missing", k)
				}
			}
			if len(res.Importance) == 0 {
				t.Error("no feature importance")
			}
			for _, f := range []string{"model.bin", "features.json", "metrics.json"} {
				if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
					t.Errorf("%s not written: %v", f, err)
				}
			}
		})
	}
}

// TestDeterministic checks that the same seed gives the same model bytes.
func TestDeterministic(t *testing.T) {
	data := churn(t)
	var got [][]byte
	for _, threads := range []int{1, 2} {
		dir := t.TempDir()
		if _, err := Run(context.Background(), Options{Train: data, Label: "churn", Model: "gbdt", Seed: 3, Threads: threads, OutDir: dir}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "model.bin"))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b)
	}
	if string(got[0]) != string(got[1]) {
		t.Fatal("model bytes differ between runs with the same seed")
	}
}

func TestBadOptions(t *testing.T) {
	data := churn(t)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Train: data, Label: "churn", Model: "forest"}, "unknown model"},
		{Options{Train: data, Label: "nope", Model: "gbdt"}, "no label column"},
		{Options{Train: data, Label: "churn", Model: "gbdt", Set: map[string]string{"tres": "10"}}, `unknown parameter "tres"`},
		{Options{Train: data, Label: "churn", Model: "gbdt", Set: map[string]string{"trees": "many"}}, "want an integer"},
		{Options{Label: "churn", Model: "gbdt"}, "training table is empty"},
	} {
		if _, err := Run(context.Background(), tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.o.Set, err, tc.want)
		}
	}
}

func TestFairnessAndCrossValidation(t *testing.T) {
	res, err := Run(context.Background(), Options{Train: churn(t), Label: "churn", Model: "logistic", Group: "international_plan", Folds: 4, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Fairness
	if f == nil || len(f.Groups) != 2 || f.DemographicParityDifference <= 0 || f.DisparateImpact <= 0 || f.DisparateImpact > 1 {
		t.Fatalf("fairness = %+v", f)
	}
	cv := res.CrossValidation["roc_auc"]
	if cv.N != 4 || cv.Mean < 0.75 || cv.Std <= 0 || cv.Min > cv.Mean || cv.Max < cv.Mean {
		t.Fatalf("cross-validation roc_auc = %+v", cv)
	}
	if _, err := Run(context.Background(), Options{Train: churn(t), Label: "churn", Model: "logistic", Group: "nope"}); err == nil {
		t.Fatal("an unknown group column was accepted")
	}
}

// TestThreshold checks the confusion matrix against the threshold: a
// higher threshold predicts fewer positives, the matrix counts every test
// row, and the threshold metrics agree with it.
func TestThreshold(t *testing.T) {
	data := churn(t)
	var prevPredicted = -1
	for _, th := range []float64{0.9, 0.5, 0.1} {
		res, err := Run(context.Background(), Options{Train: data, Label: "churn", Model: "logistic", Seed: 1, Threshold: th})
		if err != nil {
			t.Fatal(err)
		}
		c := res.Confusion
		if c == nil || res.Threshold != th {
			t.Fatalf("threshold %v: confusion %v, threshold %v", th, c, res.Threshold)
		}
		if c.TP+c.FP+c.TN+c.FN != res.TestRows {
			t.Errorf("threshold %v: matrix counts %d rows, test rows %d", th, c.TP+c.FP+c.TN+c.FN, res.TestRows)
		}
		if got := float64(c.TP) / float64(c.TP+c.FN); got != res.Metrics["recall"] {
			t.Errorf("threshold %v: recall %v, matrix says %v", th, res.Metrics["recall"], got)
		}
		predicted := c.TP + c.FP
		if predicted < prevPredicted {
			t.Errorf("threshold %v predicts %d positives, a higher one %d", th, predicted, prevPredicted)
		}
		prevPredicted = predicted
	}
}
