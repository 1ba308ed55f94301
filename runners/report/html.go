package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

//go:embed report.html.tmpl
var pageSource string

// page is the report's HTML template.
var page = template.Must(template.New("report").Parse(pageSource))

// HTML writes the report as one self-contained HTML page: inline CSS and
// inline SVG charts, no script and no remote asset. Every string of the
// report is escaped, and invalid UTF-8 in it is replaced by U+FFFD.
// Nothing is written to w when rendering fails.
func HTML(w io.Writer, r *Report) error {
	if r == nil {
		return fmt.Errorf("render report: no report")
	}
	if _, err := apiVersion(r); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, newView(r)); err != nil {
		return fmt.Errorf("render report of run %q: %w", r.RunID, err)
	}
	// Strings of the report may hold invalid UTF-8; the page must not.
	if _, err := w.Write(bytes.ToValidUTF8(buf.Bytes(), []byte("\uFFFD"))); err != nil {
		return fmt.Errorf("write report of run %q: %w", r.RunID, err)
	}
	return nil
}

// maxExamples is the number of failing rows shown per check.
const maxExamples = 5

// view is what the template shows: the report's values, formatted.
type view struct {
	R                 *Report
	StatusClass       string
	StatusText        string
	Started, Finished string
	Duration          string
	// GatesNote, ModelNote and DataNote are shown in place of an empty
	// section: why it is empty.
	GatesNote, ModelNote, DataNote string
	Gates                          []gateRow
	GatesFailed                    int
	HasModel                       bool
	Model                          *modelView
	Metrics                        []keyValue
	CV                             []cvRow
	Confusion                      *confusionView
	ROC, PR                        *curveChart
	Importance                     *barChart
	Fairness                       *fairnessView
	Data                           []dataView
	Steps                          []stepRow
	Lineage                        lineageView
}

type keyValue struct{ Key, Value string }

type gateRow struct {
	Passed                                        bool
	Name, Metric, Value, Bounds, Margin, Champion string
	MarginClass, Message                          string
}

type modelView struct {
	Kind, Task, Positive, Rows, TestRows, Features, TrainTime, Device string
	Params                                                            []keyValue
}

type cvRow struct{ Metric, Folds, Mean, Std, Min, Max string }

type confusionView struct {
	Threshold                                     string
	TP, FP, TN, FN                                string
	TPR, FNR, FPR, TNR                            string
	ActualPos, ActualNeg, PredPos, PredNeg, Total string
	Precision, Recall, Accuracy, F1               string
}

type fairnessView struct {
	Column, Threshold                       string
	Groups                                  []fairnessRow
	DemographicParity, EqualOpportunity, DI string
	EqualOpportunityNote                    string
	DIClass                                 string
}

type fairnessRow struct{ Value, Rows, Positives, PositiveRate, TPR string }

type dataView struct {
	Dataset, Rows string
	Passed        bool
	Failed        int
	Checks        []checkRow
	Profile       []profileRow
}

type checkRow struct {
	Passed                       bool
	Name, Column, Rule, Failures string
	Examples                     []exampleRow
	MoreExamples                 string
}

type exampleRow struct{ Row, Value string }

type profileRow struct{ Name, Type, Count, Nulls, NullShare, Distinct, Min, Max, Mean string }

type stepRow struct {
	ID, Kind, Status, StatusClass, Reason, Time, Attempts string
	CacheKey, CacheKeyShort, Log                          string
	// LogLink reports that Log is a relative path, safe to link to.
	LogLink bool
}

type lineageView struct {
	SpecDigest, GitCommit, SlipwayVersion string
	GitDirty                              bool
	Datasets                              []datasetRow
}

type datasetRow struct{ Name, Source, SHA256, Rows string }

// newView formats the report for the template.
func newView(r *Report) *view {
	v := &view{
		R:          r,
		StatusText: r.Status,
		Started:    timestamp(r.StartedAt),
		Finished:   timestamp(r.FinishedAt),
		Duration:   "—",
	}
	switch r.Status {
	case StatusSucceeded:
		v.StatusClass = "ok"
	case StatusFailed, StatusGateFailed:
		v.StatusClass = "bad"
	default:
		v.StatusClass = "neutral"
	}
	if r.Status == StatusGateFailed {
		v.StatusText = "gate failed"
	}
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() && !r.FinishedAt.Before(r.StartedAt) {
		v.Duration = seconds(r.FinishedAt.Sub(r.StartedAt).Seconds())
	}
	v.GatesNote = emptyNote(r, "evaluate", "The pipeline declares no gates.")
	v.ModelNote = emptyNote(r, "train", "This run trained no model.")
	v.DataNote = emptyNote(r, "validate", "The pipeline declares no data checks.")
	for _, g := range r.Gates {
		row := newGateRow(g)
		if !g.Passed {
			v.GatesFailed++
		}
		v.Gates = append(v.Gates, row)
	}
	v.HasModel = r.Model != nil || len(r.Metrics) > 0 || r.Curves != nil || r.Confusion != nil || len(r.Importance) > 0
	if m := r.Model; m != nil {
		v.Model = &modelView{
			Kind: m.Kind, Task: m.Task, Positive: m.Positive,
			Rows: count(m.Rows), TestRows: count(m.TestRows), Features: count(m.Features),
			TrainTime: seconds(m.TrainSeconds), Device: m.Device,
		}
		for _, k := range sortedKeys(m.Params) {
			v.Model.Params = append(v.Model.Params, keyValue{k, paramText(m.Params[k])})
		}
	}
	for _, k := range sortedKeys(r.Metrics) {
		v.Metrics = append(v.Metrics, keyValue{k, sig4(r.Metrics[k])})
	}
	for _, k := range sortedKeys(r.CrossValidation) {
		s := r.CrossValidation[k]
		v.CV = append(v.CV, cvRow{k, count(s.N), sig4(s.Mean), sig4(s.Std), sig4(s.Min), sig4(s.Max)})
	}
	if c := r.Confusion; c != nil {
		v.Confusion = newConfusionView(c)
	}
	if r.Curves != nil {
		v.ROC, v.PR = curveCharts(r)
	}
	if len(r.Importance) > 0 {
		v.Importance = newBarChart(r.Importance)
	}
	if f := r.Fairness; f != nil {
		v.Fairness = newFairnessView(f)
	}
	for _, d := range r.DataChecks {
		v.Data = append(v.Data, newDataView(d))
	}
	for _, s := range r.Steps {
		row := stepRow{
			ID: s.ID, Kind: s.Kind, Status: strings.ReplaceAll(s.Status, "_", " "), Reason: s.Reason,
			Time: seconds(s.Seconds), Attempts: count(s.Attempts),
			CacheKey: s.CacheKey, CacheKeyShort: shorten(s.CacheKey, 20), Log: s.Log,
			LogLink: relativePath(s.Log),
		}
		switch s.Status {
		case StepRan:
			row.StatusClass = "ok"
		case StepCached:
			row.StatusClass = "cached"
		case StepFailed:
			row.StatusClass = "bad"
		default:
			row.StatusClass = "neutral"
		}
		if s.Status == StepNotRun || s.Status == StepSkipped {
			row.Time, row.Attempts = "—", "—"
		}
		v.Steps = append(v.Steps, row)
	}
	l := r.Lineage
	v.Lineage = lineageView{SpecDigest: l.SpecDigest, GitCommit: l.GitCommit, GitDirty: l.GitDirty, SlipwayVersion: l.SlipwayVersion}
	for _, d := range l.Datasets {
		v.Lineage.Datasets = append(v.Lineage.Datasets, datasetRow{d.Name, d.Source, d.SHA256, count(d.Rows)})
	}
	return v
}

// notReached is the note of a section that a failed run never reached.
const notReached = "Not reached: the run failed before this point."

// emptyNote says why a section is empty: notReached when the run failed
// and no step of the kind that fills the section ran (or came from the
// cache), otherwise none.
func emptyNote(r *Report, kind, none string) string {
	if r.Status != StatusFailed {
		return none
	}
	for _, s := range r.Steps {
		if s.Kind == kind && (s.Status == StepRan || s.Status == StepCached) {
			return none
		}
	}
	return notReached
}

// relativePath reports whether p is a relative file path that a link in
// the page may point to: no scheme, no host, not absolute, no parent
// directory. Anything else is shown as text only, so the page never links
// outside the run directory.
func relativePath(p string) bool {
	if p == "" || strings.ContainsAny(p, ":\\") || strings.HasPrefix(p, "/") {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return false
		}
	}
	return true
}

// newGateRow formats a gate: its bounds, and its margin, the smallest
// slack to any bound (negative when the gate fails on it).
func newGateRow(g Gate) gateRow {
	row := gateRow{
		Passed: g.Passed, Name: g.Name, Metric: g.Metric, Value: sig4(g.Value),
		Champion: optional(g.Champion), Message: g.Message, Margin: "—",
	}
	var bounds []string
	margin := math.Inf(1)
	if g.Min != nil {
		bounds = append(bounds, "≥ "+sig4(*g.Min))
		margin = min(margin, g.Value-*g.Min)
	}
	if g.Max != nil {
		bounds = append(bounds, "≤ "+sig4(*g.Max))
		margin = min(margin, *g.Max-g.Value)
	}
	if g.MaxRegression != nil {
		bounds = append(bounds, "regression ≤ "+sig4(*g.MaxRegression)+" vs champion")
		if g.Champion != nil {
			regression := *g.Champion - g.Value
			if g.LowerIsBetter {
				regression = g.Value - *g.Champion
			}
			margin = min(margin, *g.MaxRegression-regression)
		}
	}
	if len(bounds) == 0 {
		bounds = append(bounds, "—")
	}
	row.Bounds = strings.Join(bounds, ", ")
	// min() propagates NaN, so a NaN value or bound shows as no margin.
	if finite(margin) {
		row.Margin = signed(margin)
		row.MarginClass = "ok"
		if margin < 0 {
			row.MarginClass = "bad"
		}
	}
	return row
}

// paramText formats a parameter value: strings as they are, numbers
// exactly, anything else as compact JSON (non-finite numbers as null).
func paramText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	b, err := json.Marshal(finiteAny(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func newConfusionView(c *Confusion) *confusionView {
	pos, neg := c.TP+c.FN, c.FP+c.TN
	n := pos + neg
	ratio := func(a, b int) string {
		if b == 0 {
			return "—"
		}
		return sig4(float64(a) / float64(b))
	}
	return &confusionView{
		Threshold: sig4(c.Threshold),
		TP:        count(c.TP), FP: count(c.FP), TN: count(c.TN), FN: count(c.FN),
		TPR: percent(c.TP, pos), FNR: percent(c.FN, pos), FPR: percent(c.FP, neg), TNR: percent(c.TN, neg),
		ActualPos: count(pos), ActualNeg: count(neg),
		PredPos: count(c.TP + c.FP), PredNeg: count(c.TN + c.FN), Total: count(n),
		Precision: ratio(c.TP, c.TP+c.FP), Recall: ratio(c.TP, pos),
		Accuracy: ratio(c.TP+c.TN, n), F1: ratio(2*c.TP, 2*c.TP+c.FP+c.FN),
	}
}

// curveCharts lays out the ROC and precision–recall charts, titled with
// their areas when the metrics hold them, with ROC's chance diagonal, the
// precision–recall baseline (the positive rate) and the operating point
// at the confusion threshold when the confusion matrix is known.
func curveCharts(r *Report) (roc, pr *curveChart) {
	c := r.Curves
	if len(c.ROC) > 0 {
		title := "ROC curve"
		if auc, ok := r.Metrics["roc_auc"]; ok {
			title += " (AUC " + sig4(auc) + ")"
		}
		roc = newCurveChart("roc", title, "False positive rate", "True positive rate", c.ROC)
		roc.setReference("chance", 0, 0, 1, 1)
	}
	if len(c.PR) > 0 {
		title := "Precision–recall curve"
		if ap, ok := r.Metrics["pr_auc"]; ok {
			title += " (AP " + sig4(ap) + ")"
		}
		pr = newCurveChart("pr", title, "Recall", "Precision", c.PR)
	}
	if m := r.Confusion; m != nil {
		pos, neg := m.TP+m.FN, m.FP+m.TN
		at := "threshold " + sig4(m.Threshold)
		if roc != nil && pos > 0 && neg > 0 {
			roc.setMarker(at, float64(m.FP)/float64(neg), float64(m.TP)/float64(pos))
		}
		if pr != nil && pos > 0 {
			base := float64(pos) / float64(pos+neg)
			pr.setReference("positive rate "+sig4(base), 0, base, 1, base)
			if m.TP+m.FP > 0 {
				pr.setMarker(at, float64(m.TP)/float64(pos), float64(m.TP)/float64(m.TP+m.FP))
			}
		}
	}
	return roc, pr
}

func newFairnessView(f *Fairness) *fairnessView {
	v := &fairnessView{
		Column: f.Column, Threshold: sig4(f.Threshold),
		DemographicParity: sig4(f.DemographicParityDifference),
		EqualOpportunity:  sig4(f.EqualOpportunityDifference),
		DI:                sig4(f.DisparateImpact),
		DIClass:           "ok",
	}
	if !f.EqualOpportunityDefined {
		v.EqualOpportunity = "—"
		v.EqualOpportunityNote = "undefined: a group has no positive label"
	}
	// The four-fifths rule.
	if !(f.DisparateImpact >= 0.8) {
		v.DIClass = "bad"
	}
	for _, g := range f.Groups {
		tpr := rate(g.TPR)
		if g.Positives == 0 {
			tpr = "—"
		}
		v.Groups = append(v.Groups, fairnessRow{g.Value, count(g.Rows), count(g.Positives), rate(g.PositiveRate), tpr})
	}
	return v
}

// newDataView formats one dataset's checks, failed checks first (each
// group in spec order), and its column profiles.
func newDataView(d DataChecks) dataView {
	v := dataView{Dataset: d.Dataset, Rows: count(d.Rows), Passed: d.Passed}
	checks := slices.Clone(d.Checks)
	slices.SortStableFunc(checks, func(a, b Check) int {
		switch {
		case a.Passed == b.Passed:
			return 0
		case !a.Passed:
			return -1
		}
		return 1
	})
	for _, c := range checks {
		row := checkRow{Passed: c.Passed, Name: c.Name, Column: c.Column, Rule: c.Rule, Failures: count(c.Failures)}
		if !c.Passed {
			v.Failed++
		}
		for i, e := range c.Examples {
			if i == maxExamples {
				break
			}
			row.Examples = append(row.Examples, exampleRow{count(e.Row), e.Value})
		}
		if more := c.Failures - len(row.Examples); len(row.Examples) > 0 && more > 0 {
			row.MoreExamples = "and " + count(more) + " more"
		}
		v.Checks = append(v.Checks, row)
	}
	for _, p := range d.Profile {
		v.Profile = append(v.Profile, profileRow{
			Name: p.Name, Type: p.Type, Count: count(p.Count), Nulls: count(p.Nulls),
			NullShare: percent(p.Nulls, p.Count+p.Nulls), Distinct: count(p.Distinct),
			Min: plain(p.Min), Max: plain(p.Max), Mean: plain(p.Mean),
		})
	}
	return v
}
