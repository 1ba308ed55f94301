package steps

import (
	"encoding/json"
	"math"
	"path/filepath"
	"slices"

	"github.com/slipway-ml/slipway/runners/report"
)

// Dirs are where a run's outputs are, for a report: the train and
// evaluate steps' outputs, and the run directory (gates.json and the data
// checks). Any may be "".
type Dirs struct {
	Model, Evaluation, Run string
}

// FillReport fills the model sections of a report — model, importance,
// cross-validation, metrics, curves, confusion matrix, fairness, gates and
// data checks — from a run's outputs. The run-level fields (id, status,
// steps, times) are the caller's.
func FillReport(r *report.Report, d Dirs) {
	if r.Gates == nil {
		r.Gates = []report.Gate{}
	}
	if d.Run != "" {
		names, _ := filepath.Glob(filepath.Join(d.Run, "checks-*.json"))
		slices.Sort(names)
		for _, name := range names {
			var dc report.DataChecks
			if readJSON(name, &dc) == nil {
				r.DataChecks = append(r.DataChecks, dc)
			}
		}
		var gates []GateResult
		if readJSON(filepath.Join(d.Run, "gates.json"), &gates) == nil {
			r.Gates = r.Gates[:0]
			for _, g := range gates {
				rg := report.Gate{Name: g.Name, Metric: g.Metric, Min: g.Min, Max: g.Max, MaxRegression: g.MaxRegression,
					Champion: g.Champion, LowerIsBetter: LowerIsBetter(g.Metric), Passed: g.Passed, Message: g.Message, Value: math.NaN()}
				if g.Value != nil {
					rg.Value = *g.Value
				}
				r.Gates = append(r.Gates, rg)
			}
		}
	}
	var info TrainInfo
	if d.Model != "" && readJSON(filepath.Join(d.Model, "train.json"), &info) == nil {
		params := map[string]any{}
		if b, err := json.Marshal(info.Params); err == nil {
			_ = json.Unmarshal(b, &params)
		}
		r.Model = &report.Model{Kind: info.Model, Task: info.Task, Positive: info.Positive, Rows: info.Rows,
			Features: info.Features, Params: params, Device: info.Device}
		r.Importance = nil
		for _, imp := range info.Importance[:min(len(info.Importance), 20)] {
			r.Importance = append(r.Importance, report.Importance{Feature: imp.Feature, Value: imp.Value})
		}
		r.CrossValidation = info.CrossValidation
	}
	var ev Evaluation
	if d.Evaluation != "" && readJSON(filepath.Join(d.Evaluation, "evaluation.json"), &ev) == nil {
		se := ev.Splits["test"]
		if se == nil {
			return
		}
		r.Metrics = se.Metrics
		if r.Model != nil {
			r.Model.TestRows = se.Rows
		}
		if len(se.ROC) > 0 || len(se.PR) > 0 {
			r.Curves = &report.Curves{ROC: se.ROC, PR: se.PR}
		}
		if c := se.Confusion; c != nil {
			r.Confusion = &report.Confusion{Threshold: ev.Threshold, TP: c.TP, FP: c.FP, TN: c.TN, FN: c.FN}
		}
		groups := make([]string, 0, len(se.Fairness))
		for g := range se.Fairness {
			groups = append(groups, g)
		}
		slices.Sort(groups)
		if len(groups) > 0 {
			r.Fairness = report.NewFairness(groups[0], *se.Fairness[groups[0]])
		}
	}
}
