package gbdt

import (
	"fmt"
	"math"
	"runtime"
)

// Objective names understood by Train.
const (
	// ObjectiveBinary is binary classification with log-loss; predictions are
	// probabilities of the positive class (label 1).
	ObjectiveBinary = "binary:logistic"
	// ObjectiveRegression is regression with squared error; predictions are
	// values.
	ObjectiveRegression = "reg:squarederror"
)

// Grow policies understood by Train.
const (
	// GrowDepthwise splits every splittable node of one depth before going
	// deeper (XGBoost's default).
	GrowDepthwise = "depthwise"
	// GrowLossguide always splits the leaf with the largest gain next
	// (leaf-wise growth, as LightGBM).
	GrowLossguide = "lossguide"
)

// Categorical handling hints understood by Train.
const (
	// CategoricalNative splits categorical columns by category sets: one
	// category against the rest when the column has fewer than
	// MaxCatToOnehot categories, otherwise the best partition of the
	// categories ordered by gradient/hessian ratio.
	CategoricalNative = "native"
	// CategoricalOnehot splits categorical columns only one category
	// against the rest, as trees grown on one-hot encoded columns would.
	CategoricalOnehot = "onehot"
)

// MaxBinLimit is the largest accepted Params.MaxBin (bin indices are
// stored as uint16).
const MaxBinLimit = 65536

// Params are the training parameters. They mirror spec.GBDT, plus the
// objective, the random seed and the number of threads. DefaultParams
// returns XGBoost's defaults.
type Params struct {
	// Trees is the number of boosting rounds (XGBoost n_estimators).
	Trees int
	// LearningRate shrinks every leaf weight (XGBoost eta).
	LearningRate float64
	// MaxDepth limits the depth of a tree; 0 means no limit, which needs
	// MaxLeaves > 0.
	MaxDepth int
	// MaxLeaves limits the number of leaves of a tree; 0 means no limit.
	MaxLeaves int
	// GrowPolicy is GrowDepthwise or GrowLossguide.
	GrowPolicy string
	// MinChildWeight is the least sum of hessians a child may have.
	MinChildWeight float64
	// Lambda is the L2 regularisation of leaf weights.
	Lambda float64
	// Alpha is the L1 regularisation of leaf weights.
	Alpha float64
	// Gamma is the least gain a split must bring (XGBoost min_split_loss).
	Gamma float64
	// Subsample is the fraction of rows drawn (Bernoulli) for each tree.
	Subsample float64
	// ColsampleByTree is the fraction of features drawn for each tree.
	ColsampleByTree float64
	// MaxBin is the largest number of histogram bins of a feature,
	// including the bin for missing values (so 256 leaves 255 bins for
	// values, as scikit-learn's 255+1, and bin indices fit a byte).
	// Categorical columns handled natively get one bin per category.
	MaxBin int
	// Categorical is CategoricalNative or CategoricalOnehot ("" means
	// native).
	Categorical string
	// MaxCatToOnehot: a natively handled categorical column with fewer
	// categories than this is split one category against the rest.
	MaxCatToOnehot int
	// EarlyStoppingRounds stops training when the validation loss has not
	// improved for this many rounds and keeps the best iteration; 0 turns
	// early stopping off. It needs a validation set.
	EarlyStoppingRounds int
	// Objective is ObjectiveBinary or ObjectiveRegression.
	Objective string
	// Seed seeds the PCG generator used for row and column sampling.
	Seed int64
	// Threads is the number of goroutines used; 0 means
	// runtime.GOMAXPROCS(0). The model does not depend on it.
	Threads int
}

// DefaultParams returns XGBoost's defaults (doc/parameter.rst):
// 100 trees, eta 0.3, max_depth 6, max_leaves 0, depthwise growth,
// min_child_weight 1, lambda 1, alpha 0, gamma 0, subsample 1,
// colsample_bytree 1, max_bin 256, max_cat_to_onehot 4, and the
// binary:logistic objective.
func DefaultParams() Params {
	return Params{
		Trees:           100,
		LearningRate:    0.3,
		MaxDepth:        6,
		MaxLeaves:       0,
		GrowPolicy:      GrowDepthwise,
		MinChildWeight:  1,
		Lambda:          1,
		Alpha:           0,
		Gamma:           0,
		Subsample:       1,
		ColsampleByTree: 1,
		MaxBin:          256,
		Categorical:     CategoricalNative,
		MaxCatToOnehot:  4,
		Objective:       ObjectiveBinary,
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Validate reports the first parameter out of range.
func (p *Params) Validate() error {
	switch {
	case p.Trees < 1:
		return fmt.Errorf("gbdt: trees must be at least 1, got %d", p.Trees)
	case !finite(p.LearningRate) || p.LearningRate <= 0:
		return fmt.Errorf("gbdt: learning rate must be positive, got %v", p.LearningRate)
	case p.MaxDepth < 0:
		return fmt.Errorf("gbdt: max depth must not be negative, got %d", p.MaxDepth)
	case p.MaxLeaves < 0:
		return fmt.Errorf("gbdt: max leaves must not be negative, got %d", p.MaxLeaves)
	case p.MaxDepth == 0 && p.MaxLeaves == 0:
		return fmt.Errorf("gbdt: max depth 0 (no limit) needs max leaves > 0")
	case p.GrowPolicy != GrowDepthwise && p.GrowPolicy != GrowLossguide && p.GrowPolicy != "":
		return fmt.Errorf("gbdt: grow policy %q is not %q or %q", p.GrowPolicy, GrowDepthwise, GrowLossguide)
	case !finite(p.MinChildWeight) || p.MinChildWeight < 0:
		return fmt.Errorf("gbdt: min child weight must not be negative, got %v", p.MinChildWeight)
	case !finite(p.Lambda) || p.Lambda < 0:
		return fmt.Errorf("gbdt: lambda must not be negative, got %v", p.Lambda)
	case !finite(p.Alpha) || p.Alpha < 0:
		return fmt.Errorf("gbdt: alpha must not be negative, got %v", p.Alpha)
	case !finite(p.Gamma) || p.Gamma < 0:
		return fmt.Errorf("gbdt: gamma must not be negative, got %v", p.Gamma)
	case !(p.Subsample > 0 && p.Subsample <= 1):
		return fmt.Errorf("gbdt: subsample must be in (0, 1], got %v", p.Subsample)
	case !(p.ColsampleByTree > 0 && p.ColsampleByTree <= 1):
		return fmt.Errorf("gbdt: colsample by tree must be in (0, 1], got %v", p.ColsampleByTree)
	case p.MaxBin < 2 || p.MaxBin > MaxBinLimit:
		return fmt.Errorf("gbdt: max bin must be in [2, %d], got %d", MaxBinLimit, p.MaxBin)
	case p.Categorical != CategoricalNative && p.Categorical != CategoricalOnehot && p.Categorical != "":
		return fmt.Errorf("gbdt: categorical handling %q is not %q or %q", p.Categorical, CategoricalNative, CategoricalOnehot)
	case p.MaxCatToOnehot < 0:
		return fmt.Errorf("gbdt: max cat to onehot must not be negative, got %d", p.MaxCatToOnehot)
	case p.EarlyStoppingRounds < 0:
		return fmt.Errorf("gbdt: early stopping rounds must not be negative, got %d", p.EarlyStoppingRounds)
	case p.Objective != ObjectiveBinary && p.Objective != ObjectiveRegression:
		return fmt.Errorf("gbdt: objective %q is not %q or %q", p.Objective, ObjectiveBinary, ObjectiveRegression)
	case p.Threads < 0:
		return fmt.Errorf("gbdt: threads must not be negative, got %d", p.Threads)
	}
	return nil
}

func (p *Params) threads() int {
	if p.Threads > 0 {
		return p.Threads
	}
	return runtime.GOMAXPROCS(0)
}
