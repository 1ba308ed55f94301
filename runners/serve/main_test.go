package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway-ml/slipway/runners/artifact"
	"github.com/slipway-ml/slipway/runners/train"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// Model directories trained once for the package's tests.
var binaryDir, regressionDir string

func TestMain(m *testing.M) {
	root, err := os.MkdirTemp("", "serve-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binaryDir = filepath.Join(root, "churn")
	regressionDir = filepath.Join(root, "spend")
	err = buildModel(binaryDir, "churned", "logistic", nil)
	if err == nil {
		err = buildModel(regressionDir, "spend", "gbdt", map[string]string{"trees": "5"})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(root)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(root)
	os.Exit(code)
}

// synthetic returns a 300-row table: age (float), plan (category),
// churned (yes/no, mostly older pro users) and spend (float).
func synthetic() (*table.Table, error) {
	const n = 300
	age := make([]float64, n)
	spend := make([]float64, n)
	plan := make([]string, n)
	churned := make([]string, n)
	plans := []string{"basic", "pro", "max"}
	s := uint64(7)
	for i := range n {
		s = s*6364136223846793005 + 1442695040888963407
		age[i] = float64(18 + (s>>33)%60)
		plan[i] = plans[(s>>20)%3]
		churned[i] = "no"
		if age[i] > 45 && plan[i] != "max" || (s>>40)%10 == 0 {
			churned[i] = "yes"
		}
		spend[i] = age[i]*2 + float64(len(plan[i]))*10
	}
	return table.New(
		table.NewFloat("age", age),
		table.NewText("plan", table.Category, plan, nil),
		table.NewText("churned", table.Category, churned, nil),
		table.NewFloat("spend", spend),
	)
}

// buildModel trains a model on label and writes a pulled model
// directory: model.bin, features.json, train.json and schema.json.
func buildModel(dir, label, kind string, set map[string]string) error {
	t, err := synthetic()
	if err != nil {
		return err
	}
	drop := "spend"
	if label == "spend" {
		drop = "churned"
	}
	if t, err = t.Drop(drop); err != nil {
		return err
	}
	res, err := train.Run(context.Background(), train.Options{Train: t, Label: label, Model: kind, Set: set, Seed: 1, Threads: 1, OutDir: dir})
	if err != nil {
		return err
	}
	tb, err := json.Marshal(map[string]string{"model": res.Model, "task": res.Task, "positive": res.Positive})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "train.json"), tb, 0o644); err != nil {
		return err
	}
	fb, err := os.ReadFile(filepath.Join(dir, "features.json"))
	if err != nil {
		return err
	}
	schema, err := artifact.SchemaFromFeatures(fb)
	if err != nil {
		return err
	}
	sb, err := json.Marshal(schema)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "schema.json"), sb, 0o644)
}

// loadModel loads one of the test models.
func loadModel(t testing.TB, dir string) *Model {
	t.Helper()
	m, err := Load(dir)
	if err != nil {
		t.Fatalf("Load(%s): %v", dir, err)
	}
	return m
}
