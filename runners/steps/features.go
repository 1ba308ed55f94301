package steps

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/runners/dataset"
	"github.com/slipway-ml/slipway/runners/local"
	"github.com/slipway-ml/slipway/runners/pii"
	"github.com/slipway-ml/slipway/runners/train/features"
	"github.com/slipway-ml/slipway/runners/train/split"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// Split is the row split the features step decides, in split.json.
type Split struct {
	// Method is "stratified", "random" or "time".
	Method string `json:"method"`
	// Seed is the seed of random and stratified splits.
	Seed int64 `json:"seed"`
	// Train, Validation and Test are row indices into data.parquet,
	// ascending.
	Train      []int `json:"train"`
	Validation []int `json:"validation"`
	Test       []int `json:"test"`
}

type featuresStep struct{ c Config }

func (f *featuresStep) Execute(ctx context.Context, sc *local.StepContext) error {
	p, err := params[ir.FeaturesParams](sc.Step)
	if err != nil {
		return err
	}
	in, err := input(sc, "dataset/"+p.Dataset)
	if err != nil {
		return err
	}
	out, err := outputDir(sc, "features")
	if err != nil {
		return err
	}
	t, err := dataset.ReadFile(filepath.Join(in, "data.parquet"), "parquet", nil)
	if err != nil {
		return fmt.Errorf("read dataset %s: %w", p.Dataset, err)
	}
	// PII first: nothing below (features, logs, reports) sees raw values.
	if cols := piiColumns(sc.Pipeline, p.Dataset); len(cols) > 0 {
		var key []byte
		if p.PII.Action == "pseudonymize" {
			if key, err = f.piiKey(sc, p.PII.KeySecret); err != nil {
				return permanent(err)
			}
		}
		if t, err = pii.Apply(t, cols, p.PII.Action, key); err != nil {
			return permanent(fmt.Errorf("pii: %w", err))
		}
		sc.Logf("pii: %s %d column(s): %v", p.PII.Action, len(cols), cols)
	}
	sp, err := decideSplit(t, p)
	if err != nil {
		return permanent(err)
	}
	sc.Logf("split (%s): %d train, %d validation, %d test rows", sp.Method, len(sp.Train), len(sp.Validation), len(sp.Test))
	fs := features.FeatureSpec{Label: p.Label, Positive: p.Positive, Task: p.Task, Drop: p.Drop,
		Transforms: p.Transforms, Categorical: p.Categorical}
	if fs.Categorical == "" {
		fs.Categorical = features.Onehot
	}
	fp, err := features.Fit(t, fs, sp.Train)
	if err != nil {
		return permanent(fmt.Errorf("fit features: %w", err))
	}
	if _, err := fp.Transform(t.Subset(sp.Test[:min(len(sp.Test), 1)])); err != nil {
		return permanent(fmt.Errorf("features: %w", err))
	}
	sc.Logf("features: %d model inputs from %d columns", len(fp.Names()), len(t.Columns()))
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(out, "features.json"), fp); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(out, "split.json"), sp); err != nil {
		return err
	}
	return dataset.WriteParquetFile(filepath.Join(out, "data.parquet"), t)
}

// piiKey reads the pseudonymisation key: the secret's environment variable
// locally, SLIPWAY_PII_KEY on the remote targets.
func (f *featuresStep) piiKey(sc *local.StepContext, secret string) ([]byte, error) {
	for _, name := range []string{secret, "SLIPWAY_PII_KEY"} {
		if name == "" {
			continue
		}
		if v := f.c.Getenv(name); v != "" {
			return []byte(v), nil
		}
	}
	return nil, fmt.Errorf("pii: pseudonymize needs the key in the secret %s (set the environment variable %s)", secret, secret)
}

// piiColumns lists the dataset's columns marked pii, sorted.
func piiColumns(p *ir.Pipeline, ds string) []string {
	if p == nil || p.Spec == nil || p.Spec.Datasets[ds] == nil {
		return nil
	}
	var out []string
	for name, c := range p.Spec.Datasets[ds].Columns {
		if c.PII {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// decideSplit splits the rows into training, validation and test rows as
// the spec says.
func decideSplit(t *table.Table, p ir.FeaturesParams) (*Split, error) {
	n := t.Rows()
	s := &Split{Seed: p.Seed}
	seed := uint64(p.Seed)
	var train, test []int
	var err error
	switch {
	case p.Split.TimeColumn != "":
		s.Method = "time"
		times, terr := timeValues(t, p.Split.TimeColumn)
		if terr != nil {
			return nil, terr
		}
		if train, test, err = split.ByTime(times, p.Split.Test); err != nil {
			return nil, fmt.Errorf("split: %w", err)
		}
		s.Test = sorted(test)
		if p.Split.Validation > 0 {
			sub := make([]float64, len(train))
			for k, i := range train {
				sub[k] = times[i]
			}
			tr, va, verr := split.ByTime(sub, p.Split.Validation)
			if verr != nil {
				return nil, fmt.Errorf("validation split: %w", verr)
			}
			s.Train, s.Validation = sorted(pickIdx(train, tr)), sorted(pickIdx(train, va))
		} else {
			s.Train = sorted(train)
		}
		return s, nil
	case p.Split.Stratified && p.Task != features.Regression:
		s.Method = "stratified"
		y, lerr := labelCodes(t, p.Label)
		if lerr != nil {
			return nil, lerr
		}
		if train, test, err = split.Stratified(y, p.Split.Test, seed); err != nil {
			return nil, fmt.Errorf("split: %w", err)
		}
		s.Test = sorted(test)
		if p.Split.Validation > 0 {
			sub := make([]float64, len(train))
			for k, i := range train {
				sub[k] = y[i]
			}
			tr, va, verr := split.Stratified(sub, p.Split.Validation, seed+1)
			if verr != nil {
				return nil, fmt.Errorf("validation split: %w", verr)
			}
			s.Train, s.Validation = sorted(pickIdx(train, tr)), sorted(pickIdx(train, va))
		} else {
			s.Train = sorted(train)
		}
		return s, nil
	default:
		s.Method = "random"
		if train, test, err = split.Random(n, p.Split.Test, seed); err != nil {
			return nil, fmt.Errorf("split: %w", err)
		}
		s.Test = sorted(test)
		if p.Split.Validation > 0 {
			tr, va, verr := split.Random(len(train), p.Split.Validation, seed+1)
			if verr != nil {
				return nil, fmt.Errorf("validation split: %w", verr)
			}
			s.Train, s.Validation = sorted(pickIdx(train, tr)), sorted(pickIdx(train, va))
		} else {
			s.Train = sorted(train)
		}
		return s, nil
	}
}

func pickIdx(base, idx []int) []int {
	out := make([]int, len(idx))
	for k, i := range idx {
		out[k] = base[i]
	}
	return out
}

func sorted(s []int) []int {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []int{}
	}
	return s
}

// labelCodes gives each row's label as a number for stratifying; a
// missing label is an error naming the row.
func labelCodes(t *table.Table, label string) ([]float64, error) {
	c := t.Column(label)
	if c == nil {
		return nil, fmt.Errorf("no label column %q in the dataset (columns: %v)", label, t.Names())
	}
	out := make([]float64, t.Rows())
	codes := map[string]float64{}
	for i := range out {
		if c.IsNull(i) {
			return nil, fmt.Errorf("label %q is missing in row %d", label, i+1)
		}
		if c.Numeric() {
			out[i] = c.Number(i)
			continue
		}
		v, _ := c.Text(i)
		code, ok := codes[v]
		if !ok {
			code = float64(len(codes))
			codes[v] = code
		}
		out[i] = code
	}
	if len(codes) == 1 || (c.Numeric() && allSame(out)) {
		return nil, fmt.Errorf("label %q has only one class: a classifier needs both", label)
	}
	return out, nil
}

func allSame(v []float64) bool {
	for _, x := range v {
		if x != v[0] {
			return false
		}
	}
	return true
}

// timeValues reads the split's time column as numbers.
func timeValues(t *table.Table, name string) ([]float64, error) {
	c := t.Column(name)
	if c == nil {
		return nil, fmt.Errorf("split: no time column %q in the dataset", name)
	}
	if !c.Numeric() && c.Type != table.Timestamp {
		return nil, fmt.Errorf("split: time column %q is %s, want a timestamp or a number", name, c.Type)
	}
	out := make([]float64, t.Rows())
	for i := range out {
		if c.IsNull(i) {
			return nil, fmt.Errorf("split: time column %q is missing in row %d", name, i+1)
		}
		out[i] = c.Number(i)
	}
	return out, nil
}
