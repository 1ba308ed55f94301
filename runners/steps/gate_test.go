package steps

import (
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/train/metrics"
)

func f(v float64) *float64 { return &v }

func TestGates(t *testing.T) {
	ev := &Evaluation{Task: "binary", Splits: map[string]*SplitEvaluation{
		"test": {Rows: 100, Metrics: map[string]float64{"roc_auc": 0.84, "log_loss": 0.30},
			Fairness: map[string]*metrics.FairnessReport{
				"g": {DemographicParityDifference: 0.2, DisparateImpact: 0.7, EqualOpportunityDefined: false},
			}},
		"validation": {Rows: 50, Metrics: map[string]float64{"roc_auc": 0.90}},
	}}
	champion := map[string]float64{"roc_auc": 0.88, "log_loss": 0.25}
	for _, tc := range []struct {
		name   string
		gate   spec.Gate
		passed bool
		msg    string
	}{
		{"min passes", spec.Gate{Metric: "roc_auc", Min: f(0.8)}, true, "roc_auc 0.84 ≥ min 0.8"},
		{"min fails with margin", spec.Gate{Metric: "roc_auc", Min: f(0.85)}, false, "roc_auc 0.84 < min 0.85 by 0.01"},
		{"max fails", spec.Gate{Metric: "log_loss", Max: f(0.2)}, false, "log_loss 0.3 > max 0.2 by 0.1"},
		{"validation split", spec.Gate{Metric: "roc_auc", Min: f(0.85), Split: "validation"}, true, "roc_auc 0.9"},
		{"regression within", spec.Gate{Metric: "roc_auc", MaxRegression: f(0.05)}, true, "within 0.05 of the champion's 0.88"},
		{"regression beyond", spec.Gate{Metric: "roc_auc", MaxRegression: f(0.02)}, false, "roc_auc 0.84 is 0.04 worse than the champion's 0.88 (allowed 0.02)"},
		{"lower is better", spec.Gate{Metric: "log_loss", MaxRegression: f(0.01)}, false, "is 0.05 worse than the champion's 0.25"},
		{"fairness", spec.Gate{Metric: "demographic_parity_difference", Group: "g", Max: f(0.1)}, false, "demographic_parity_difference 0.2 > max 0.1"},
		{"undefined equal opportunity", spec.Gate{Metric: "equal_opportunity_difference", Group: "g", Max: f(0.1)}, false, "undefined"},
		{"missing metric", spec.Gate{Metric: "rmse", Max: f(1)}, false, "not computed for a binary task"},
		{"missing split", spec.Gate{Metric: "roc_auc", Min: f(0.5), Split: "train"}, false, "no train rows were evaluated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.gate
			g.Name = "x"
			res := Gates([]*spec.Gate{&g}, ev, champion)
			if len(res) != 1 || res[0].Passed != tc.passed || !strings.Contains(res[0].Message, tc.msg) {
				t.Errorf("got %+v, want passed=%v and %q", res, tc.passed, tc.msg)
			}
		})
	}
	// No champion: the regression check has nothing to compare with.
	g := spec.Gate{Name: "x", Metric: "roc_auc", MaxRegression: f(0.01)}
	if res := Gates([]*spec.Gate{&g}, ev, nil); !res[0].Passed || !strings.Contains(res[0].Message, "no champion") {
		t.Errorf("no champion: %+v", res)
	}
}
