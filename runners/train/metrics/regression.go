package metrics

import (
	"fmt"
	"math"
)

// checkRegression validates finite targets and predictions of equal length.
func checkRegression(name string, y, pred []float64) error {
	if len(y) == 0 {
		return fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	if len(y) != len(pred) {
		return fmt.Errorf("%s: length mismatch: %d targets, %d predictions", name, len(y), len(pred))
	}
	for i := range y {
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return fmt.Errorf("%s: target %d is %v, want a finite number", name, i, y[i])
		}
		if math.IsNaN(pred[i]) || math.IsInf(pred[i], 0) {
			return fmt.Errorf("%s: prediction %d is %v, want a finite number", name, i, pred[i])
		}
	}
	return nil
}

// sse returns Σ (y − pred)².
func sse(y, pred []float64) float64 {
	s := 0.0
	for i := range y {
		d := y[i] - pred[i]
		s += d * d
	}
	return s
}

// RMSE returns the root mean squared error √(mean((y − pred)²)), as
// scikit-learn's root_mean_squared_error (mean_squared_error with
// squared=False in older releases).
func RMSE(y, pred []float64) (float64, error) {
	if err := checkRegression("rmse", y, pred); err != nil {
		return 0, err
	}
	return math.Sqrt(sse(y, pred) / float64(len(y))), nil
}

// MAE returns the mean absolute error mean(|y − pred|), as scikit-learn's
// mean_absolute_error.
func MAE(y, pred []float64) (float64, error) {
	if err := checkRegression("mae", y, pred); err != nil {
		return 0, err
	}
	s := 0.0
	for i := range y {
		s += math.Abs(y[i] - pred[i])
	}
	return s / float64(len(y)), nil
}

// R2 returns the coefficient of determination 1 − SS_res/SS_tot with
// SS_res = Σ(y − pred)² and SS_tot = Σ(y − mean(y))², as scikit-learn's
// r2_score with its default force_finite=True (scikit-learn ≥ 1.1, still
// the default in current releases): when y is constant (SS_tot = 0) the
// score is 1.0 for perfect predictions (SS_res = 0) and 0.0 otherwise,
// instead of NaN or −Inf. Fewer than two rows is an error (scikit-learn
// warns and returns NaN). The result can be negative for predictions worse
// than the mean.
func R2(y, pred []float64) (float64, error) {
	if err := checkRegression("r2", y, pred); err != nil {
		return 0, err
	}
	if len(y) < 2 {
		return 0, fmt.Errorf("r2: not defined for %d row, need at least 2", len(y))
	}
	mean := 0.0
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	tot := 0.0
	for _, v := range y {
		d := v - mean
		tot += d * d
	}
	res := sse(y, pred)
	switch {
	case res == 0:
		return 1, nil
	case tot == 0:
		return 0, nil
	}
	return 1 - res/tot, nil
}
