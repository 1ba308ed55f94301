package report

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/runners/train/metrics"
	"github.com/slipway-ml/slipway/runners/train/split"
)

// lcg is a 64-bit linear congruential generator (Knuth's MMIX constants)
// giving fixtures that are realistic and the same on every platform.
type lcg struct{ state uint64 }

func (g *lcg) u() float64 {
	g.state = g.state*6364136223846793005 + 1442695040888963407
	return float64(g.state>>11) * 0x1p-53
}

// scores returns n labels with about 27% positives and scores that rank
// them imperfectly, with group values "f" and "m".
func scores(seed uint64, n int) (y, p []float64, groups []string) {
	g := &lcg{seed}
	for range n {
		yi := 0.0
		if g.u() < 0.27 {
			yi = 1
		}
		// The conversions round each product, so no platform fuses them.
		s := float64(0.3*yi) + float64(0.7*g.u())
		grp := "f"
		if g.u() < 0.48 {
			grp = "m"
			s = min(s*1.08, 1)
		}
		y, p, groups = append(y, yi), append(p, s), append(groups, grp)
	}
	return y, p, groups
}

func ptr(v float64) *float64 { return &v }

var (
	started  = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	finished = started.Add(3*time.Minute + 7500*time.Millisecond)
)

// churnReport is a complete report of a binary churn model whose
// regression gate failed.
func churnReport(t testing.TB) *Report {
	t.Helper()
	y, p, groups := scores(11, 2000)
	bin, err := metrics.Binary(y, p)
	if err != nil {
		t.Fatal(err)
	}
	roc, err := metrics.ROCCurve(y, p)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := metrics.PRCurve(y, p)
	if err != nil {
		t.Fatal(err)
	}
	fair, err := metrics.Fairness(y, p, groups, bin.Threshold)
	if err != nil {
		t.Fatal(err)
	}
	var folds []map[string]float64
	for k := range 5 {
		yf, pf, _ := scores(uint64(100+k), 400)
		b, err := metrics.Binary(yf, pf)
		if err != nil {
			t.Fatal(err)
		}
		folds = append(folds, map[string]float64{"roc_auc": b.ROCAUC, "pr_auc": b.PRAUC, "log_loss": b.LogLoss})
	}
	cv, err := split.SummarizeFolds(folds)
	if err != nil {
		t.Fatal(err)
	}
	return &Report{
		APIVersion: APIVersion,
		RunID:      "20250314T092653Z-7f3a9c",
		Pipeline:   "churn",
		Status:     StatusGateFailed,
		StartedAt:  started,
		FinishedAt: finished,
		Lineage: Lineage{
			SpecDigest:     "sha256:4f1c2a9be0d37c55a8e1f0b6d2c4e8a7193b5d6f7081a2b3c4d5e6f708192a3b",
			GitCommit:      "9c1e7d2f5a3b8c4d6e0f1a2b3c4d5e6f7a8b9c0d",
			SlipwayVersion: "v0.4.0",
			Datasets: []DatasetLineage{
				{Name: "customers", Source: "https://data.example.com/churn/customers.csv", SHA256: "0b7e2f7c9d1a4e5f8a6b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f", Rows: 10000},
				{Name: "events", Source: "data/events.parquet", SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Rows: 254113},
			},
		},
		Steps: []Step{
			{ID: "churn/fetch-customers", Kind: "fetch", Status: StepCached, CacheKey: "sha256:1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d", Reason: "inputs and params unchanged", Seconds: 0.012, Attempts: 0, Log: "logs/fetch-customers.log"},
			{ID: "churn/fetch-events", Kind: "fetch", Status: StepRan, CacheKey: "sha256:2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e", Reason: "input raw/events changed", Seconds: 4.81, Attempts: 2, Log: "logs/fetch-events.log"},
			{ID: "churn/validate", Kind: "validate", Status: StepRan, CacheKey: "sha256:3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f", Reason: "input raw/events changed", Seconds: 1.27, Attempts: 1, Log: "logs/validate.log"},
			{ID: "churn/features", Kind: "features", Status: StepRan, CacheKey: "sha256:4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70", Reason: "input raw/events changed", Seconds: 12.4, Attempts: 1, Log: "logs/features.log"},
			{ID: "churn/train", Kind: "train", Status: StepRan, CacheKey: "sha256:5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081", Reason: "params changed", Seconds: 161.3, Attempts: 1, Log: "logs/train.log"},
			{ID: "churn/evaluate", Kind: "evaluate", Status: StepRan, CacheKey: "sha256:6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192", Reason: "input model changed", Seconds: 0.93, Attempts: 1, Log: "logs/evaluate.log"},
			{ID: "churn/package", Kind: "package", Status: StepSkipped, Reason: "a gate failed"},
		},
		DataChecks: []DataChecks{
			{
				Dataset: "customers", Rows: 10000, Passed: true,
				Checks: []Check{
					{Name: "customer_id unique", Column: "customer_id", Rule: "unique", Passed: true},
					{Name: "age in range", Column: "age", Rule: "in [18, 120]", Passed: true},
					{Name: "plan known", Column: "plan", Rule: `in ["basic", "plus", "pro"]`, Passed: true},
				},
				Profile: []ColumnProfile{
					{Name: "customer_id", Type: "string", Count: 10000, Distinct: 10000},
					{Name: "age", Type: "int", Count: 9987, Nulls: 13, Distinct: 83, Min: ptr(18), Max: ptr(101), Mean: ptr(44.61803)},
					{Name: "monthly_charges", Type: "float", Count: 10000, Distinct: 6211, Min: ptr(18.25), Max: ptr(118.75), Mean: ptr(64.76169)},
					{Name: "plan", Type: "string", Count: 10000, Distinct: 3},
					{Name: "churned", Type: "bool", Count: 10000, Distinct: 2},
				},
			},
			{
				Dataset: "events", Rows: 254113, Passed: true,
				Checks: []Check{
					{Name: "timestamps present", Column: "ts", Rule: "not null", Passed: true},
				},
				Profile: []ColumnProfile{
					{Name: "ts", Type: "timestamp", Count: 254113, Distinct: 250871},
					{Name: "customer_id", Type: "string", Count: 254113, Distinct: 9712},
				},
			},
		},
		Model: &Model{
			Kind: "gbdt", Task: "binary", Positive: "true",
			Rows: 8000, TestRows: 2000, Features: 14, TrainSeconds: 158.72,
			Params: map[string]any{
				"learning_rate": 0.05, "max_depth": 6, "n_estimators": 400,
				"subsample": 0.8, "objective": "binary:logistic", "early_stopping": true,
				"monotone": map[string]any{"tenure": -1},
			},
			Device: "cpu",
		},
		Metrics: bin.Map(),
		Curves: &Curves{
			ROC: metrics.Downsample(roc, 60),
			PR:  metrics.Downsample(pr, 60),
		},
		Confusion: &Confusion{Threshold: bin.Threshold, TP: bin.Confusion.TP, FP: bin.Confusion.FP, TN: bin.Confusion.TN, FN: bin.Confusion.FN},
		Importance: []Importance{
			{Feature: "tenure_months", Value: 412.7},
			{Feature: "contract_type=month-to-month", Value: 388.1},
			{Feature: "monthly_charges", Value: 201.4},
			{Feature: "support_tickets_90d", Value: 143.9},
			{Feature: "payment_method=electronic_check", Value: 97.2},
			{Feature: "internet_service=fiber", Value: 61.5},
			{Feature: "age", Value: 22.8},
			{Feature: "paperless_billing", Value: 0},
		},
		Fairness:        NewFairness("gender", fair),
		CrossValidation: cv,
		Gates: []Gate{
			{Name: "auc floor", Metric: "roc_auc", Value: bin.ROCAUC, Min: ptr(0.8), Champion: ptr(0.9034), Passed: true,
				Message: fmt.Sprintf("roc_auc %.4f >= min 0.80", bin.ROCAUC)},
			{Name: "no auc regression", Metric: "roc_auc", Value: bin.ROCAUC, MaxRegression: ptr(0.01), Champion: ptr(0.9034), Passed: false,
				Message: fmt.Sprintf("roc_auc %.4f is %.4f below champion 0.9034, more than max_regression 0.01", bin.ROCAUC, 0.9034-bin.ROCAUC)},
			{Name: "calibrated", Metric: "log_loss", Value: bin.LogLoss, Max: ptr(0.6), LowerIsBetter: true, Passed: true,
				Message: fmt.Sprintf("log_loss %.4f <= max 0.60", bin.LogLoss)},
		},
	}
}

// failedReport is a report of a run that failed at data validation.
func failedReport() *Report {
	return &Report{
		RunID:      "20250314T101500Z-0c41d2",
		Pipeline:   "churn",
		Status:     StatusFailed,
		Error:      "churn/validate: dataset customers failed 2 of 3 checks",
		StartedAt:  started,
		FinishedAt: started.Add(6 * time.Second),
		Lineage: Lineage{
			SpecDigest:     "sha256:4f1c2a9be0d37c55a8e1f0b6d2c4e8a7193b5d6f7081a2b3c4d5e6f708192a3b",
			GitCommit:      "9c1e7d2f5a3b8c4d6e0f1a2b3c4d5e6f7a8b9c0d",
			GitDirty:       true,
			SlipwayVersion: "v0.4.0",
			Datasets: []DatasetLineage{
				{Name: "customers", Source: "data/customers.csv", SHA256: "0b7e2f7c9d1a4e5f8a6b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f", Rows: 10000},
			},
		},
		Steps: []Step{
			{ID: "churn/fetch-customers", Kind: "fetch", Status: StepRan, CacheKey: "sha256:1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d", Reason: "never run", Seconds: 2.5, Attempts: 1, Log: "logs/fetch-customers.log"},
			{ID: "churn/validate", Kind: "validate", Status: StepFailed, CacheKey: "sha256:3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f", Reason: "never run", Seconds: 0.41, Attempts: 1, Log: "logs/validate.log"},
			{ID: "churn/features", Kind: "features", Status: StepNotRun, Reason: "churn/validate failed"},
			{ID: "churn/train", Kind: "train", Status: StepNotRun, Reason: "churn/validate failed"},
			{ID: "churn/evaluate", Kind: "evaluate", Status: StepNotRun, Reason: "churn/validate failed"},
		},
		DataChecks: []DataChecks{{
			Dataset: "customers", Rows: 10000, Passed: false,
			Checks: []Check{
				{Name: "customer_id unique", Column: "customer_id", Rule: "unique", Passed: true},
				{Name: "age in range", Column: "age", Rule: "in [18, 120]", Passed: false, Failures: 7, Examples: []Example{
					{Row: 17, Value: "-1"}, {Row: 402, Value: "230"}, {Row: 988, Value: "0"}, {Row: 1201, Value: "-1"},
					{Row: 5120, Value: "999"}, {Row: 7001, Value: "150"},
				}},
				{Name: "plan known", Column: "plan", Rule: `in ["basic", "plus", "pro"]`, Passed: false, Failures: 1, Examples: []Example{
					{Row: 3, Value: `"premium "`},
				}},
			},
			Profile: []ColumnProfile{
				{Name: "customer_id", Type: "string", Count: 10000, Distinct: 10000},
				{Name: "age", Type: "int", Count: 10000, Distinct: 91, Min: ptr(-1), Max: ptr(999), Mean: ptr(44.9)},
				{Name: "plan", Type: "string", Count: 9996, Nulls: 4, Distinct: 4},
			},
		}},
	}
}

// nanReport is the churn report with non-finite numbers wherever a
// number can be.
func nanReport(t testing.TB) *Report {
	r := churnReport(t)
	nan, inf := math.NaN(), math.Inf(1)
	r.Metrics["roc_auc"] = nan
	r.Metrics["log_loss"] = inf
	r.Gates[0].Value = nan
	r.Gates[1].Champion = ptr(nan)
	r.Gates[2].Max = ptr(math.Inf(-1))
	r.Curves.ROC = append(r.Curves.ROC, metrics.CurvePoint{X: nan, Y: 0.5, Threshold: nan})
	r.Curves.PR[3].Y = inf
	r.Confusion.Threshold = nan
	r.Importance[0].Value = nan
	r.Importance[1].Value = inf
	r.Importance[2].Value = -5
	r.Fairness.DisparateImpact = nan
	r.Fairness.Groups[0].TPR = nan
	r.CrossValidation["roc_auc"] = split.Summary{N: 5, Mean: nan, Std: inf, Min: nan, Max: nan}
	r.DataChecks[0].Profile[1].Mean = ptr(inf)
	r.Steps[0].Seconds = nan
	r.Model.TrainSeconds = inf
	r.Model.Params["alpha"] = nan
	r.Model.Params["grid"] = []any{1.0, inf, float32(math.NaN())}
	return r
}

// hostile is a string that breaks out of HTML text, attributes and
// scripts when not escaped.
const hostile = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>&amp;`

// hostileReport puts hostile strings, control characters and invalid
// UTF-8 in every string field the page shows.
func hostileReport(t testing.TB) *Report {
	r := churnReport(t)
	h := hostile + "\x01\x7f\xff\ufffe"
	r.RunID, r.Pipeline, r.Error = h, h, h
	r.Lineage.SpecDigest, r.Lineage.GitCommit, r.Lineage.SlipwayVersion = h, h, h
	r.Lineage.Datasets[0] = DatasetLineage{Name: h, Source: "javascript:alert(3)", SHA256: h}
	r.Steps[0].ID, r.Steps[0].Reason, r.Steps[0].CacheKey, r.Steps[0].Log = h, h, h, h
	r.Steps[1].Log = "https://evil.example/x.js"
	r.Steps[2].Log = "//evil.example/x.js"
	r.Steps[3].Log = "javascript:alert(4)"
	r.Steps[4].Log = "../../etc/passwd"
	r.Steps[5].Status = h
	r.DataChecks[0].Dataset = h
	r.DataChecks[0].Checks[1] = Check{Name: h, Column: h, Rule: h, Failures: 1, Examples: []Example{{Row: 1, Value: h}}}
	r.DataChecks[0].Profile[0].Name, r.DataChecks[0].Profile[0].Type = h, h
	r.Model.Kind, r.Model.Device, r.Model.Positive = h, h, h
	r.Model.Params[h] = h
	r.Metrics[h] = 0.5
	r.Importance[0].Feature = h
	r.Importance[1].Feature = "\x00" + h
	r.Fairness.Column = h
	r.Fairness.Groups[0].Value = h
	r.CrossValidation[h] = split.Summary{N: 1}
	r.Gates[0].Name, r.Gates[0].Metric, r.Gates[0].Message = h, h, h
	r.Status = h
	return r
}
