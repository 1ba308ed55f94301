// Package report holds the run report of `slipway run`, the local runner of
// an ML pipeline (fetch → validate data → features → train → evaluate →
// gates), and writes it as report.json, for machines, and report.html, one
// self-contained page for people.
//
// The runner fills a Report as the run goes; sections a run never reached
// (a run that failed at data validation has no model) stay nil and are
// left out of the JSON and shown as not reached in the page. Both files
// are deterministic: the same Report always gives the same bytes.
//
// The JSON schema is versioned by APIVersion. Its names are snake_case and
// stable; non-finite numbers (NaN, ±Inf), which JSON cannot hold, are
// written as null.
package report

import (
	"time"

	"github.com/slipway-ml/slipway/runners/train/metrics"
	"github.com/slipway-ml/slipway/runners/train/split"
)

// APIVersion is the version of the report's JSON schema.
const APIVersion = "slipway.dev/report/v1"

// Run statuses (Report.Status).
const (
	// StatusSucceeded: every step ran or was cached and every gate passed.
	StatusSucceeded = "succeeded"
	// StatusFailed: a step failed; Report.Error says why.
	StatusFailed = "failed"
	// StatusGateFailed: every step ran but at least one gate failed.
	StatusGateFailed = "gate_failed"
)

// Step statuses (Step.Status).
const (
	// StepRan: the step ran and succeeded.
	StepRan = "ran"
	// StepCached: the step's outputs were taken from the cache.
	StepCached = "cached"
	// StepFailed: the step ran and failed (after all its attempts).
	StepFailed = "failed"
	// StepSkipped: the step was not needed (for example disabled).
	StepSkipped = "skipped"
	// StepNotRun: the step was not reached because an earlier one failed.
	StepNotRun = "not_run"
)

// Report is the record of one pipeline run.
type Report struct {
	// APIVersion is the schema version; Write and Marshal fill in
	// APIVersion when it is empty and refuse another value.
	APIVersion string `json:"api_version"`
	// RunID identifies the run.
	RunID string `json:"run_id"`
	// Pipeline is the pipeline's name.
	Pipeline string `json:"pipeline"`
	// Status is StatusSucceeded, StatusFailed or StatusGateFailed.
	Status string `json:"status"`
	// Error is why the run failed, empty unless Status is StatusFailed.
	Error string `json:"error,omitempty"`
	// StartedAt is when the run started.
	StartedAt time.Time `json:"started_at"`
	// FinishedAt is when the run ended.
	FinishedAt time.Time `json:"finished_at"`
	// Lineage records what the run was made of.
	Lineage Lineage `json:"lineage"`
	// Steps are the pipeline's steps in execution order.
	Steps []Step `json:"steps"`
	// DataChecks are the data validation results, one per dataset.
	DataChecks []DataChecks `json:"data_checks,omitempty"`
	// Model describes the trained model; nil when training was not reached.
	Model *Model `json:"model,omitempty"`
	// Metrics are the evaluation metrics on the test rows by name (roc_auc,
	// pr_auc, log_loss, accuracy, precision, recall, f1, rmse, mae, r2).
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Curves are the ROC and precision–recall curves of a binary model.
	Curves *Curves `json:"curves,omitempty"`
	// Confusion is the confusion matrix of a binary model at its threshold.
	Confusion *Confusion `json:"confusion,omitempty"`
	// Importance is the feature importance of the model.
	Importance []Importance `json:"importance,omitempty"`
	// Fairness holds the group fairness metrics, when the spec asks for them.
	Fairness *Fairness `json:"fairness,omitempty"`
	// CrossValidation summarises each metric over the cross-validation
	// folds, when the spec asks for cross-validation.
	CrossValidation map[string]split.Summary `json:"cross_validation,omitempty"`
	// Gates are the evaluation gates in spec order.
	Gates []Gate `json:"gates"`
}

// Lineage records the inputs a run was made of, so that it can be traced
// and reproduced.
type Lineage struct {
	// SpecDigest is the digest of the compiled pipeline spec.
	SpecDigest string `json:"spec_digest"`
	// GitCommit is the commit of the repository holding the spec.
	GitCommit string `json:"git_commit"`
	// GitDirty reports uncommitted changes in that repository.
	GitDirty bool `json:"git_dirty"`
	// SlipwayVersion is the version of the slipway binary that ran.
	SlipwayVersion string `json:"slipway_version"`
	// Datasets are the datasets read, in spec order.
	Datasets []DatasetLineage `json:"datasets"`
}

// DatasetLineage identifies one dataset a run read.
type DatasetLineage struct {
	// Name is the dataset's name in the spec.
	Name string `json:"name"`
	// Source is where it was fetched from (a URL or a path).
	Source string `json:"source"`
	// SHA256 is the hex SHA-256 digest of the fetched bytes.
	SHA256 string `json:"sha256"`
	// Rows is its number of rows.
	Rows int `json:"rows"`
}

// Step is the outcome of one step of the pipeline.
type Step struct {
	// ID is the step's stable id, such as "churn/train".
	ID string `json:"id"`
	// Kind is the step's kind: fetch, validate, features, train, evaluate…
	Kind string `json:"kind"`
	// Status is StepRan, StepCached, StepFailed, StepSkipped or StepNotRun.
	Status string `json:"status"`
	// CacheKey is the step's cache key.
	CacheKey string `json:"cache_key"`
	// Reason says why the step ran ("input raw/customers changed", "never
	// run", "params changed") or why it was cached or skipped.
	Reason string `json:"reason"`
	// Seconds is the step's wall time.
	Seconds float64 `json:"seconds"`
	// Attempts is how many times the step was tried (0 when not run).
	Attempts int `json:"attempts"`
	// Log is the step's log file, relative to the run directory.
	Log string `json:"log"`
}

// DataChecks holds the validation results and column profiles of one
// dataset.
type DataChecks struct {
	// Dataset is the dataset's name.
	Dataset string `json:"dataset"`
	// Rows is the number of rows checked.
	Rows int `json:"rows"`
	// Passed reports whether every check passed.
	Passed bool `json:"passed"`
	// Checks are the checks in spec order.
	Checks []Check `json:"checks"`
	// Profile describes each column.
	Profile []ColumnProfile `json:"profile,omitempty"`
}

// Check is the result of one data check.
type Check struct {
	// Name is the check's name.
	Name string `json:"name"`
	// Column is the column checked; empty for a check of the whole table.
	Column string `json:"column"`
	// Rule is the rule in words, such as "not null" or "in [0, 120]".
	Rule string `json:"rule"`
	// Passed reports whether every row passed.
	Passed bool `json:"passed"`
	// Failures is the number of rows that failed.
	Failures int `json:"failures"`
	// Examples are a few of the failing rows.
	Examples []Example `json:"examples,omitempty"`
}

// Example is one row that failed a check.
type Example struct {
	// Row is the row's 0-based index in the dataset.
	Row int `json:"row"`
	// Value is the offending value as text.
	Value string `json:"value"`
}

// ColumnProfile summarises one column of a dataset.
type ColumnProfile struct {
	// Name is the column's name.
	Name string `json:"name"`
	// Type is the column's type (int, float, string, bool, timestamp).
	Type string `json:"type"`
	// Count is the number of non-null values.
	Count int `json:"count"`
	// Nulls is the number of null values.
	Nulls int `json:"nulls"`
	// Distinct is the number of distinct non-null values.
	Distinct int `json:"distinct"`
	// Min is the smallest value of a numeric column.
	Min *float64 `json:"min,omitempty"`
	// Max is the largest value of a numeric column.
	Max *float64 `json:"max,omitempty"`
	// Mean is the mean of a numeric column.
	Mean *float64 `json:"mean,omitempty"`
}

// Model describes the trained model.
type Model struct {
	// Kind is the model family: gbdt, logistic, mlp.
	Kind string `json:"kind"`
	// Task is binary, multiclass or regression.
	Task string `json:"task"`
	// Positive is the label value of the positive class of a binary task.
	Positive string `json:"positive,omitempty"`
	// Rows is the number of training rows.
	Rows int `json:"rows"`
	// TestRows is the number of held-out test rows.
	TestRows int `json:"test_rows"`
	// Features is the number of input features.
	Features int `json:"features"`
	// TrainSeconds is the training wall time.
	TrainSeconds float64 `json:"train_seconds"`
	// Params are the resolved training parameters.
	Params map[string]any `json:"params,omitempty"`
	// Device is where the model was trained: "cpu" or a GPU's name.
	Device string `json:"device"`
}

// Curves are the evaluation curves of a binary model, already downsampled
// for plotting (metrics.Downsample).
type Curves struct {
	// ROC is the ROC curve: X the false positive rate, Y the true positive
	// rate (metrics.ROCCurve).
	ROC []metrics.CurvePoint `json:"roc"`
	// PR is the precision–recall curve: X the recall, Y the precision
	// (metrics.PRCurve).
	PR []metrics.CurvePoint `json:"pr"`
}

// Confusion is the confusion matrix of a binary model at a threshold.
type Confusion struct {
	// Threshold is the score at or above which a row is predicted positive.
	Threshold float64 `json:"threshold"`
	// TP counts true positives.
	TP int `json:"tp"`
	// FP counts false positives.
	FP int `json:"fp"`
	// TN counts true negatives.
	TN int `json:"tn"`
	// FN counts false negatives.
	FN int `json:"fn"`
}

// Importance is the importance of one feature.
type Importance struct {
	// Feature is the feature's name.
	Feature string `json:"feature"`
	// Value is its importance (total gain for tree models).
	Value float64 `json:"value"`
}

// Fairness holds the group fairness metrics of a binary model.
type Fairness struct {
	// Column is the group column (a sensitive attribute).
	Column string `json:"column"`
	// Threshold is the score at or above which a row is selected.
	Threshold float64 `json:"threshold"`
	// Groups are the groups' counts and rates, sorted by group value.
	Groups []FairnessGroup `json:"groups"`
	// DemographicParityDifference is max − min selection rate.
	DemographicParityDifference float64 `json:"demographic_parity_difference"`
	// EqualOpportunityDifference is max − min true positive rate; it is
	// meaningless unless EqualOpportunityDefined.
	EqualOpportunityDifference float64 `json:"equal_opportunity_difference"`
	// EqualOpportunityDefined reports whether every group has a positive
	// label, so that EqualOpportunityDifference is meaningful.
	EqualOpportunityDefined bool `json:"equal_opportunity_defined"`
	// DisparateImpact is min / max selection rate.
	DisparateImpact float64 `json:"disparate_impact"`
}

// FairnessGroup is one group of the group column.
type FairnessGroup struct {
	// Value is the group column's value.
	Value string `json:"value"`
	// Rows is the group's number of rows.
	Rows int `json:"rows"`
	// Positives is the group's number of rows labelled positive.
	Positives int `json:"positives"`
	// PositiveRate is the share of the group's rows predicted positive
	// (the selection rate).
	PositiveRate float64 `json:"positive_rate"`
	// TPR is the group's true positive rate; meaningless when Positives
	// is 0.
	TPR float64 `json:"tpr"`
}

// NewFairness returns the fairness section for group column column from
// the training core's fairness metrics.
func NewFairness(column string, f metrics.FairnessReport) *Fairness {
	out := &Fairness{
		Column:                      column,
		Threshold:                   f.Threshold,
		Groups:                      make([]FairnessGroup, len(f.Groups)),
		DemographicParityDifference: f.DemographicParityDifference,
		EqualOpportunityDifference:  f.EqualOpportunityDifference,
		EqualOpportunityDefined:     f.EqualOpportunityDefined,
		DisparateImpact:             f.DisparateImpact,
	}
	for i, g := range f.Groups {
		out.Groups[i] = FairnessGroup{
			Value:        g.Group,
			Rows:         g.Confusion.N(),
			Positives:    g.Confusion.TP + g.Confusion.FN,
			PositiveRate: g.SelectionRate,
			TPR:          g.TPR,
		}
	}
	return out
}

// Gate is the outcome of one evaluation gate: a metric held to bounds and,
// optionally, to the champion model's value.
type Gate struct {
	// Name is the gate's name.
	Name string `json:"name"`
	// Metric is the metric the gate reads.
	Metric string `json:"metric"`
	// Value is the metric's value (NaN when it could not be computed).
	Value float64 `json:"value"`
	// Min is the lowest passing value, if any.
	Min *float64 `json:"min,omitempty"`
	// Max is the highest passing value, if any.
	Max *float64 `json:"max,omitempty"`
	// MaxRegression is how much worse than the champion the value may be,
	// if bounded.
	MaxRegression *float64 `json:"max_regression,omitempty"`
	// Champion is the champion model's value of the metric, if there is a
	// champion.
	Champion *float64 `json:"champion,omitempty"`
	// LowerIsBetter reports that smaller values of the metric are better
	// (log_loss, rmse, mae), which sets the direction of a regression.
	LowerIsBetter bool `json:"lower_is_better"`
	// Passed reports whether the gate passed.
	Passed bool `json:"passed"`
	// Message explains the outcome: "roc_auc 0.81 < min 0.85 by 0.04".
	Message string `json:"message"`
}
