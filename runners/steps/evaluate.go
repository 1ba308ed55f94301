package steps

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/runners/local"
	"github.com/slipway-ml/slipway/runners/train/features"
	"github.com/slipway-ml/slipway/runners/train/metrics"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// CurvePoints is how many points of each curve evaluation.json keeps.
const CurvePoints = 200

// Evaluation is the evaluate step's output, evaluation.json.
type Evaluation struct {
	// Task is binary or regression.
	Task string `json:"task"`
	// Label is the label column; Positive its positive class.
	Label    string `json:"label"`
	Positive string `json:"positive,omitempty"`
	// Threshold is the score at or above which a row is predicted
	// positive for the threshold metrics.
	Threshold float64 `json:"threshold"`
	// Splits holds the evaluation of the test and validation rows.
	Splits map[string]*SplitEvaluation `json:"splits"`
}

// SplitEvaluation is the evaluation of one split's rows.
type SplitEvaluation struct {
	// Rows evaluated.
	Rows int `json:"rows"`
	// Metrics by name (the gates' metric names).
	Metrics map[string]float64 `json:"metrics"`
	// Confusion is the confusion matrix at the threshold (binary only).
	Confusion *metrics.Confusion `json:"confusion,omitempty"`
	// ROC and PR are the curves, downsampled to CurvePoints points.
	ROC []metrics.CurvePoint `json:"roc,omitempty"`
	PR  []metrics.CurvePoint `json:"pr,omitempty"`
	// Fairness compares the groups of each column a gate names.
	Fairness map[string]*metrics.FairnessReport `json:"fairness,omitempty"`
}

type evaluateStep struct{ c Config }

func (e *evaluateStep) Execute(ctx context.Context, sc *local.StepContext) error {
	p, err := params[ir.EvaluateParams](sc.Step)
	if err != nil {
		return err
	}
	fin, err := input(sc, "features")
	if err != nil {
		return err
	}
	mdir, err := input(sc, "model")
	if err != nil {
		return err
	}
	out, err := outputDir(sc, "evaluation")
	if err != nil {
		return err
	}
	l, err := loadFeatures(fin)
	if err != nil {
		return err
	}
	m, _, err := loadModel(mdir)
	if err != nil {
		return err
	}
	ev := &Evaluation{Task: l.features.Task(), Label: p.Label, Threshold: metrics.DefaultThreshold,
		Splits: map[string]*SplitEvaluation{}}
	if ev.Task == features.Binary {
		ev.Positive = l.features.Positive()
	}
	groups := gateGroups(p)
	for _, sp := range []struct {
		name string
		rows []int
	}{{"test", l.split.Test}, {"validation", l.split.Validation}} {
		if len(sp.rows) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		x, y, err := l.rows(sp.rows)
		if err != nil {
			return permanent(fmt.Errorf("%s rows: %w", sp.name, err))
		}
		pred, err := m.Predict(x)
		if err != nil {
			return fmt.Errorf("predict %s rows: %w", sp.name, err)
		}
		se, err := evaluateSplit(ev.Task, y, pred, l.table.Subset(sp.rows), groups)
		if err != nil {
			return permanent(fmt.Errorf("evaluate %s rows: %w", sp.name, err))
		}
		ev.Splits[sp.name] = se
		sc.Logf("%s: %d rows, %s", sp.name, se.Rows, summary(se.Metrics))
	}
	return writeJSON(filepath.Join(out, "evaluation.json"), ev)
}

// gateGroups lists the group columns the gates compare, sorted.
func gateGroups(p ir.EvaluateParams) []string {
	var out []string
	for _, g := range p.Gates {
		if g.Group != "" && !slices.Contains(out, g.Group) {
			out = append(out, g.Group)
		}
	}
	slices.Sort(out)
	return out
}

func evaluateSplit(task string, y, pred []float64, t *table.Table, groups []string) (*SplitEvaluation, error) {
	se := &SplitEvaluation{Rows: len(y)}
	if task == features.Regression {
		r, err := metrics.Regression(y, pred)
		if err != nil {
			return nil, err
		}
		se.Metrics = r.Map()
		return se, nil
	}
	r, err := metrics.Binary(y, pred)
	if err != nil {
		return nil, err
	}
	se.Metrics = r.Map()
	c := r.Confusion
	se.Confusion = &c
	roc, err := metrics.ROCCurve(y, pred)
	if err != nil {
		return nil, err
	}
	pr, err := metrics.PRCurve(y, pred)
	if err != nil {
		return nil, err
	}
	se.ROC, se.PR = metrics.Downsample(roc, CurvePoints), metrics.Downsample(pr, CurvePoints)
	for _, g := range groups {
		vals, err := groupValues(t, g)
		if err != nil {
			return nil, err
		}
		f, err := metrics.Fairness(y, pred, vals, metrics.DefaultThreshold)
		if err != nil {
			return nil, fmt.Errorf("group %s: %w", g, err)
		}
		if se.Fairness == nil {
			se.Fairness = map[string]*metrics.FairnessReport{}
		}
		se.Fairness[g] = &f
	}
	return se, nil
}

// groupValues reads a column's values as text; a column dropped as PII
// cannot be a fairness group.
func groupValues(t *table.Table, name string) ([]string, error) {
	c := t.Column(name)
	if c == nil {
		return nil, fmt.Errorf("no group column %q in the features data (a PII column that was dropped cannot be compared)", name)
	}
	out := make([]string, t.Rows())
	for i := range out {
		switch v, ok := c.Text(i); {
		case ok:
			out[i] = v
		case c.Numeric() && !c.IsNull(i):
			out[i] = table.FormatNumber(c.Number(i))
		default:
			out[i] = "(missing)"
		}
	}
	return out, nil
}

func summary(m map[string]float64) string {
	s := ""
	for _, k := range []string{"roc_auc", "pr_auc", "log_loss", "accuracy", "rmse", "mae", "r2"} {
		if v, ok := m[k]; ok {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%s %.4f", k, v)
		}
	}
	return s
}
