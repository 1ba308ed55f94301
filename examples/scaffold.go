// Package examples holds the example pipelines users copy from (one
// directory each) and the template `slipway init` scaffolds.
package examples

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"text/template"
)

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

var specTemplate = template.Must(template.New("spec").Parse(`package {{.Package}}

// {{.Name}}: a starting point. Edit the columns to match your data, then run
// slipway validate . and slipway compile . --target local --out build/.
pipelines: "{{.Name}}": {
	description: "Predict whether a customer churns."
	datasets: customers: {
		source: "data/customers.csv"
		columns: {
			tenure_months: {type: "int", min: 0}
			monthly_charges: {type: "float", min: 0}
			contract: {type: "category", values: ["month", "year"]}
			churned: {type: "category", values: ["no", "yes"]}
		}
		expectations: minRows: 100
	}
	features: {
		dataset:  "customers"
		label:    "churned"
		positive: "yes"
		transforms: monthly_charges: [{op: "standardize"}]
	}
	training: model: "gbdt"
	gates: auc: {metric: "roc_auc", min: 0.7}
}
`))

// Scaffold returns the files of a new pipeline package named name: the
// spec and a small sample dataset, keyed by slash-separated path. The
// result validates as it is.
func Scaffold(name string) (map[string][]byte, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("invalid pipeline name %q: use lower-case letters, digits and dashes, starting with a letter", name)
	}
	var spec bytes.Buffer
	pkg := regexp.MustCompile(`[^a-z0-9]`).ReplaceAllString(name, "_")
	if err := specTemplate.Execute(&spec, struct{ Name, Package string }{name, pkg}); err != nil {
		return nil, fmt.Errorf("render template: %w", err)
	}
	return map[string][]byte{
		name + ".cue":        spec.Bytes(),
		"data/customers.csv": sampleData(300),
	}, nil
}

// sampleData makes a deterministic churn-like dataset: customers on short
// monthly contracts with high charges churn more often.
func sampleData(rows int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	b.WriteString("tenure_months,monthly_charges,contract,churned\n")
	for range rows {
		tenure := r.IntN(72)
		charges := 20 + r.Float64()*100
		contract := "month"
		if r.Float64() < 0.4 {
			contract = "year"
		}
		z := -1.0 - 0.04*float64(tenure) + 0.03*(charges-70)
		if contract == "month" {
			z += 1.2
		}
		churned := "no"
		if r.Float64() < 1/(1+math.Exp(-z)) {
			churned = "yes"
		}
		fmt.Fprintf(&b, "%d,%.2f,%s,%s\n", tenure, charges, contract, churned)
	}
	return b.Bytes()
}
