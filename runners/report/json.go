package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/slipway-ml/slipway/runners/train/metrics"
	"github.com/slipway-ml/slipway/runners/train/split"
)

// Marshal returns the report as indented JSON ending in a newline, the
// content of report.json. An empty APIVersion is written as APIVersion;
// another value is an error. Nil Steps and Gates are written as empty
// lists, non-finite numbers as null.
func Marshal(r *Report) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("encode report: no report")
	}
	v, err := apiVersion(r)
	if err != nil {
		return nil, err
	}
	out := reportJSON{
		APIVersion:      v,
		RunID:           r.RunID,
		Pipeline:        r.Pipeline,
		Status:          r.Status,
		Error:           r.Error,
		StartedAt:       r.StartedAt,
		FinishedAt:      r.FinishedAt,
		Lineage:         r.Lineage,
		Steps:           nonNil(r.Steps),
		DataChecks:      r.DataChecks,
		Model:           r.Model,
		Curves:          r.Curves,
		Confusion:       r.Confusion,
		Importance:      r.Importance,
		Fairness:        r.Fairness,
		CrossValidation: summaries(r.CrossValidation),
		Gates:           nonNil(r.Gates),
	}
	if r.Metrics != nil {
		out.Metrics = make(map[string]num, len(r.Metrics))
		for k, v := range r.Metrics {
			out.Metrics[k] = num(v)
		}
	}
	if out.Lineage.Datasets == nil {
		out.Lineage.Datasets = []DatasetLineage{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encode report of run %q: %w", r.RunID, err)
	}
	return buf.Bytes(), nil
}

// marshal is json.Marshal without escaping <, > and &, which report.json
// never needs (it is not embedded in HTML) and people read better plain.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// apiVersion returns the report's schema version, APIVersion when empty.
func apiVersion(r *Report) (string, error) {
	switch r.APIVersion {
	case "", APIVersion:
		return APIVersion, nil
	}
	return "", fmt.Errorf("report of run %q has api_version %q, want %q", r.RunID, r.APIVersion, APIVersion)
}

// nonNil returns s, or an empty slice when s is nil, so that JSON shows [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// num is a float64 that encodes NaN and ±Inf, which JSON cannot hold, as
// null.
type num float64

// MarshalJSON encodes n as a JSON number, or null when it is not finite.
func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return marshal(f)
}

// reportJSON is the JSON form of Report.
type reportJSON struct {
	APIVersion      string                 `json:"api_version"`
	RunID           string                 `json:"run_id"`
	Pipeline        string                 `json:"pipeline"`
	Status          string                 `json:"status"`
	Error           string                 `json:"error,omitempty"`
	StartedAt       time.Time              `json:"started_at"`
	FinishedAt      time.Time              `json:"finished_at"`
	Lineage         Lineage                `json:"lineage"`
	Steps           []Step                 `json:"steps"`
	DataChecks      []DataChecks           `json:"data_checks,omitempty"`
	Model           *Model                 `json:"model,omitempty"`
	Metrics         map[string]num         `json:"metrics,omitempty"`
	Curves          *Curves                `json:"curves,omitempty"`
	Confusion       *Confusion             `json:"confusion,omitempty"`
	Importance      []Importance           `json:"importance,omitempty"`
	Fairness        *Fairness              `json:"fairness,omitempty"`
	CrossValidation map[string]summaryJSON `json:"cross_validation,omitempty"`
	Gates           []Gate                 `json:"gates"`
}

// summaryJSON is the JSON form of split.Summary.
type summaryJSON struct {
	N    int `json:"n"`
	Mean num `json:"mean"`
	Std  num `json:"std"`
	Min  num `json:"min"`
	Max  num `json:"max"`
}

func summaries(m map[string]split.Summary) map[string]summaryJSON {
	if m == nil {
		return nil
	}
	out := make(map[string]summaryJSON, len(m))
	for k, s := range m {
		out[k] = summaryJSON{N: s.N, Mean: num(s.Mean), Std: num(s.Std), Min: num(s.Min), Max: num(s.Max)}
	}
	return out
}

// MarshalJSON encodes the step with a non-finite Seconds as null.
func (s Step) MarshalJSON() ([]byte, error) {
	return marshal(struct {
		ID       string `json:"id"`
		Kind     string `json:"kind"`
		Status   string `json:"status"`
		CacheKey string `json:"cache_key"`
		Reason   string `json:"reason"`
		Seconds  num    `json:"seconds"`
		Attempts int    `json:"attempts"`
		Log      string `json:"log"`
	}{s.ID, s.Kind, s.Status, s.CacheKey, s.Reason, num(s.Seconds), s.Attempts, s.Log})
}

// MarshalJSON encodes the profile with non-finite numbers as null and nil
// lists as [].
func (p ColumnProfile) MarshalJSON() ([]byte, error) {
	return marshal(struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Count    int    `json:"count"`
		Nulls    int    `json:"nulls"`
		Distinct int    `json:"distinct"`
		Min      *num   `json:"min,omitempty"`
		Max      *num   `json:"max,omitempty"`
		Mean     *num   `json:"mean,omitempty"`
	}{p.Name, p.Type, p.Count, p.Nulls, p.Distinct, (*num)(p.Min), (*num)(p.Max), (*num)(p.Mean)})
}

// MarshalJSON encodes the data checks with a nil Checks as [].
func (d DataChecks) MarshalJSON() ([]byte, error) {
	return marshal(struct {
		Dataset string          `json:"dataset"`
		Rows    int             `json:"rows"`
		Passed  bool            `json:"passed"`
		Checks  []Check         `json:"checks"`
		Profile []ColumnProfile `json:"profile,omitempty"`
	}{d.Dataset, d.Rows, d.Passed, nonNil(d.Checks), d.Profile})
}

// MarshalJSON encodes the model with non-finite numbers, in TrainSeconds
// or in Params (in maps and lists of any), as null.
func (m Model) MarshalJSON() ([]byte, error) {
	params, _ := finiteAny(m.Params).(map[string]any)
	return marshal(struct {
		Kind         string         `json:"kind"`
		Task         string         `json:"task"`
		Positive     string         `json:"positive,omitempty"`
		Rows         int            `json:"rows"`
		TestRows     int            `json:"test_rows"`
		Features     int            `json:"features"`
		TrainSeconds num            `json:"train_seconds"`
		Params       map[string]any `json:"params,omitempty"`
		Device       string         `json:"device"`
	}{m.Kind, m.Task, m.Positive, m.Rows, m.TestRows, m.Features, num(m.TrainSeconds), params, m.Device})
}

// finiteAny returns v with every non-finite float64 or float32 inside
// maps of string to any and lists of any replaced by nil.
func finiteAny(v any) any {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
	case float32:
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
	case map[string]any:
		if v == nil {
			return v
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = finiteAny(e)
		}
		return out
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = finiteAny(e)
		}
		return out
	}
	return v
}

// pointJSON is the JSON form of metrics.CurvePoint.
type pointJSON struct {
	X         num `json:"x"`
	Y         num `json:"y"`
	Threshold num `json:"threshold"`
}

func points(c []metrics.CurvePoint) []pointJSON {
	out := make([]pointJSON, len(c))
	for i, p := range c {
		out[i] = pointJSON{num(p.X), num(p.Y), num(p.Threshold)}
	}
	return out
}

// MarshalJSON encodes the curves with non-finite numbers as null and nil
// curves as [].
func (c Curves) MarshalJSON() ([]byte, error) {
	return marshal(struct {
		ROC []pointJSON `json:"roc"`
		PR  []pointJSON `json:"pr"`
	}{points(c.ROC), points(c.PR)})
}

// MarshalJSON encodes the confusion matrix with a non-finite Threshold as
// null.
func (c Confusion) MarshalJSON() ([]byte, error) {
	return marshal(struct {
		Threshold num `json:"threshold"`
		TP        int `json:"tp"`
		FP        int `json:"fp"`
		TN        int `json:"tn"`
		FN        int `json:"fn"`
	}{num(c.Threshold), c.TP, c.FP, c.TN, c.FN})
}

// MarshalJSON encodes the importance with a non-finite Value as null.
func (i Importance) MarshalJSON() ([]byte, error) {
	return marshal(struct {
		Feature string `json:"feature"`
		Value   num    `json:"value"`
	}{i.Feature, num(i.Value)})
}

// MarshalJSON encodes the fairness section with non-finite numbers as null
// and nil Groups as [].
func (f Fairness) MarshalJSON() ([]byte, error) {
	type group struct {
		Value        string `json:"value"`
		Rows         int    `json:"rows"`
		Positives    int    `json:"positives"`
		PositiveRate num    `json:"positive_rate"`
		TPR          num    `json:"tpr"`
	}
	groups := make([]group, len(f.Groups))
	for i, g := range f.Groups {
		groups[i] = group{g.Value, g.Rows, g.Positives, num(g.PositiveRate), num(g.TPR)}
	}
	return marshal(struct {
		Column                      string  `json:"column"`
		Threshold                   num     `json:"threshold"`
		Groups                      []group `json:"groups"`
		DemographicParityDifference num     `json:"demographic_parity_difference"`
		EqualOpportunityDifference  num     `json:"equal_opportunity_difference"`
		EqualOpportunityDefined     bool    `json:"equal_opportunity_defined"`
		DisparateImpact             num     `json:"disparate_impact"`
	}{f.Column, num(f.Threshold), groups, num(f.DemographicParityDifference),
		num(f.EqualOpportunityDifference), f.EqualOpportunityDefined, num(f.DisparateImpact)})
}

// MarshalJSON encodes the gate with non-finite numbers as null.
func (g Gate) MarshalJSON() ([]byte, error) {
	return marshal(struct {
		Name          string `json:"name"`
		Metric        string `json:"metric"`
		Value         num    `json:"value"`
		Min           *num   `json:"min,omitempty"`
		Max           *num   `json:"max,omitempty"`
		MaxRegression *num   `json:"max_regression,omitempty"`
		Champion      *num   `json:"champion,omitempty"`
		LowerIsBetter bool   `json:"lower_is_better"`
		Passed        bool   `json:"passed"`
		Message       string `json:"message"`
	}{g.Name, g.Metric, num(g.Value), (*num)(g.Min), (*num)(g.Max), (*num)(g.MaxRegression),
		(*num)(g.Champion), g.LowerIsBetter, g.Passed, g.Message})
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
