package steps

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/local"
)

// GateResult is one gate's verdict.
type GateResult struct {
	// Name, Metric and Split are the gate's.
	Name   string `json:"name"`
	Metric string `json:"metric"`
	Split  string `json:"split"`
	// Group is the compared column of a fairness gate.
	Group string `json:"group,omitempty"`
	// Value is the model's value of the metric (absent when it could not
	// be computed).
	Value *float64 `json:"value,omitempty"`
	// Min, Max and MaxRegression are the gate's thresholds.
	Min           *float64 `json:"min,omitempty"`
	Max           *float64 `json:"max,omitempty"`
	MaxRegression *float64 `json:"max_regression,omitempty"`
	// Champion is the current champion's value, when one is known.
	Champion *float64 `json:"champion,omitempty"`
	// Passed is the verdict.
	Passed bool `json:"passed"`
	// Message explains it: what failed and by how much.
	Message string `json:"message"`
}

// GateError is the error of a run stopped by failing gates.
type GateError struct {
	// Failed are the gates that failed.
	Failed []GateResult
}

// Error names the gates that failed.
func (e *GateError) Error() string {
	msgs := make([]string, len(e.Failed))
	for i, g := range e.Failed {
		msgs[i] = fmt.Sprintf("gate %s: %s", g.Name, g.Message)
	}
	return fmt.Sprintf("%d gate(s) failed: %s", len(e.Failed), strings.Join(msgs, "; "))
}

// GateFailure marks the error as a failed gate (exit code 1, not a crash).
func (e *GateError) GateFailure() bool { return true }

// LowerIsBetter reports whether a smaller value of the metric is better.
func LowerIsBetter(metric string) bool { return lowerIsBetter[metric] }

// lowerIsBetter lists the metrics where a smaller value is better.
var lowerIsBetter = map[string]bool{
	"log_loss": true, "rmse": true, "mae": true,
	"demographic_parity_difference": true, "equal_opportunity_difference": true,
}

// Check evaluates the gates against the evaluation and the champion's
// metrics from slipway.lock. It runs on every run, cached or not, because
// the champion can change without the model changing. The verdicts go to
// the run directory's gates.json.
func (e *evaluateStep) Check(ctx context.Context, sc *local.StepContext) error {
	p, err := params[ir.EvaluateParams](sc.Step)
	if err != nil {
		return err
	}
	dir, err := outputDir(sc, "evaluation")
	if err != nil {
		return err
	}
	var ev Evaluation
	if err := readJSON(filepath.Join(dir, "evaluation.json"), &ev); err != nil {
		return err
	}
	var champion map[string]float64
	if p.ChampionEnvironment != "" {
		if c, ok := e.c.Lock.Champion(sc.Pipeline.Name, p.ChampionEnvironment); ok {
			champion = c.Metrics
			sc.Logf("champion in %s: %s", p.ChampionEnvironment, c.Digest)
		} else {
			sc.Logf("no champion in %s yet: regression gates compare with nothing", p.ChampionEnvironment)
		}
	}
	results := Gates(p.Gates, &ev, champion)
	if sc.RunDir != "" {
		if err := writeJSON(filepath.Join(sc.RunDir, "gates.json"), results); err != nil {
			return err
		}
	}
	var failed []GateResult
	for _, g := range results {
		verdict := "pass"
		if !g.Passed {
			verdict = "FAIL"
			failed = append(failed, g)
		}
		sc.Logf("gate %s: %s: %s", g.Name, verdict, g.Message)
	}
	if len(failed) > 0 {
		return &GateError{Failed: failed}
	}
	return nil
}

// Gates decides every gate. champion holds the champion's metrics by name
// (nil when there is none).
func Gates(gates []*spec.Gate, ev *Evaluation, champion map[string]float64) []GateResult {
	out := make([]GateResult, 0, len(gates))
	for _, g := range gates {
		split := g.Split
		if split == "" {
			split = "test"
		}
		r := GateResult{Name: g.Name, Metric: g.Metric, Split: split, Group: g.Group, Min: g.Min, Max: g.Max, MaxRegression: g.MaxRegression}
		v, err := metricValue(ev, split, g)
		if err != nil {
			r.Message = err.Error()
			out = append(out, r)
			continue
		}
		r.Value = &v
		var fails []string
		if g.Min != nil && !(v >= *g.Min) {
			fails = append(fails, fmt.Sprintf("%s %s < min %s by %s", g.Metric, num(v), num(*g.Min), num(*g.Min-v)))
		}
		if g.Max != nil && !(v <= *g.Max) {
			fails = append(fails, fmt.Sprintf("%s %s > max %s by %s", g.Metric, num(v), num(*g.Max), num(v-*g.Max)))
		}
		if g.MaxRegression != nil {
			if c, ok := champion[g.Metric]; ok {
				r.Champion = &c
				worse := c - v
				if lowerIsBetter[g.Metric] {
					worse = v - c
				}
				if worse > *g.MaxRegression+1e-12 {
					fails = append(fails, fmt.Sprintf("%s %s is %s worse than the champion's %s (allowed %s)", g.Metric, num(v), num(worse), num(c), num(*g.MaxRegression)))
				}
			}
		}
		if len(fails) > 0 {
			r.Message = strings.Join(fails, "; ")
		} else {
			r.Passed = true
			r.Message = passMessage(g, v, r.Champion)
		}
		out = append(out, r)
	}
	return out
}

func passMessage(g *spec.Gate, v float64, champion *float64) string {
	var parts []string
	if g.Min != nil {
		parts = append(parts, fmt.Sprintf("≥ min %s", num(*g.Min)))
	}
	if g.Max != nil {
		parts = append(parts, fmt.Sprintf("≤ max %s", num(*g.Max)))
	}
	if g.MaxRegression != nil {
		if champion != nil {
			parts = append(parts, fmt.Sprintf("within %s of the champion's %s", num(*g.MaxRegression), num(*champion)))
		} else {
			parts = append(parts, "no champion to compare with")
		}
	}
	s := fmt.Sprintf("%s %s", g.Metric, num(v))
	if len(parts) > 0 {
		s += " " + strings.Join(parts, ", ")
	}
	return s
}

// metricValue finds a gate's metric in the evaluation.
func metricValue(ev *Evaluation, split string, g *spec.Gate) (float64, error) {
	se := ev.Splits[split]
	if se == nil {
		return 0, fmt.Errorf("no %s rows were evaluated (the split has none)", split)
	}
	if g.Group != "" {
		f := se.Fairness[g.Group]
		if f == nil {
			return 0, fmt.Errorf("no fairness evaluation for group %q", g.Group)
		}
		switch g.Metric {
		case "demographic_parity_difference":
			return f.DemographicParityDifference, nil
		case "disparate_impact":
			return f.DisparateImpact, nil
		case "equal_opportunity_difference":
			if !f.EqualOpportunityDefined {
				return 0, fmt.Errorf("equal_opportunity_difference is undefined: a group of %q has no positive label in the %s rows", g.Group, split)
			}
			return f.EqualOpportunityDifference, nil
		}
	}
	v, ok := se.Metrics[g.Metric]
	if !ok {
		return 0, fmt.Errorf("metric %s is not computed for a %s task", g.Metric, ev.Task)
	}
	if math.IsNaN(v) {
		return 0, fmt.Errorf("metric %s is undefined on the %s rows", g.Metric, split)
	}
	return v, nil
}

// num formats a metric value with 4 significant digits.
func num(v float64) string {
	return fmt.Sprintf("%.4g", v)
}
