// Package gen writes synthetic Slipway pipeline repositories for
// benchmarks: n packages, each a directory with one .cue file and a tiny
// CSV, varied deterministically (data domains, model kinds, gate sets,
// environments, transforms, monitoring, custom steps) so that together they
// exercise the schema the way a real repository does. Every generated
// package is valid: it compiles without errors under the default policy
// pack.
package gen

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"cuelang.org/go/cue/format"
)

// Repo writes n pipeline packages under dir, one directory each, named
// p000, p001, ... (see Dirs). Existing files of the same names are
// overwritten; nothing else in dir is touched.
func Repo(dir string, n int) error {
	for i := range n {
		name, files := Package(i)
		for rel, data := range files {
			p := filepath.Join(dir, name, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// Dirs returns the names of the package directories Repo(dir, n) writes, in
// order.
func Dirs(n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = dirName(i)
	}
	return out
}

func dirName(i int) string { return fmt.Sprintf("p%03d", i) }

// Package returns the i-th generated package: its directory name and its
// files, keyed by slash-separated path inside that directory. The result
// depends on i only.
func Package(i int) (dir string, files map[string][]byte) {
	g := newPipeline(i)
	dir = dirName(i)
	src, err := format.Source([]byte(g.cue())) // before csv: it chooses the timestamp layouts
	if err != nil {
		panic(fmt.Sprintf("gen: package %d is not valid CUE syntax: %v", i, err))
	}
	return dir, map[string][]byte{
		dir + ".cue":                    src,
		"data/" + g.th.dataset + ".csv": g.csv(24),
	}
}

// column is one column of a theme's dataset.
type column struct {
	name     string
	typ      string // int, float, bool, string, category, timestamp
	min, max string // numeric bounds as CUE literals, "" for none
	values   []string
	pii      bool
	id       bool // a unique identifier: never a feature
	nullable bool
}

// theme is a data domain: one dataset and the label predicted from it.
type theme struct {
	name     string
	dataset  string
	task     string // binary or regression
	label    string
	positive string
	group    string // column fairness gates group by ("" for none)
	time     string // timestamp column ("" for none)
	columns  []column
}

func num(name, typ, min, max string) column {
	return column{name: name, typ: typ, min: min, max: max}
}

func cat(name string, values ...string) column {
	return column{name: name, typ: "category", values: values}
}

var usStates = []string{"AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA", "WI", "WV", "WY"}

var themes = []theme{
	{
		name: "churn", dataset: "customers", task: "binary", label: "churn", positive: "yes", group: "international_plan",
		columns: []column{
			{name: "customer_id", typ: "string", id: true},
			cat("state", usStates...),
			num("account_length", "int", "0", ""),
			cat("area_code", "area_code_408", "area_code_415", "area_code_510"),
			cat("international_plan", "no", "yes"),
			cat("voice_mail_plan", "no", "yes"),
			num("number_vmail_messages", "int", "0", ""),
			num("total_day_minutes", "float", "0", ""),
			num("total_day_calls", "int", "0", ""),
			num("total_day_charge", "float", "0", ""),
			num("total_eve_minutes", "float", "0", ""),
			num("total_eve_calls", "int", "0", ""),
			num("total_night_minutes", "float", "0", ""),
			num("total_night_calls", "int", "0", ""),
			num("total_intl_minutes", "float", "0", ""),
			num("total_intl_calls", "int", "0", ""),
			num("number_customer_service_calls", "int", "0", "20"),
			cat("churn", "no", "yes"),
		},
	},
	{
		name: "credit", dataset: "applications", task: "binary", label: "defaulted", positive: "yes", group: "gender", time: "applied_at",
		columns: []column{
			{name: "applicant_id", typ: "string", id: true},
			num("age", "int", "18", "120"),
			num("income", "float", "0", ""),
			num("loan_amount", "float", "0", ""),
			num("term_months", "int", "1", "480"),
			num("employment_years", "int", "0", "70"),
			cat("home_ownership", "rent", "own", "mortgage", "other"),
			cat("purpose", "car", "home", "education", "business", "medical", "other"),
			num("credit_score", "int", "300", "850"),
			{name: "debt_to_income", typ: "float", min: "0", nullable: true},
			num("open_accounts", "int", "0", ""),
			num("delinquencies", "int", "0", ""),
			cat("region", "north", "south", "east", "west"),
			{name: "gender", typ: "category", values: []string{"f", "m", "x"}, pii: true},
			{name: "applied_at", typ: "timestamp"},
			cat("defaulted", "no", "yes"),
		},
	},
	{
		name: "fraud", dataset: "transactions", task: "binary", label: "is_fraud", positive: "fraud", group: "country", time: "ts",
		columns: []column{
			{name: "transaction_id", typ: "string", id: true},
			num("amount", "float", "0", ""),
			cat("merchant_category", "grocery", "travel", "electronics", "fuel", "restaurants", "online", "other"),
			cat("country", "de", "fr", "gb", "nl", "us", "other"),
			{name: "card_present", typ: "bool"},
			num("hour", "int", "0", "23"),
			num("account_age_days", "int", "0", ""),
			num("transactions_24h", "int", "0", ""),
			num("amount_avg_30d", "float", "0", ""),
			{name: "device", typ: "string"},
			{name: "email", typ: "string", pii: true},
			{name: "ts", typ: "timestamp"},
			cat("is_fraud", "legit", "fraud"),
		},
	},
	{
		name: "house", dataset: "sales", task: "regression", label: "price", time: "listed_at",
		columns: []column{
			{name: "listing_id", typ: "string", id: true},
			num("sqft", "float", "0", ""),
			num("bedrooms", "int", "0", "20"),
			num("bathrooms", "float", "0", "20"),
			num("year_built", "int", "1800", "2030"),
			{name: "lot_size", typ: "float", min: "0", nullable: true},
			cat("neighborhood", "downtown", "riverside", "hills", "harbor", "university", "suburbs"),
			cat("condition", "poor", "fair", "good", "excellent"),
			{name: "garage", typ: "bool"},
			num("distance_to_center_km", "float", "0", ""),
			{name: "listed_at", typ: "timestamp"},
			num("price", "float", "0", ""),
		},
	},
	{
		name: "ctr", dataset: "impressions", task: "binary", label: "clicked", positive: "yes", group: "device_type",
		columns: []column{
			{name: "impression_id", typ: "string", id: true},
			{name: "ad_id", typ: "string"},
			cat("campaign", "spring", "summer", "autumn", "winter", "evergreen"),
			cat("site", "news", "sports", "video", "social", "search"),
			cat("device_type", "desktop", "mobile", "tablet"),
			num("hour", "int", "0", "23"),
			{name: "user_age", typ: "int", min: "13", max: "120", nullable: true},
			num("position", "int", "1", "10"),
			num("bid", "float", "0", ""),
			cat("clicked", "no", "yes"),
		},
	},
	{
		name: "demand", dataset: "weekly-sales", task: "regression", label: "units_sold",
		columns: []column{
			cat("store", "s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08"),
			{name: "product_id", typ: "string"},
			num("week", "int", "1", "53"),
			num("price", "float", "0", ""),
			{name: "promo", typ: "bool"},
			{name: "holiday", typ: "bool"},
			{name: "temperature", typ: "float", min: "-60", max: "60", nullable: true},
			num("competitor_price", "float", "0", ""),
			num("units_last_week", "int", "0", ""),
			num("units_sold", "int", "0", ""),
		},
	},
}

// pipeline is one generated package in the making.
type pipeline struct {
	i      int
	name   string
	pkg    string
	th     theme
	r      *rand.Rand
	b      strings.Builder
	ind    int
	scaled []string          // float columns declared and transformed by comprehensions
	layout map[string]string // timestamp layouts other than RFC 3339, by column
	hidden []string          // top-level hidden fields written after the pipeline
}

func newPipeline(i int) *pipeline {
	th := themes[i%len(themes)]
	return &pipeline{
		i:    i,
		name: fmt.Sprintf("%s-%03d", th.name, i),
		pkg:  dirName(i),
		th:   th,
		r:    rand.New(rand.NewPCG(uint64(i), 0x51197a7)),
	}
}

// line writes one line at the current indentation; a trailing "{" or "["
// indents what follows, a leading "}" or "]" closes first.
func (g *pipeline) line(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if strings.HasPrefix(s, "}") || strings.HasPrefix(s, "]") {
		g.ind--
	}
	if s != "" {
		g.b.WriteString(strings.Repeat("\t", g.ind))
	}
	g.b.WriteString(s)
	g.b.WriteByte('\n')
	if strings.HasSuffix(s, "{") || strings.HasSuffix(s, "[") {
		g.ind++
	}
}

func (g *pipeline) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *pipeline) chance(p float64) bool { return g.r.Float64() < p }

func (g *pipeline) col(name string) column {
	for _, c := range g.th.columns {
		if c.name == name {
			return c
		}
	}
	panic("gen: no column " + name)
}

func quote(s string) string { return strconv.Quote(s) }

func quoteAll(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = quote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// label quotes a field label when it is not a plain identifier.
func label(s string) string {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return quote(s)
		}
	}
	return s
}

// featureCols are the columns a model may use: not the label, ids or pii.
func (g *pipeline) featureCols(types ...string) []column {
	var out []column
	for _, c := range g.th.columns {
		if c.name == g.th.label || c.id || c.pii || !slices.Contains(types, c.typ) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func (g *pipeline) cue() string {
	th := g.th
	model := g.model()
	envs := g.r.IntN(4) // 0: no deploy, 1: staging, 2: staging and production, 3: dev, staging and prod
	groupGate := th.group != "" && th.task == "binary" && g.chance(0.4)
	if g.chance(0.35) {
		for _, c := range g.featureCols("float") {
			if c.min == "0" && c.max == "" && !c.nullable {
				g.scaled = append(g.scaled, c.name)
			}
		}
	}

	g.line("package %s", g.pkg)
	g.line("")
	g.line("// %s: generated benchmark pipeline %d (%s data, %s model).", g.name, g.i, th.name, model)
	g.line("pipelines: %s: {", quote(g.name))
	g.line("description: %s", quote(fmt.Sprintf("Predict %s from %s (generated).", th.label, th.dataset)))
	g.line("owner:       %s", quote(g.pick("growth-ml", "risk-ml", "ads-ml", "pricing-ml", "platform-ml")))
	if g.chance(0.5) {
		g.line("labels: {team: %s, tier: %s}", quote(g.pick("alpha", "beta", "gamma")), quote(g.pick("gold", "silver", "bronze")))
	}
	g.line("")
	g.dataset()
	g.line("")
	g.features(groupGate)
	g.line("")
	g.training(model)
	g.line("")
	g.gates(groupGate)
	if envs > 0 {
		g.line("")
		g.artifact(envs >= 2 || g.chance(0.5))
		g.line("")
		g.deploy(envs)
		if g.chance(0.7) {
			g.line("")
			g.monitoring()
		}
	}
	if g.chance(0.3) {
		g.line("")
		g.steps()
	}
	g.line("}")
	if len(g.scaled) > 0 {
		g.hidden = append(g.hidden, "_scaled: "+quoteAll(g.scaled))
	}
	for _, h := range g.hidden {
		g.line("")
		g.line("%s", h)
	}
	return g.b.String()
}

func (g *pipeline) model() string {
	if g.th.task == "regression" {
		return []string{"gbdt", "mlp", "custom", "gbdt"}[(g.i/len(themes))%4]
	}
	return []string{"logistic", "gbdt", "mlp", "custom"}[(g.i/len(themes))%4]
}

func (g *pipeline) dataset() {
	th := g.th
	g.line("datasets: %s: {", label(th.dataset))
	g.line("source: %s", quote("data/"+th.dataset+".csv"))
	g.line("format: \"csv\"")
	g.line("columns: {")
	if len(g.scaled) > 0 {
		g.line("for c in _scaled {(c): {type: \"float\", min: 0}}")
	}
	for _, c := range th.columns {
		if slices.Contains(g.scaled, c.name) {
			continue
		}
		f := []string{"type: " + quote(c.typ)}
		if c.min != "" {
			f = append(f, "min: "+c.min)
		}
		if c.max != "" {
			f = append(f, "max: "+c.max)
		}
		if len(c.values) > 10 {
			f = append(f, "values: _"+c.name)
			g.hidden = append(g.hidden, "_"+c.name+": "+quoteAll(c.values))
		} else if len(c.values) > 0 {
			f = append(f, "values: "+quoteAll(c.values))
		}
		if c.nullable {
			f = append(f, "nullable: true")
		}
		if c.id {
			f = append(f, "unique: true")
		}
		if c.pii {
			f = append(f, "pii: true")
		}
		if c.typ == "timestamp" && g.chance(0.3) {
			g.layout = map[string]string{c.name: "2006-01-02 15:04:05"}
			f = append(f, "layout: "+quote(g.layout[c.name]))
		}
		g.line("%s: {%s}", label(c.name), strings.Join(f, ", "))
	}
	g.line("}")
	g.line("expectations: {")
	g.line("minRows: %d", 100*(1+g.r.IntN(50)))
	if g.chance(0.5) {
		g.line("maxRows: %d", 1000000*(1+g.r.IntN(10)))
	}
	g.line("maxNullFraction: %s: 0", label(th.label))
	for _, c := range th.columns {
		if c.id {
			g.line("unique: [%s]", quote(c.name))
			break
		}
	}
	if nums := g.featureCols("int", "float"); g.chance(0.6) {
		c := nums[g.r.IntN(len(nums))]
		lo := c.min
		if lo == "" {
			lo = "-100"
		}
		g.line("ranges: %s: {min: %s, max: %d}", label(c.name), lo, 1000+g.r.IntN(100000))
	}
	g.line("}")
	g.line("}")
}

func (g *pipeline) features(groupGate bool) {
	th := g.th
	g.line("features: {")
	g.line("dataset:  %s", quote(th.dataset))
	g.line("label:    %s", quote(th.label))
	if th.positive != "" {
		g.line("positive: %s", quote(th.positive))
	}
	var drop []string
	for _, c := range th.columns {
		if c.id {
			drop = append(drop, c.name)
		}
	}
	if g.chance(0.3) {
		if cs := g.featureCols("string"); len(cs) > 0 {
			drop = append(drop, cs[0].name)
		}
	}
	if len(drop) > 0 {
		g.line("drop: %s", quoteAll(drop))
	}
	g.line("transforms: {")
	if len(g.scaled) > 0 {
		g.line("for c in _scaled {(c): [{op: \"standardize\"}]}")
	}
	for _, c := range g.featureCols("int", "float", "bool", "string", "category", "timestamp") {
		if slices.Contains(g.scaled, c.name) || slices.Contains(drop, c.name) || !g.chance(0.65) {
			continue
		}
		var ts []string
		if c.nullable {
			if g.chance(0.5) {
				ts = append(ts, `{op: "impute", strategy: "constant", value: 0}`)
			} else {
				ts = append(ts, fmt.Sprintf(`{op: "impute", strategy: %s}`, quote(g.pick("median", "mean"))))
			}
		}
		switch c.typ {
		case "int", "float":
			ops := []string{"standardize", "minmax", "clip", "bucketize"}
			if c.min != "" && !strings.HasPrefix(c.min, "-") {
				ops = append(ops, "log1p", "log1p")
			}
			switch op := g.pick(ops...); op {
			case "clip":
				ts = append(ts, fmt.Sprintf(`{op: "clip", max: %d}`, 10+g.r.IntN(1000)))
			case "bucketize":
				a := g.r.IntN(20)
				ts = append(ts, fmt.Sprintf(`{op: "bucketize", boundaries: [%d, %d, %d, %d]}`, a, a+5, a+20, a+100))
			default:
				ts = append(ts, fmt.Sprintf(`{op: %s}`, quote(op)))
			}
		case "category":
			if len(c.values) > 10 || g.chance(0.7) {
				ts = append(ts, fmt.Sprintf(`{op: "onehot", maxCategories: %d}`, max(2, len(c.values))))
			} else {
				ts = append(ts, `{op: "hash", buckets: 64}`)
			}
		case "string":
			ts = append(ts, fmt.Sprintf(`{op: "hash", buckets: %d}`, 1<<(8+g.r.IntN(6))))
		case "bool":
			ts = append(ts, `{op: "onehot", unknown: "error"}`)
		case "timestamp":
			if g.chance(0.5) {
				ts = append(ts, `{op: "dateparts"}`)
			} else {
				ts = append(ts, `{op: "dateparts", parts: ["month", "weekday", "hour"]}`)
			}
		}
		g.line("%s: [%s]", label(c.name), strings.Join(ts, ", "))
	}
	g.line("}")
	if groupGate && g.col(th.group).pii {
		g.line(`pii: {action: "pseudonymize", keySecret: "PII_HMAC_KEY"}`)
	}
	g.line("}")
}

func (g *pipeline) training(model string) {
	th := g.th
	g.line("training: {")
	g.line("model: %s", quote(model))
	if th.task == "regression" {
		g.line(`task:  "regression"`)
	}
	g.line("seed:  %d", g.r.IntN(1000))
	gpu := model == "mlp" && g.chance(0.5)
	if gpu {
		g.line(`device: "gpu"`)
	} else if model == "logistic" || model == "gbdt" && g.chance(0.5) {
		g.line(`device: "cpu"`)
	}
	split := fmt.Sprintf("test: %s, validation: %s", g.pick("0.2", "0.25", "0.15"), g.pick("0.1", "0.15"))
	if th.task == "regression" {
		split += ", stratified: false"
	}
	if th.time != "" && g.chance(0.4) {
		split += ", timeColumn: " + quote(th.time)
	}
	g.line("split: {%s}", split)
	if g.chance(0.3) {
		g.line("crossValidation: folds: %d", 3+g.r.IntN(8))
	}
	if th.task == "binary" && g.chance(0.4) {
		if g.chance(0.5) {
			g.line(`classWeights: "balanced"`)
		} else {
			vals := g.col(th.label).values
			g.line("classWeights: {%s: 1.0, %s: %d.0}", label(vals[0]), label(vals[1]), 2+g.r.IntN(8))
		}
	}
	switch model {
	case "logistic":
		g.line("logistic: {C: %s, l1Ratio: %s, maxIter: %d}", g.pick("0.1", "0.5", "1.0", "10.0"), g.pick("0.0", "0.2", "0.5"), 100*(1+g.r.IntN(5)))
	case "gbdt":
		g.line("gbdt: {")
		g.line("trees:               %d", 100*(1+g.r.IntN(10)))
		g.line("learningRate:        %s", g.pick("0.03", "0.05", "0.1", "0.2"))
		if g.chance(0.3) {
			g.line(`growPolicy:          "lossguide"`)
			g.line("maxDepth:            0")
			g.line("maxLeaves:           %d", 31+g.r.IntN(100))
		} else {
			g.line("maxDepth:            %d", 3+g.r.IntN(8))
		}
		if g.chance(0.5) {
			g.line("subsample:           %s", g.pick("0.7", "0.8", "0.9"))
			g.line("colsampleByTree:     %s", g.pick("0.6", "0.8", "1.0"))
		}
		g.line("earlyStoppingRounds: %d", 10+g.r.IntN(40))
		g.line("}")
	case "mlp":
		g.line("mlp: {")
		g.line("hiddenUnits:  [%d, %d]", 64<<g.r.IntN(3), 32<<g.r.IntN(3))
		g.line("dropout:      %s", g.pick("0.0", "0.1", "0.2"))
		g.line("batchSize:    %d", 64<<g.r.IntN(4))
		g.line("learningRate: %s", g.pick("0.001", "0.0005", "0.003"))
		g.line("epochs:       %d", 50*(1+g.r.IntN(6)))
		g.line("}")
	case "custom":
		g.line("custom: {")
		g.line("image: %s", quote(fmt.Sprintf("ghcr.io/acme/trainers/%s:1.%d.0", th.name, g.r.IntN(10))))
		g.line("command: [\"python\", \"-m\", \"train\", \"--label\", %s]", quote(th.label))
		g.line(`env: {LOG_LEVEL: "info", PYTHONHASHSEED: "0"}`)
		if g.chance(0.5) {
			g.line(`secrets: WANDB_API_KEY: "WANDB_KEY"`)
		}
		g.line("}")
	}
	g.line("resources: {")
	g.line("cpu:    %s", quote(g.pick("1", "2", "4", "8", "500m")))
	g.line("memory: %s", quote(g.pick("2Gi", "4Gi", "8Gi", "16Gi")))
	if gpu {
		gpuType := g.pick("nvidia-l4", "nvidia-a100", "nvidia-h100")
		g.line("gpu: {")
		g.line("count: %d", 1+g.r.IntN(2))
		g.line("type:  %s", quote(gpuType))
		g.line("runnerLabels: [\"self-hosted\", \"linux\", %s]", quote("gpu-"+strings.TrimPrefix(gpuType, "nvidia-")))
		if g.chance(0.5) {
			g.line("nodeSelector: \"nvidia.com/gpu.product\": %s", quote(strings.ToUpper(gpuType)))
		}
		g.line("}")
	}
	g.line("}")
	g.line("timeout: %s", quote(g.pick("30m", "1h", "2h", "1h30m")))
	if g.chance(0.4) {
		g.line("retries: %d", 1+g.r.IntN(3))
	}
	g.line("}")
}

func (g *pipeline) gates(groupGate bool) {
	th := g.th
	g.line("gates: {")
	if th.task == "regression" {
		switch g.r.IntN(3) {
		case 0:
			g.line(`rmse: {metric: "rmse", max: %d}`, 100+g.r.IntN(10000))
		case 1:
			g.line(`r2: {metric: "r2", min: %s}`, g.pick("0.5", "0.6", "0.7"))
			g.line(`mae: {metric: "mae", max: %d, maxRegression: %d}`, 50+g.r.IntN(500), 1+g.r.IntN(20))
		default:
			g.line(`r2: {metric: "r2", min: %s, split: "validation"}`, g.pick("0.5", "0.6"))
			g.line(`rmse: {metric: "rmse", maxRegression: %d}`, 1+g.r.IntN(50))
		}
	} else {
		switch g.r.IntN(4) {
		case 0:
			g.line(`auc: {metric: "roc_auc", min: %s}`, g.pick("0.7", "0.75", "0.8", "0.85"))
		case 1:
			g.line(`auc: {metric: "roc_auc", min: %s, maxRegression: 0.02}`, g.pick("0.7", "0.8"))
			g.line(`f1: {metric: "f1", min: %s}`, g.pick("0.5", "0.6"))
			g.line(`recall: {metric: "recall", min: %s}`, g.pick("0.4", "0.6"))
		case 2:
			g.line(`"pr-auc": {metric: "pr_auc", min: %s, maxRegression: 0.02}`, g.pick("0.3", "0.5"))
			g.line(`"log-loss": {metric: "log_loss", max: %s}`, g.pick("0.4", "0.6"))
		default:
			g.line(`accuracy: {metric: "accuracy", min: %s, split: "validation"}`, g.pick("0.8", "0.9"))
			g.line(`precision: {metric: "precision", min: 0.5}`)
		}
		if groupGate {
			switch g.r.IntN(3) {
			case 0:
				g.line(`%s: {metric: "demographic_parity_difference", group: %s, max: %s}`, quote(gateName(th.group, "parity")), quote(th.group), g.pick("0.1", "0.2", "0.3"))
			case 1:
				g.line(`%s: {metric: "equal_opportunity_difference", group: %s, max: 0.1}`, quote(gateName(th.group, "opportunity")), quote(th.group))
			default:
				g.line(`%s: {metric: "disparate_impact", group: %s, min: 0.8}`, quote(gateName(th.group, "impact")), quote(th.group))
			}
		}
	}
	g.line("}")
}

func (g *pipeline) artifact(signed bool) {
	g.line("artifact: {")
	g.line("repository: %s", quote("ghcr.io/acme/models/"+g.name))
	if signed {
		if g.chance(0.3) {
			g.line(`signing: {key: "COSIGN_KEY", passwordSecret: "COSIGN_PASSWORD"}`)
		} else {
			g.line(`signing: key: "COSIGN_KEY"`)
		}
	}
	g.line("annotations: %s: %s", quote("org.opencontainers.image.title"), quote(g.name))
	if g.chance(0.5) {
		g.line("annotations: %s: %s", quote("org.opencontainers.image.vendor"), quote("acme"))
	}
	g.line("}")
}

func (g *pipeline) deploy(envs int) {
	g.line("deploy: environments: {")
	switch envs {
	case 1:
		g.line(`staging: {namespace: "ml-staging", replicas: %d}`, 1+g.r.IntN(2))
	case 2:
		g.line(`staging: {namespace: "ml-staging", replicas: 1}`)
		g.line("production: {")
		g.line(`namespace:    "ml"`)
		g.line(`promoteAfter: "staging"`)
		g.line("approval:     true")
		g.line("autoscaling: {minReplicas: %d, maxReplicas: %d}", 2, 4+g.r.IntN(8))
		g.line("rollout: {")
		g.line(`strategy: "canary"`)
		g.line(`steps: [{weight: 10, pause: %s}, {weight: 50, pause: "30m"}, {weight: 100}]`, quote(g.pick("5m", "10m", "15m")))
		g.line("}")
		g.line("}")
	default:
		g.line(`dev: {namespace: "ml-dev", resources: {cpu: "250m", memory: "256Mi"}}`)
		g.line("staging: {")
		g.line(`namespace:    "ml-staging"`)
		g.line(`promoteAfter: "dev"`)
		g.line(`rollout: {strategy: "shadow", mirrorPercent: %d, duration: "2h"}`, 10*(1+g.r.IntN(10)))
		g.line("}")
		g.line("prod: {")
		g.line(`namespace:    "ml"`)
		g.line(`promoteAfter: "staging"`)
		g.line("approval:     true")
		g.line("replicas:     %d", 2+g.r.IntN(6))
		g.line(`resources: {cpu: "1", memory: "1Gi"}`)
		g.line(`probes: initialDelay: "15s"`)
		if g.chance(0.4) {
			g.line(`server: {kind: "custom", image: %s, port: 9000}`, quote("ghcr.io/acme/servers/"+g.th.name+":2.0.1"))
		}
		g.line("}")
	}
	g.line("}")
}

func (g *pipeline) monitoring() {
	g.line("monitoring: {")
	if g.chance(0.7) {
		g.line("slo: {latencyP95: %s, errorRate: %s}", quote(g.pick("100ms", "250ms", "500ms")), g.pick("0.001", "0.005", "0.01"))
	}
	drift := g.chance(0.7)
	if drift {
		method := g.pick("psi", "ks", "wasserstein", "jsd")
		g.line("drift: {")
		g.line("method: %s", quote(method))
		g.line("window: %s", quote(g.pick("6h", "24h", "168h")))
		nums := g.featureCols("int", "float")
		a, b := g.r.IntN(len(nums)), g.r.IntN(len(nums))
		g.line("features: {")
		g.line("%s: threshold: %s", label(nums[a].name), g.pick("0.1", "0.2", "0.25"))
		if b != a {
			g.line("%s: threshold: %s", label(nums[b].name), g.pick("0.1", "0.2", "0.25"))
		}
		g.line("}")
		g.line("}")
	}
	if g.chance(0.4) {
		g.line(`alerts: "high-latency": {`)
		g.line(`expr:     "histogram_quantile(0.95, sum(rate(slipway_request_seconds_bucket{pipeline=\"%s\"}[5m])) by (le)) > 0.5"`, g.name)
		g.line(`for:      "10m"`)
		g.line(`severity: "critical"`)
		g.line(`summary:  "p95 latency above 500ms"`)
		g.line("}")
	}
	switch {
	case drift:
		g.line("retraining: {onDrift: true, schedule: %s}", quote(g.pick("0 3 * * 1", "30 2 * * *", "@weekly", "0 */6 * * *")))
	case g.chance(0.5):
		g.line(`retraining: {onDrift: false, onNewData: true, schedule: "@daily"}`)
	}
	g.line("notifications: [{channel: %s, secret: %s}]", quote(g.pick("slack", "email", "pagerduty")), quote(g.pick("SLACK_WEBHOOK_URL", "ALERTS_TOKEN")))
	g.line("}")
}

func (g *pipeline) steps() {
	g.line("steps: {")
	g.line("explain: {")
	g.line(`image:   "ghcr.io/acme/tools/shap:0.4.2"`)
	g.line(`command: ["python", "-m", "explain", "--top", "20"]`)
	g.line(`inputs: ["model", "features"]`)
	g.line(`outputs: ["report"]`)
	g.line(`resources: {cpu: "1", memory: "2Gi"}`)
	g.line(`timeout: "20m"`)
	g.line("}")
	if g.chance(0.5) {
		g.line(`"publish-report": {`)
		g.line(`image:   "ghcr.io/acme/tools/publish:1.0.0"`)
		g.line(`command: ["publish", "--channel", "ml-reports"]`)
		g.line(`inputs: ["step/explain/report", "evaluation"]`)
		g.line(`secrets: REPORT_TOKEN: "REPORTS_TOKEN"`)
		g.line(`resources: {}`)
		g.line("}")
	}
	g.line("}")
}

// csv renders rows rows of plausible data for the theme's columns.
func (g *pipeline) csv(rows int) []byte {
	r := rand.New(rand.NewPCG(uint64(g.i), 0xc5f))
	var b strings.Builder
	for i, c := range g.th.columns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.name)
	}
	b.WriteByte('\n')
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for row := range rows {
		for i, c := range g.th.columns {
			if i > 0 {
				b.WriteByte(',')
			}
			if c.nullable && r.IntN(10) == 0 {
				continue
			}
			lo, hi := 0.0, 1000.0
			if c.min != "" {
				lo, _ = strconv.ParseFloat(c.min, 64)
			}
			if c.max != "" {
				hi, _ = strconv.ParseFloat(c.max, 64)
			}
			switch c.typ {
			case "int":
				fmt.Fprintf(&b, "%d", int(lo)+r.IntN(int(hi-lo)+1))
			case "float":
				fmt.Fprintf(&b, "%.2f", lo+r.Float64()*(hi-lo))
			case "bool":
				b.WriteString(strconv.FormatBool(r.IntN(2) == 0))
			case "category":
				b.WriteString(c.values[r.IntN(len(c.values))])
			case "string":
				if c.pii {
					fmt.Fprintf(&b, "user%d@example.com", r.IntN(100000))
				} else {
					fmt.Fprintf(&b, "%s-%06d", c.name[:1], g.i*1000+row)
				}
			case "timestamp":
				layout := time.RFC3339
				if l, ok := g.layout[c.name]; ok {
					layout = l
				}
				b.WriteString(t0.Add(time.Duration(r.IntN(365*24)) * time.Hour).Format(layout))
			}
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// gateName names a fairness gate after its group column: gate names are
// #Name, so underscores become dashes.
func gateName(group, what string) string {
	return strings.ReplaceAll(group, "_", "-") + "-" + what
}
