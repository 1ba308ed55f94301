package steps

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"

	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/datacheck"
	"github.com/slipway-ml/slipway/runners/dataset"
	"github.com/slipway-ml/slipway/runners/local"
	"github.com/slipway-ml/slipway/runners/report"
)

type validateStep struct{ c Config }

// Execute reads the fetched file with the declared column types, checks
// it against the columns and expectations, and stores it as Parquet. The
// checks go to the run directory (checks-<dataset>.json) whether they pass
// or not, so that the report shows why a run stopped.
func (v *validateStep) Execute(ctx context.Context, sc *local.StepContext) error {
	p, err := params[ir.ValidateParams](sc.Step)
	if err != nil {
		return err
	}
	in, err := input(sc, "raw/"+p.Dataset)
	if err != nil {
		return err
	}
	out, err := outputDir(sc, "dataset/"+p.Dataset)
	if err != nil {
		return err
	}
	ds := &spec.Dataset{Name: p.Dataset, Format: p.Format, Columns: map[string]*spec.Column{}, Expectations: p.Expectations}
	for _, c := range p.Columns {
		ds.Columns[c.Name] = c
	}
	t, err := dataset.ReadFile(filepath.Join(in, "data."+p.Format), p.Format, ds.Columns, dataset.AllowMissingColumns())
	if err != nil {
		msg := redactValues(err.Error(), ds)
		dc := report.DataChecks{Dataset: p.Dataset, Checks: []report.Check{{Name: "read", Failures: 1,
			Rule: fmt.Sprintf("the file is %s with the declared column types (%s)", p.Format, msg)}}}
		if werr := v.writeChecks(sc, p.Dataset, dc); werr != nil {
			return werr
		}
		return permanent(fmt.Errorf("read dataset %s: %s", p.Dataset, msg))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rep := datacheck.Check(t, ds)
	dc := toReport(rep)
	if err := v.writeChecks(sc, p.Dataset, dc); err != nil {
		return err
	}
	sc.Logf("%s: %d rows, %d of %d checks passed", p.Dataset, rep.Rows, rep.Summary.Passed, rep.Summary.Checks)
	if err := rep.Err(); err != nil {
		sc.Logf("%v", err)
		return permanent(err)
	}
	if err := writeJSON(filepath.Join(out, "checks.json"), rep); err != nil {
		return err
	}
	return dataset.WriteParquetFile(filepath.Join(out, "data.parquet"), t)
}

func (v *validateStep) writeChecks(sc *local.StepContext, name string, dc report.DataChecks) error {
	if sc.RunDir == "" {
		return nil
	}
	return writeJSON(filepath.Join(sc.RunDir, "checks-"+name+".json"), dc)
}

// toReport converts the checks for the run report.
func toReport(r *datacheck.Report) report.DataChecks {
	dc := report.DataChecks{Dataset: r.Dataset, Rows: r.Rows, Passed: r.Passed, Checks: []report.Check{}}
	for _, res := range r.Results {
		c := report.Check{Name: res.Check, Column: res.Column, Rule: res.Rule, Passed: res.Passed, Failures: res.Failing}
		if res.Message != "" {
			c.Rule += " (" + res.Message + ")"
		}
		for _, ex := range res.Examples {
			val := ex.Value
			if ex.Null {
				val = "(null)"
			}
			c.Examples = append(c.Examples, report.Example{Row: ex.Row, Value: val})
		}
		dc.Checks = append(dc.Checks, c)
	}
	for _, p := range r.Profile {
		cp := report.ColumnProfile{Name: p.Column, Type: p.Type, Count: p.Count, Nulls: p.Nulls, Min: p.Min, Max: p.Max, Mean: p.Mean}
		if p.Distinct != nil {
			cp.Distinct = *p.Distinct
		}
		dc.Profile = append(dc.Profile, cp)
	}
	return dc
}

// quotedValue matches the value a reader error quotes after a column name.
var quotedValue = regexp.MustCompile(`column "([^"]*)": "((?:[^"\\]|\\.)*)"`)

// redactValues hides the values of PII columns that a reader error quotes.
func redactValues(msg string, ds *spec.Dataset) string {
	return quotedValue.ReplaceAllStringFunc(msg, func(m string) string {
		sub := quotedValue.FindStringSubmatch(m)
		if c := ds.Columns[sub[1]]; c != nil && c.PII {
			return fmt.Sprintf("column %q: (pii value)", sub[1])
		}
		return m
	})
}
