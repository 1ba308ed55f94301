package steps

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/slipway-ml/slipway/backends/output"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/runners/dataset"
	"github.com/slipway-ml/slipway/runners/local"
	"github.com/slipway-ml/slipway/runners/train"
	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/features"
	"github.com/slipway-ml/slipway/runners/train/gbdt"
	"github.com/slipway-ml/slipway/runners/train/gpu"
	"github.com/slipway-ml/slipway/runners/train/mlp"
	"github.com/slipway-ml/slipway/runners/train/split"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// TrainInfo describes a trained model, in the model output's train.json.
type TrainInfo struct {
	// Model is the model kind.
	Model string `json:"model"`
	// Task is binary or regression.
	Task string `json:"task"`
	// Positive is the positive class of a binary label.
	Positive string `json:"positive,omitempty"`
	// Device is where it trained.
	Device string `json:"device"`
	// Rows and ValidationRows are the rows trained on and watched for
	// early stopping.
	Rows           int `json:"rows"`
	ValidationRows int `json:"validation_rows"`
	// Features is the number of model inputs.
	Features int `json:"features"`
	// Params are the parameters trained with.
	Params any `json:"params"`
	// Importance is every input's importance, largest first.
	Importance []train.Importance `json:"importance"`
	// CrossValidation summarises each metric over the folds.
	CrossValidation map[string]split.Summary `json:"cross_validation,omitempty"`
}

type trainStep struct{ c Config }

// loaded is the features step's output, read back.
type loaded struct {
	table    *table.Table
	features *features.Pipeline
	split    Split
}

func loadFeatures(dir string) (*loaded, error) {
	l := &loaded{features: new(features.Pipeline)}
	if err := readJSON(filepath.Join(dir, "features.json"), l.features); err != nil {
		return nil, fmt.Errorf("read fitted features: %w", err)
	}
	if err := readJSON(filepath.Join(dir, "split.json"), &l.split); err != nil {
		return nil, fmt.Errorf("read split: %w", err)
	}
	t, err := dataset.ReadFile(filepath.Join(dir, "data.parquet"), "parquet", nil)
	if err != nil {
		return nil, fmt.Errorf("read features data: %w", err)
	}
	l.table = t
	for _, idx := range [][]int{l.split.Train, l.split.Validation, l.split.Test} {
		for _, i := range idx {
			if i < 0 || i >= t.Rows() {
				return nil, fmt.Errorf("split names row %d of a %d-row table", i, t.Rows())
			}
		}
	}
	return l, nil
}

// rows transforms the rows idx into a matrix and labels.
func (l *loaded) rows(idx []int) (*data.Matrix, []float64, error) {
	sub := l.table.Subset(idx)
	x, err := l.features.Transform(sub)
	if err != nil {
		return nil, nil, fmt.Errorf("transform: %w", err)
	}
	y, _, err := l.features.Label(sub)
	if err != nil {
		return nil, nil, err
	}
	return x, y, nil
}

func (s *trainStep) Execute(ctx context.Context, sc *local.StepContext) error {
	p, err := params[ir.TrainParams](sc.Step)
	if err != nil {
		return err
	}
	if p.Model == "custom" {
		return permanent(errors.New("a custom training container runs on the remote targets; the local runner trains logistic, gbdt and mlp models"))
	}
	in, err := input(sc, "features")
	if err != nil {
		return err
	}
	out, err := outputDir(sc, "model")
	if err != nil {
		return err
	}
	device, err := pickDevice(p.Device, sc.Logf)
	if err != nil {
		return permanent(err)
	}
	sc.Logf("device: %s", device)
	l, err := loadFeatures(in)
	if err != nil {
		return err
	}
	x, y, err := l.rows(l.split.Train)
	if err != nil {
		return permanent(fmt.Errorf("training rows: %w", err))
	}
	var vx *data.Matrix
	var vy []float64
	if len(l.split.Validation) > 0 {
		if vx, vy, err = l.rows(l.split.Validation); err != nil {
			return permanent(fmt.Errorf("validation rows: %w", err))
		}
	}
	ms := train.ModelSpec{Model: p.Model, Seed: uint64(p.Seed), ClassWeights: p.ClassWeights, Positive: l.features.Positive(),
		Logistic: p.Logistic, GBDT: p.GBDT, MLP: p.MLP, Threads: sc.Threads, Device: p.Device, Logf: sc.Logf}
	total, unit := iterations(p)
	ms.Progress = func(it int, trainLoss, validLoss float64) {
		sc.Progress(int64(it), total, unit)
		if it%10 == 0 || int64(it) == total {
			sc.Logf("%s %d: train loss %.6g, validation loss %.6g", unit, it, trainLoss, validLoss)
		}
	}
	task := l.features.Task()
	m, used, secs, err := train.FitModel(ctx, ms, task, x, y, vx, vy)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return permanent(err)
	}
	sc.Logf("trained %s on %d rows x %d inputs in %.2fs", p.Model, x.Rows(), len(x.Cols), secs)
	info := TrainInfo{Model: p.Model, Task: task, Device: device, Rows: x.Rows(), ValidationRows: len(vy),
		Features: len(x.Cols), Params: used, Importance: importance(m)}
	if task == features.Binary {
		info.Positive = l.features.Positive()
	}
	if cv := p.CrossValidation; cv != nil && cv.Folds >= 2 {
		if info.CrossValidation, err = crossValidate(ctx, ms, l, cv.Folds, cv.Stratified); err != nil {
			return permanent(err)
		}
		sc.Logf("cross-validation: %d folds", cv.Folds)
	}
	mb, err := m.MarshalBinary()
	if err != nil {
		return fmt.Errorf("encode model: %w", err)
	}
	if err := output.WriteFile(filepath.Join(out, "model.bin"), mb); err != nil {
		return err
	}
	return writeJSON(filepath.Join(out, "train.json"), info)
}

// pickDevice decides where training runs and names it ("gpu:NVIDIA H200"
// or "cpu"): "gpu" without a usable GPU fails saying why, "auto" then logs
// one line and trains on the CPU.
func pickDevice(want string, logf func(format string, a ...any)) (string, error) {
	c, err := gpu.Pick(want, logf)
	if err != nil {
		return "", err
	}
	return gpu.Name(c), nil
}

// iterations is the most iterations training can take, and their unit.
func iterations(p ir.TrainParams) (int64, string) {
	switch p.Model {
	case "gbdt":
		if p.GBDT != nil {
			return int64(p.GBDT.Trees), "trees"
		}
		return int64(gbdt.DefaultParams().Trees), "trees"
	case "mlp":
		if p.MLP != nil {
			return int64(p.MLP.Epochs), "epochs"
		}
		return int64(mlp.DefaultParams().Epochs), "epochs"
	}
	return 0, "iterations"
}

// crossValidate runs k-fold cross-validation over the training and
// validation rows, fitting the model afresh on each fold's training part.
// The feature transform is the one fitted on the training rows.
func crossValidate(ctx context.Context, ms train.ModelSpec, l *loaded, k int, stratified bool) (map[string]split.Summary, error) {
	rows := slices.Concat(l.split.Train, l.split.Validation)
	slices.Sort(rows)
	x, y, err := l.rows(rows)
	if err != nil {
		return nil, err
	}
	folds, err := split.KFold(y, k, stratified && l.features.Task() == features.Binary, ms.Seed)
	if err != nil {
		return nil, fmt.Errorf("cross-validation: %w", err)
	}
	ms.Progress = nil
	var results []map[string]float64
	for i, f := range folds {
		m, _, _, err := train.FitModel(ctx, ms, l.features.Task(), x.Subset(f[0]), pickF(y, f[0]), nil, nil)
		if err != nil {
			return nil, fmt.Errorf("cross-validation fold %d: %w", i+1, err)
		}
		pred, err := m.Predict(x.Subset(f[1]))
		if err != nil {
			return nil, fmt.Errorf("cross-validation fold %d: %w", i+1, err)
		}
		mm, err := train.TaskMetrics(l.features.Task(), pickF(y, f[1]), pred)
		if err != nil {
			return nil, fmt.Errorf("cross-validation fold %d: %w", i+1, err)
		}
		results = append(results, mm)
	}
	sum, err := split.SummarizeFolds(results)
	if err != nil {
		return nil, fmt.Errorf("cross-validation: %w", err)
	}
	return sum, nil
}

func pickF(y []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = y[i]
	}
	return out
}

// importance lists every input's importance, largest first.
func importance(m train.Model) []train.Importance {
	imp := m.Importance()
	out := make([]train.Importance, 0, len(imp))
	for f, v := range imp {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, train.Importance{Feature: f, Value: v})
		}
	}
	slices.SortFunc(out, func(a, b train.Importance) int {
		switch {
		case a.Value > b.Value:
			return -1
		case a.Value < b.Value:
			return 1
		case a.Feature < b.Feature:
			return -1
		case a.Feature > b.Feature:
			return 1
		}
		return 0
	})
	return out
}

// loadModel reads the model output.
func loadModel(dir string) (train.Model, *TrainInfo, error) {
	var info TrainInfo
	if err := readJSON(filepath.Join(dir, "train.json"), &info); err != nil {
		return nil, nil, fmt.Errorf("read model info: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.bin"))
	if err != nil {
		return nil, nil, fmt.Errorf("read model: %w", err)
	}
	m, err := train.LoadModel(info.Model, b)
	if err != nil {
		return nil, nil, err
	}
	return m, &info, nil
}
