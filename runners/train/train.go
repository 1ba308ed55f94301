// Package train trains one model from tables, without a spec: it fits the
// feature pipeline on the training rows, trains a logistic, gbdt or mlp
// model, evaluates it on test rows and writes the model, its fitted
// features and its metrics to a directory. `slipway train` and the
// runner's train step call it.
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/slipway-ml/slipway/backends/output"
	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/features"
	"github.com/slipway-ml/slipway/runners/train/gbdt"
	"github.com/slipway-ml/slipway/runners/train/logistic"
	"github.com/slipway-ml/slipway/runners/train/metrics"
	"github.com/slipway-ml/slipway/runners/train/split"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// Models lists the model kinds.
var Models = []string{"logistic", "gbdt", "mlp"}

// Options say what to train.
type Options struct {
	// Train and Test are the tables; Test may be nil, in which case
	// TestFraction of Train is held out (stratified).
	Train, Test *table.Table
	// TestFraction is the share held out when Test is nil. Default 0.2.
	TestFraction float64
	// Label is the label column.
	Label string
	// Positive is the positive class; default: "yes", "true", "1" or the
	// minority class.
	Positive string
	// Model is logistic, gbdt or mlp.
	Model string
	// Set overrides model parameters by name ("trees=200").
	Set map[string]string
	// Categorical is "native" or "onehot"; default native for gbdt, onehot
	// for the others (which need numbers).
	Categorical string
	// ValidationFraction of the training rows is held out for early
	// stopping when the model uses it. Default 0.1.
	ValidationFraction float64
	// Seed makes splits and training reproducible.
	Seed uint64
	// Threads bounds parallelism; 0 means all cores.
	Threads int
	// OutDir, when set, receives model.bin, features.json and metrics.json.
	OutDir string
	// Group names a column whose groups the fairness metrics compare.
	Group string
	// Folds, when at least 2, adds k-fold cross-validation on the
	// training rows.
	Folds int
	// Progress, when set, is called as training advances.
	Progress func(iteration int, trainLoss, validLoss float64)
	// Threshold is the score at or above which a row is predicted
	// positive for the confusion matrix and the threshold metrics
	// (accuracy, precision, recall, f1). Default 0.5.
	Threshold float64
}

// Result is what a training run reports.
type Result struct {
	// Model is the model kind.
	Model string `json:"model"`
	// Task is binary or regression.
	Task string `json:"task"`
	// Positive is the positive class and PositiveReason how it was chosen.
	Positive       string `json:"positive,omitempty"`
	PositiveReason string `json:"positive_reason,omitempty"`
	// Rows is the number of training rows; TestRows of test rows.
	Rows     int `json:"rows"`
	TestRows int `json:"test_rows"`
	// Features is the number of model inputs.
	Features int `json:"features"`
	// TrainSeconds is the time spent training the model (not reading or
	// transforming).
	TrainSeconds float64 `json:"train_seconds"`
	// Metrics on the test rows.
	Metrics map[string]float64 `json:"metrics"`
	// Threshold is the score at or above which a row is predicted
	// positive; Confusion is the test rows' confusion matrix there.
	Threshold float64            `json:"threshold,omitempty"`
	Confusion *metrics.Confusion `json:"confusion,omitempty"`
	// Fairness compares the groups of Options.Group on the test rows.
	Fairness *metrics.FairnessReport `json:"fairness,omitempty"`
	// CrossValidation summarises each metric over Options.Folds folds of
	// the training rows.
	CrossValidation map[string]split.Summary `json:"cross_validation,omitempty"`
	// Importance of the ten most important features.
	Importance []Importance `json:"importance"`
	// Files written to OutDir.
	Files []string `json:"files,omitempty"`
}

// Importance is one feature's importance.
type Importance struct {
	Feature string  `json:"feature"`
	Value   float64 `json:"value"`
}

// Run trains, evaluates and (with OutDir) saves one model.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Train == nil || o.Train.Rows() == 0 {
		return nil, errors.New("train: the training table is empty")
	}
	if !slices.Contains(Models, o.Model) {
		return nil, fmt.Errorf("train: unknown model %q (want logistic, gbdt or mlp)", o.Model)
	}
	if o.Categorical == "" {
		o.Categorical = features.Onehot
		if o.Model == "gbdt" {
			o.Categorical = features.Native
		}
	}
	if o.TestFraction == 0 {
		o.TestFraction = 0.2
	}
	if o.ValidationFraction == 0 {
		o.ValidationFraction = 0.1
	}
	if o.Threshold == 0 {
		o.Threshold = metrics.DefaultThreshold
	}
	if !(o.Threshold > 0 && o.Threshold < 1) {
		return nil, fmt.Errorf("train: threshold %v, want 0 < threshold < 1", o.Threshold)
	}
	all, test := o.Train, o.Test
	if test == nil {
		// Split the one table: stratify on the raw label text.
		y, err := rawLabels(all, o.Label)
		if err != nil {
			return nil, err
		}
		tr, te, err := split.Stratified(y, o.TestFraction, o.Seed)
		if err != nil {
			return nil, fmt.Errorf("train: split: %w", err)
		}
		test = all.Subset(te)
		all = all.Subset(tr)
	}
	// One-hot keeps every category of an inferred category column (up to
	// the native cap), as scikit-learn's OneHotEncoder does, rather than
	// the spec transform's default of 32.
	spec := features.FeatureSpec{Label: o.Label, Positive: o.Positive, Categorical: o.Categorical,
		OnehotMaxCategories: features.DefaultNativeMaxCategories}
	if o.Model != "gbdt" {
		// Linear models and networks need numbers everywhere: impute
		// missing numeric values with the median and standardise.
		spec.Transforms = numericDefaults(all, o.Label)
	}
	run, err := fitEval(ctx, o, spec, all, test)
	if err != nil {
		return nil, err
	}
	m, fp := run.model, run.features
	res := &Result{Model: o.Model, Task: run.task, Rows: run.rows, TestRows: test.Rows(), Features: run.width,
		TrainSeconds: run.seconds, Metrics: run.metrics}
	if run.task == features.Binary {
		res.Positive, res.PositiveReason = fp.Positive(), fp.PositiveReason()
		br, err := metrics.BinaryAt(run.testY, run.pred, o.Threshold)
		if err != nil {
			return nil, fmt.Errorf("train: evaluate: %w", err)
		}
		// The threshold metrics at the chosen threshold.
		for k, v := range br.Map() {
			res.Metrics[k] = v
		}
		res.Threshold, res.Confusion = o.Threshold, &br.Confusion
	}
	if o.Group != "" {
		if run.task != features.Binary {
			return nil, errors.New("train: fairness by group needs a binary label")
		}
		groups, err := groupValues(test, o.Group)
		if err != nil {
			return nil, err
		}
		f, err := metrics.Fairness(run.testY, run.pred, groups, o.Threshold)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		res.Fairness = &f
	}
	if o.Folds > 0 {
		if res.CrossValidation, err = crossValidate(ctx, o, spec, all); err != nil {
			return nil, err
		}
	}
	res.Importance = top(m.Importance(), 10)
	if o.OutDir != "" {
		if res.Files, err = save(o.OutDir, m, fp, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// run is one fit and evaluation.
type run struct {
	model    model
	features *features.Pipeline
	task     string
	rows     int
	width    int
	seconds  float64
	testY    []float64
	pred     []float64
	metrics  map[string]float64
}

// fitEval fits the features on trainT, trains the model and evaluates it on
// testT.
func fitEval(ctx context.Context, o Options, spec features.FeatureSpec, trainT, testT *table.Table) (*run, error) {
	fp, err := features.Fit(trainT, spec, nil)
	if err != nil {
		return nil, fmt.Errorf("train: features: %w", err)
	}
	x, err := fp.Transform(trainT)
	if err != nil {
		return nil, fmt.Errorf("train: transform training rows: %w", err)
	}
	y, _, err := fp.Label(trainT)
	if err != nil {
		return nil, fmt.Errorf("train: labels: %w", err)
	}
	tx, err := fp.Transform(testT)
	if err != nil {
		return nil, fmt.Errorf("train: transform test rows: %w", err)
	}
	ty, _, err := fp.Label(testT)
	if err != nil {
		return nil, fmt.Errorf("train: test labels: %w", err)
	}
	r := &run{features: fp, task: fp.Task(), rows: x.Rows(), width: len(x.Cols), testY: ty}
	if r.model, r.seconds, err = fit(ctx, o, r.task, x, y); err != nil {
		return nil, err
	}
	if r.pred, err = r.model.Predict(tx); err != nil {
		return nil, fmt.Errorf("train: predict test rows: %w", err)
	}
	if r.metrics, err = TaskMetrics(r.task, ty, r.pred); err != nil {
		return nil, fmt.Errorf("train: evaluate: %w", err)
	}
	return r, nil
}

// crossValidate runs k-fold cross-validation on the training rows, fitting
// the features afresh on every fold's training part, and summarises each
// metric's mean and spread.
func crossValidate(ctx context.Context, o Options, spec features.FeatureSpec, all *table.Table) (map[string]split.Summary, error) {
	if o.Folds < 2 {
		return nil, fmt.Errorf("train: cross-validation needs at least 2 folds, got %d", o.Folds)
	}
	y, err := rawLabels(all, o.Label)
	if err != nil {
		return nil, err
	}
	folds, err := split.KFold(y, o.Folds, true, o.Seed)
	if err != nil {
		return nil, fmt.Errorf("train: folds: %w", err)
	}
	var results []map[string]float64
	for i, f := range folds {
		r, err := fitEval(ctx, o, spec, all.Subset(f[0]), all.Subset(f[1]))
		if err != nil {
			return nil, fmt.Errorf("train: fold %d: %w", i+1, err)
		}
		results = append(results, r.metrics)
	}
	sum, err := split.SummarizeFolds(results)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return sum, nil
}

// groupValues reads a column's values as text for fairness metrics.
func groupValues(t *table.Table, name string) ([]string, error) {
	c := t.Column(name)
	if c == nil {
		return nil, fmt.Errorf("train: no group column %q", name)
	}
	out := make([]string, t.Rows())
	for i := range out {
		if v, ok := c.Text(i); ok {
			out[i] = v
		} else if c.Numeric() && !c.IsNull(i) {
			out[i] = table.FormatNumber(c.Number(i))
		} else {
			out[i] = "(missing)"
		}
	}
	return out, nil
}

// model is what the three model kinds share.
type model = Model

func fit(ctx context.Context, o Options, task string, x *data.Matrix, y []float64) (model, float64, error) {
	ms := ModelSpec{Model: o.Model, Seed: o.Seed, Threads: o.Threads, Progress: o.Progress}
	p, err := ms.Params(task)
	if err != nil {
		return nil, 0, fmt.Errorf("train: %w", err)
	}
	// Apply the --set overrides to a copy of the typed parameters.
	pv := reflect.New(reflect.TypeOf(p))
	pv.Elem().Set(reflect.ValueOf(p))
	if err := setParams(pv.Interface(), o.Set); err != nil {
		return nil, 0, err
	}
	p = pv.Elem().Interface()
	useValid := true
	if g, ok := p.(gbdt.Params); ok {
		useValid = g.EarlyStoppingRounds > 0
	}
	if _, ok := p.(logistic.Params); ok {
		useValid = false
	}
	tx, ty, vx, vy, err := validation(x, y, o, useValid)
	if err != nil {
		return nil, 0, err
	}
	return trainParams(ctx, p, tx, ty, vx, vy, o.Progress)
}

// validation holds out ValidationFraction of the rows for early stopping
// when use is true.
func validation(x *data.Matrix, y []float64, o Options, use bool) (*data.Matrix, []float64, *data.Matrix, []float64, error) {
	if !use {
		return x, y, nil, nil, nil
	}
	tr, va, err := split.Stratified(y, o.ValidationFraction, o.Seed+1)
	if err != nil {
		// A regression label cannot be stratified: split at random.
		tr, va, err = split.Random(len(y), o.ValidationFraction, o.Seed+1)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("train: validation split: %w", err)
		}
	}
	return x.Subset(tr), pick(y, tr), x.Subset(va), pick(y, va), nil
}

func pick(y []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = y[i]
	}
	return out
}

// TaskMetrics computes the metrics of a task ("binary" or "regression")
// for labels y and predictions p, by name.
func TaskMetrics(task string, y, p []float64) (map[string]float64, error) {
	if task == features.Regression {
		r, err := metrics.Regression(y, p)
		if err != nil {
			return nil, err
		}
		return r.Map(), nil
	}
	r, err := metrics.Binary(y, p)
	if err != nil {
		return nil, err
	}
	return r.Map(), nil
}

// numericDefaults imputes and standardises every numeric feature column.
func numericDefaults(t *table.Table, label string) map[string][]features.Transform {
	out := map[string][]features.Transform{}
	for _, c := range t.Columns() {
		if c.Name == label || !c.Numeric() {
			continue
		}
		ts := []features.Transform{{Op: "standardize"}}
		if c.NullCount() > 0 {
			ts = append([]features.Transform{{Op: "impute", Strategy: "median"}}, ts...)
		}
		out[c.Name] = ts
	}
	return out
}

// rawLabels gives each row's label as a number suitable for stratifying:
// its value, or its text's code.
func rawLabels(t *table.Table, label string) ([]float64, error) {
	c := t.Column(label)
	if c == nil {
		return nil, fmt.Errorf("train: no label column %q (columns: %v)", label, t.Names())
	}
	out := make([]float64, t.Rows())
	codes := map[string]float64{}
	for i := range out {
		if c.IsNull(i) {
			return nil, fmt.Errorf("train: label %q is missing in row %d", label, i+1)
		}
		if c.Numeric() {
			out[i] = c.Number(i)
			continue
		}
		s, _ := c.Text(i)
		code, ok := codes[s]
		if !ok {
			code = float64(len(codes))
			codes[s] = code
		}
		out[i] = code
	}
	return out, nil
}

func top(imp map[string]float64, k int) []Importance {
	out := make([]Importance, 0, len(imp))
	for f, v := range imp {
		if !math.IsNaN(v) {
			out = append(out, Importance{f, v})
		}
	}
	slices.SortFunc(out, func(a, b Importance) int {
		if a.Value != b.Value {
			if a.Value > b.Value {
				return -1
			}
			return 1
		}
		if a.Feature < b.Feature {
			return -1
		}
		return 1
	})
	return out[:min(k, len(out))]
}

// save writes the model, its features and its metrics, each atomically.
func save(dir string, m model, fp *features.Pipeline, res *Result) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	mb, err := m.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("train: encode model: %w", err)
	}
	fb, err := json.MarshalIndent(fp, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("train: encode features: %w", err)
	}
	rb, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("train: encode metrics: %w", err)
	}
	files := map[string][]byte{"model.bin": mb, "features.json": append(fb, '\n'), "metrics.json": append(rb, '\n')}
	names := []string{"features.json", "metrics.json", "model.bin"}
	for _, n := range names {
		if err := output.WriteFile(filepath.Join(dir, n), files[n]); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	return names, nil
}
