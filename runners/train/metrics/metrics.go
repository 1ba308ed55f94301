// Package metrics computes the evaluation metrics of the training core:
// ranking metrics (ROC AUC, average precision), probabilistic loss (log
// loss), threshold metrics (confusion matrix, accuracy, precision, recall,
// F1), regression metrics (RMSE, MAE, R²) and group fairness metrics
// (demographic parity difference, equal opportunity difference, disparate
// impact).
//
// Every metric follows scikit-learn's definition (the version each one was
// checked against is scikit-learn 1.2.1, Debian bookworm's python3-sklearn;
// the recorded reference values are in testdata/sklearn_ref.json and the
// script that produced them in testdata/sklearn_ref.py). Where scikit-learn
// would warn and return NaN, these functions return an error instead, so a
// caller never mistakes an undefined metric for a number.
//
// Binary labels are float64 values that must be exactly 0 or 1. Scores are
// finite float64 values; log loss additionally needs them in [0, 1]. All
// functions are unweighted and safe for concurrent use.
package metrics

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrEmpty is returned (wrapped) when a metric is asked of no rows.
var ErrEmpty = errors.New("empty input")

// ErrSingleClass is returned (wrapped) by ROCAUC and PRAUC when the labels
// hold only one class, where the metric is undefined (scikit-learn ≥ 1.4
// warns and returns NaN; older releases raise ValueError).
var ErrSingleClass = errors.New("only one class present in labels")

// checkBinary validates binary labels and finite scores of equal length and
// returns the number of positive labels.
func checkBinary(name string, y, p []float64) (int, error) {
	if len(y) == 0 {
		return 0, fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	if len(y) != len(p) {
		return 0, fmt.Errorf("%s: length mismatch: %d labels, %d scores", name, len(y), len(p))
	}
	pos := 0
	for i, v := range y {
		switch v {
		case 1:
			pos++
		case 0:
		default:
			return 0, fmt.Errorf("%s: label %d is %v, want 0 or 1", name, i, v)
		}
	}
	for i, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%s: score %d is %v, want a finite number", name, i, v)
		}
	}
	return pos, nil
}

// checkProbabilities checks that scores are probabilities in [0, 1].
func checkProbabilities(name string, p []float64) error {
	for i, v := range p {
		if v < 0 || v > 1 {
			return fmt.Errorf("%s: score %d is %v, want a probability in [0, 1]", name, i, v)
		}
	}
	return nil
}

// curvePoint is one distinct threshold of the ranking: the cumulative
// counts of true and false positives when every row scoring at least the
// threshold is predicted positive.
type curvePoint struct {
	tp, fp int
}

// curve mirrors scikit-learn's _binary_clf_curve: rows sorted by score in
// descending order, one point at the last row of each run of tied scores.
func curve(y, p []float64) []curvePoint {
	type row struct {
		score float64
		pos   bool
	}
	rows := make([]row, len(p))
	for i, v := range p {
		rows[i] = row{v, y[i] == 1}
	}
	// Order of tied rows does not matter: a run of ties yields one point.
	slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(b.score, a.score) })
	pts := make([]curvePoint, 0, 64)
	tp, fp := 0, 0
	for k, r := range rows {
		if r.pos {
			tp++
		} else {
			fp++
		}
		if k == len(rows)-1 || rows[k+1].score != r.score {
			pts = append(pts, curvePoint{tp, fp})
		}
	}
	return pts
}

// ROCAUC returns the area under the ROC curve of scores p for binary labels
// y, exactly as scikit-learn's roc_auc_score: scores are sorted in
// descending order, each run of tied scores forms one point of the curve,
// and the curve is integrated with the trapezoid rule. A tie between a
// positive and a negative therefore counts one half, so the result equals
// the Mann–Whitney U statistic divided by P·N. The area is accumulated in
// integer counts (twice the area times P·N) and divided once, so the result
// is exact up to two roundings. Scores need only be finite (any monotone
// score works); O(n log n). One class only gives ErrSingleClass.
func ROCAUC(y, p []float64) (float64, error) {
	pos, err := checkBinary("roc_auc", y, p)
	if err != nil {
		return 0, err
	}
	neg := len(y) - pos
	if pos == 0 || neg == 0 {
		return 0, fmt.Errorf("roc_auc: %w (%d positives, %d negatives)", ErrSingleClass, pos, neg)
	}
	// Twice the area in units of one positive × one negative:
	// Σ Δfp · (tp_prev + tp_cur). Fits in uint64 for n < 2^31.
	var twice uint64
	prev := curvePoint{}
	for _, c := range curve(y, p) {
		twice += uint64(c.fp-prev.fp) * uint64(c.tp+prev.tp)
		prev = c
	}
	return float64(twice) / (2 * float64(pos) * float64(neg)), nil
}

// PRAUC returns the area under the precision–recall curve as scikit-learn's
// average_precision_score computes it: AP = Σₖ (Rₖ − Rₖ₋₁)·Pₖ over the
// distinct score thresholds in descending order, with R₀ = 0. This is the
// step-wise sum (each recall increment weighted by the precision at that
// threshold), not the trapezoid rule, which would over-estimate the area by
// interpolating precision linearly. Tied scores form one threshold. Labels
// without a positive or without a negative give ErrSingleClass.
func PRAUC(y, p []float64) (float64, error) {
	pos, err := checkBinary("pr_auc", y, p)
	if err != nil {
		return 0, err
	}
	neg := len(y) - pos
	if pos == 0 || neg == 0 {
		return 0, fmt.Errorf("pr_auc: %w (%d positives, %d negatives)", ErrSingleClass, pos, neg)
	}
	sum := 0.0
	prevTP := 0
	for _, c := range curve(y, p) {
		if d := c.tp - prevTP; d > 0 {
			sum += float64(d) * float64(c.tp) / float64(c.tp+c.fp)
		}
		prevTP = c.tp
	}
	return sum / float64(pos), nil
}

// LogLossEpsilon is the clipping bound of LogLoss: probabilities are
// clipped to [ε, 1−ε]. scikit-learn ≥ 1.2 clips at the machine epsilon of
// the score dtype (np.finfo(float64).eps = 2⁻⁵²); releases before 1.2 used
// 1e-15. Use LogLossClipped for another bound.
const LogLossEpsilon = 0x1p-52

// LogLoss returns the mean binary cross-entropy
// −mean(y·ln p + (1−y)·ln(1−p)) with p clipped to [LogLossEpsilon,
// 1−LogLossEpsilon], as scikit-learn's log_loss. Unlike scikit-learn it
// accepts labels of one class only (the loss is still defined). Scores must
// be probabilities in [0, 1].
func LogLoss(y, p []float64) (float64, error) {
	return LogLossClipped(y, p, LogLossEpsilon)
}

// LogLossClipped is LogLoss with probabilities clipped to [eps, 1−eps];
// eps = 1e-15 reproduces scikit-learn before 1.2. eps must lie in [0, 0.5).
func LogLossClipped(y, p []float64, eps float64) (float64, error) {
	if !(eps >= 0 && eps < 0.5) {
		return 0, fmt.Errorf("log_loss: clipping bound %v, want 0 <= eps < 0.5", eps)
	}
	if _, err := checkBinary("log_loss", y, p); err != nil {
		return 0, err
	}
	if err := checkProbabilities("log_loss", p); err != nil {
		return 0, err
	}
	sum := 0.0
	for i, v := range p {
		q := min(max(v, eps), 1-eps)
		if y[i] == 1 {
			sum -= math.Log(q)
		} else {
			sum -= math.Log(1 - q)
		}
	}
	return sum / float64(len(p)), nil
}

// Confusion is a binary confusion matrix: counts of true positives, false
// positives, true negatives and false negatives.
type Confusion struct {
	TP int `json:"tp"`
	FP int `json:"fp"`
	TN int `json:"tn"`
	FN int `json:"fn"`
}

// ConfusionAt returns the confusion matrix when a row is predicted positive
// if its score is at least threshold (score >= threshold, the convention of
// scikit-learn's roc_curve thresholds). Note that scikit-learn's and
// XGBoost's predict() use score > 0.5; the two differ only for scores
// exactly equal to the threshold. threshold must be finite.
func ConfusionAt(y, p []float64, threshold float64) (Confusion, error) {
	if math.IsNaN(threshold) || math.IsInf(threshold, 0) {
		return Confusion{}, fmt.Errorf("confusion: threshold is %v, want a finite number", threshold)
	}
	if _, err := checkBinary("confusion", y, p); err != nil {
		return Confusion{}, err
	}
	var c Confusion
	for i, v := range p {
		switch predPos := v >= threshold; {
		case y[i] == 1 && predPos:
			c.TP++
		case y[i] == 1:
			c.FN++
		case predPos:
			c.FP++
		default:
			c.TN++
		}
	}
	return c, nil
}

// ratio returns a/b, or 0 when b is 0 (scikit-learn's zero_division=0).
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// N returns the number of rows counted.
func (c Confusion) N() int { return c.TP + c.FP + c.TN + c.FN }

// Accuracy returns (TP+TN)/N, or 0 for an empty matrix.
func (c Confusion) Accuracy() float64 { return ratio(c.TP+c.TN, c.N()) }

// Precision returns TP/(TP+FP), or 0 when nothing is predicted positive
// (scikit-learn's zero_division=0).
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall returns TP/(TP+FN) (the true positive rate), or 0 when there is no
// positive label (zero_division=0).
func (c Confusion) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 returns the harmonic mean of precision and recall, computed as
// 2TP/(2TP+FP+FN) as scikit-learn ≥ 1.3 does; it is 0 when the denominator
// is 0 (zero_division=0) and whenever TP is 0.
func (c Confusion) F1() float64 { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }

// SelectionRate returns (TP+FP)/N, the share of rows predicted positive, or
// 0 for an empty matrix.
func (c Confusion) SelectionRate() float64 { return ratio(c.TP+c.FP, c.N()) }

// Accuracy returns the share of rows whose prediction (score >= threshold)
// equals the label.
func Accuracy(y, p []float64, threshold float64) (float64, error) {
	c, err := ConfusionAt(y, p, threshold)
	if err != nil {
		return 0, fmt.Errorf("accuracy: %w", err)
	}
	return c.Accuracy(), nil
}

// Precision returns TP/(TP+FP) at threshold, 0 when nothing is predicted
// positive (scikit-learn's zero_division=0).
func Precision(y, p []float64, threshold float64) (float64, error) {
	c, err := ConfusionAt(y, p, threshold)
	if err != nil {
		return 0, fmt.Errorf("precision: %w", err)
	}
	return c.Precision(), nil
}

// Recall returns TP/(TP+FN) at threshold, 0 when no label is positive
// (scikit-learn's zero_division=0).
func Recall(y, p []float64, threshold float64) (float64, error) {
	c, err := ConfusionAt(y, p, threshold)
	if err != nil {
		return 0, fmt.Errorf("recall: %w", err)
	}
	return c.Recall(), nil
}

// F1 returns the F1 score at threshold, 0 when it is undefined
// (scikit-learn's zero_division=0).
func F1(y, p []float64, threshold float64) (float64, error) {
	c, err := ConfusionAt(y, p, threshold)
	if err != nil {
		return 0, fmt.Errorf("f1: %w", err)
	}
	return c.F1(), nil
}
