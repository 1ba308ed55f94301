package metrics

import (
	"fmt"
)

// DefaultThreshold is the score threshold Binary uses for the threshold
// metrics.
const DefaultThreshold = 0.5

// BinaryReport holds every binary classification metric of one evaluation.
// The JSON names are the metric names the runner prints.
type BinaryReport struct {
	// Rows is the number of rows evaluated.
	Rows int `json:"rows"`
	// Positives is the number of rows labelled 1.
	Positives int `json:"positives"`
	// ROCAUC is the area under the ROC curve (see ROCAUC).
	ROCAUC float64 `json:"roc_auc"`
	// PRAUC is the average precision (see PRAUC).
	PRAUC float64 `json:"pr_auc"`
	// LogLoss is the mean binary cross-entropy (see LogLoss).
	LogLoss float64 `json:"log_loss"`
	// Threshold is the score at or above which a row is predicted positive
	// for the threshold metrics below.
	Threshold float64 `json:"threshold"`
	// Confusion is the confusion matrix at Threshold.
	Confusion Confusion `json:"confusion"`
	// Accuracy is (TP+TN)/N at Threshold.
	Accuracy float64 `json:"accuracy"`
	// Precision is TP/(TP+FP) at Threshold (0 when undefined).
	Precision float64 `json:"precision"`
	// Recall is TP/(TP+FN) at Threshold (0 when undefined).
	Recall float64 `json:"recall"`
	// F1 is 2TP/(2TP+FP+FN) at Threshold (0 when undefined).
	F1 float64 `json:"f1"`
}

// Map returns the report's metrics by name (roc_auc, pr_auc, log_loss,
// accuracy, precision, recall, f1), for averaging over folds.
func (r BinaryReport) Map() map[string]float64 {
	return map[string]float64{
		"roc_auc":   r.ROCAUC,
		"pr_auc":    r.PRAUC,
		"log_loss":  r.LogLoss,
		"accuracy":  r.Accuracy,
		"precision": r.Precision,
		"recall":    r.Recall,
		"f1":        r.F1,
	}
}

// Binary computes every binary metric of probabilities p for labels y, the
// threshold metrics at DefaultThreshold. Labels of a single class are an
// error (ROC AUC is undefined).
func Binary(y, p []float64) (BinaryReport, error) {
	return BinaryAt(y, p, DefaultThreshold)
}

// BinaryAt is Binary with the threshold metrics at threshold (a row is
// predicted positive when its score is >= threshold).
func BinaryAt(y, p []float64, threshold float64) (BinaryReport, error) {
	var r BinaryReport
	var err error
	if r.ROCAUC, err = ROCAUC(y, p); err != nil {
		return r, fmt.Errorf("binary metrics: %w", err)
	}
	if r.PRAUC, err = PRAUC(y, p); err != nil {
		return r, fmt.Errorf("binary metrics: %w", err)
	}
	if r.LogLoss, err = LogLoss(y, p); err != nil {
		return r, fmt.Errorf("binary metrics: %w", err)
	}
	if r.Confusion, err = ConfusionAt(y, p, threshold); err != nil {
		return r, fmt.Errorf("binary metrics: %w", err)
	}
	c := r.Confusion
	r.Rows, r.Positives, r.Threshold = c.N(), c.TP+c.FN, threshold
	r.Accuracy, r.Precision, r.Recall, r.F1 = c.Accuracy(), c.Precision(), c.Recall(), c.F1()
	return r, nil
}

// RegressionReport holds every regression metric of one evaluation.
type RegressionReport struct {
	// Rows is the number of rows evaluated.
	Rows int `json:"rows"`
	// RMSE is the root mean squared error (see RMSE).
	RMSE float64 `json:"rmse"`
	// MAE is the mean absolute error (see MAE).
	MAE float64 `json:"mae"`
	// R2 is the coefficient of determination (see R2).
	R2 float64 `json:"r2"`
}

// Map returns the report's metrics by name (rmse, mae, r2).
func (r RegressionReport) Map() map[string]float64 {
	return map[string]float64{"rmse": r.RMSE, "mae": r.MAE, "r2": r.R2}
}

// Regression computes every regression metric of predictions pred for
// targets y. At least two rows are needed (R² is undefined for one).
func Regression(y, pred []float64) (RegressionReport, error) {
	var r RegressionReport
	var err error
	if r.RMSE, err = RMSE(y, pred); err != nil {
		return r, fmt.Errorf("regression metrics: %w", err)
	}
	if r.MAE, err = MAE(y, pred); err != nil {
		return r, fmt.Errorf("regression metrics: %w", err)
	}
	if r.R2, err = R2(y, pred); err != nil {
		return r, fmt.Errorf("regression metrics: %w", err)
	}
	r.Rows = len(y)
	return r, nil
}

// FairnessReport holds the group fairness metrics of one evaluation.
type FairnessReport struct {
	// Threshold is the score at or above which a row is selected.
	Threshold float64 `json:"threshold"`
	// Groups holds each group's counts and rates, sorted by group name.
	Groups []GroupStats `json:"groups"`
	// DemographicParityDifference is max − min selection rate.
	DemographicParityDifference float64 `json:"demographic_parity_difference"`
	// DisparateImpact is min / max selection rate (1 when none is selected).
	DisparateImpact float64 `json:"disparate_impact"`
	// EqualOpportunityDifference is max − min true positive rate; it is 0
	// and meaningless unless EqualOpportunityDefined.
	EqualOpportunityDifference float64 `json:"equal_opportunity_difference"`
	// EqualOpportunityDefined reports whether every group has a positive
	// label, so that EqualOpportunityDifference is meaningful.
	EqualOpportunityDefined bool `json:"equal_opportunity_defined"`
}

// Fairness computes the group fairness metrics of scores p for labels y
// and group column groups at threshold. Unlike EqualOpportunityDifference
// it does not fail when a group has no positive label; it reports
// EqualOpportunityDefined = false instead.
func Fairness(y, p []float64, groups []string, threshold float64) (FairnessReport, error) {
	stats, err := ByGroup(y, p, groups, threshold)
	if err != nil {
		return FairnessReport{}, fmt.Errorf("fairness metrics: %w", err)
	}
	r := FairnessReport{Threshold: threshold, Groups: stats}
	lo, hi := selectionRange(stats)
	r.DemographicParityDifference = hi - lo
	r.DisparateImpact = 1
	if hi > 0 {
		r.DisparateImpact = lo / hi
	}
	r.EqualOpportunityDefined = true
	tlo, thi := stats[0].TPR, stats[0].TPR
	for _, s := range stats {
		if !s.HasPositives {
			r.EqualOpportunityDefined = false
		}
		tlo, thi = min(tlo, s.TPR), max(thi, s.TPR)
	}
	if r.EqualOpportunityDefined {
		r.EqualOpportunityDifference = thi - tlo
	}
	return r, nil
}
