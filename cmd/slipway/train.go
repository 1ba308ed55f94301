package main

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/runners/train"
	"github.com/slipway-ml/slipway/runners/train/table"
)

func (a *app) trainCommand() *cobra.Command {
	var (
		o        train.Options
		trainCSV string
		testCSV  string
		sets     []string
	)
	cmd := &cobra.Command{
		Use:   "train --train TRAIN.csv [--test TEST.csv] --label COLUMN --model logistic|gbdt|mlp",
		Short: "Train one model from CSV files, without a spec, and evaluate it",
		Long: `Train reads CSV files (column types inferred), fits the features on the
training rows (categoricals native for gbdt, one-hot otherwise), trains the
model, evaluates it on the test file (or a stratified 20% of the training
file) and prints the metrics. --set overrides a model parameter by name,
e.g. --set trees=200 --set maxDepth=8. With --out the model, its fitted
features and its metrics are written to that directory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if trainCSV == "" || o.Label == "" || o.Model == "" {
				return usagef("--train, --label and --model are required")
			}
			if o.Folds == 1 || o.Folds < 0 {
				return usagef("--cv needs at least 2 folds")
			}
			if !slices.Contains(train.Models, o.Model) {
				return usagef("unknown model %q (want %s)", o.Model, strings.Join(train.Models, ", "))
			}
			o.Set = map[string]string{}
			for _, s := range sets {
				k, v, ok := strings.Cut(s, "=")
				if !ok || k == "" {
					return usagef("--set %q: want NAME=VALUE", s)
				}
				o.Set[k] = v
			}
			var err error
			if o.Train, err = readCSV(trainCSV); err != nil {
				return findingsErr(a, err)
			}
			if testCSV != "" {
				if o.Test, err = readCSV(testCSV); err != nil {
					return findingsErr(a, err)
				}
			}
			res, err := train.Run(cmd.Context(), o)
			if err != nil {
				return findingsErr(a, err)
			}
			if a.json {
				return a.writeJSON(res)
			}
			fmt.Fprintf(a.stdout, "%s on %d rows (%d features) in %.3fs; test rows %d\n", res.Model, res.Rows, res.Features, res.TrainSeconds, res.TestRows)
			if res.Positive != "" {
				fmt.Fprintf(a.stdout, "positive class: %s\n", res.PositiveReason)
			}
			for _, k := range slices.Sorted(maps.Keys(res.Metrics)) {
				fmt.Fprintf(a.stdout, "  %-22s %.6f\n", k, res.Metrics[k])
			}
			if c := res.Confusion; c != nil {
				fmt.Fprintf(a.stdout, "confusion matrix at threshold %g (rows: actual, columns: predicted):\n", res.Threshold)
				fmt.Fprintf(a.stdout, "  %-12s %10s %10s\n", "", "negative", "positive")
				fmt.Fprintf(a.stdout, "  %-12s %10d %10d\n", "negative", c.TN, c.FP)
				fmt.Fprintf(a.stdout, "  %-12s %10d %10d\n", "positive", c.FN, c.TP)
			}
			if fr := res.Fairness; fr != nil {
				fmt.Fprintf(a.stdout, "fairness by %s (threshold %.2f):\n", o.Group, fr.Threshold)
				fmt.Fprintf(a.stdout, "  %-30s %.6f\n  %-30s %.6f\n", "demographic_parity_difference", fr.DemographicParityDifference, "disparate_impact", fr.DisparateImpact)
				if fr.EqualOpportunityDefined {
					fmt.Fprintf(a.stdout, "  %-30s %.6f\n", "equal_opportunity_difference", fr.EqualOpportunityDifference)
				}
			}
			if len(res.CrossValidation) > 0 {
				fmt.Fprintf(a.stdout, "%d-fold cross-validation (mean ± std):\n", o.Folds)
				for _, k := range slices.Sorted(maps.Keys(res.CrossValidation)) {
					s := res.CrossValidation[k]
					fmt.Fprintf(a.stdout, "  %-22s %.6f ± %.6f\n", k, s.Mean, s.Std)
				}
			}
			if len(res.Importance) > 0 {
				fmt.Fprintln(a.stdout, "most important features:")
				for _, im := range res.Importance {
					fmt.Fprintf(a.stdout, "  %-30s %.4g\n", im.Feature, im.Value)
				}
			}
			for _, f := range res.Files {
				fmt.Fprintf(a.stdout, "wrote %s/%s\n", strings.TrimSuffix(o.OutDir, "/"), f)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&trainCSV, "train", "", "training CSV file (required)")
	f.StringVar(&testCSV, "test", "", "test CSV file (default: hold out a stratified 20% of --train)")
	f.StringVar(&o.Label, "label", "", "label column (required)")
	f.StringVar(&o.Model, "model", "", "model: "+strings.Join(train.Models, ", ")+" (required)")
	f.StringArrayVar(&sets, "set", nil, "model parameter NAME=VALUE (repeatable)")
	f.StringVar(&o.Positive, "positive", "", `positive class (default "yes", "true", "1" or the minority class)`)
	f.StringVar(&o.Categorical, "categorical", "", "categorical columns: native or onehot (default native for gbdt)")
	f.Uint64Var(&o.Seed, "seed", 42, "seed for splits and training")
	f.IntVar(&o.Threads, "threads", 0, "threads (default: all cores)")
	f.StringVar(&o.OutDir, "out", "", "directory for the model, features and metrics")
	f.StringVar(&o.Group, "group", "", "column whose groups the fairness metrics compare")
	f.IntVar(&o.Folds, "cv", 0, "k-fold cross-validation on the training rows (k ≥ 2)")
	f.Float64Var(&o.Threshold, "threshold", 0.5, "score at or above which a row is predicted positive (confusion matrix, accuracy, precision, recall, f1)")
	return cmd
}

// findingsErr reports an error about the user's data or parameters (exit
// 1, as invalid input).
func findingsErr(a *app, err error) error {
	if a.json {
		_ = a.writeJSON(map[string]any{"error": err.Error(), "exitCode": exitFindings})
	} else {
		fmt.Fprintf(a.stderr, "slipway: %v\n", err)
	}
	return findingsError{err.Error()}
}

func readCSV(path string) (*table.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	t, err := table.ReadCSV(f, table.ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return t, nil
}
