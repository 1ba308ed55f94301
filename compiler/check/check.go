// Package check runs the checks CUE's schema cannot express: cross
// references (the label is a column of the dataset, a gate's metric fits the
// model's task, a transform names a real column), durations, quantities, cron
// schedules and source URLs. Every finding names the place the user wrote.
package check

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/internal/suggest"
	"github.com/slipway-ml/slipway/compiler/spec"
)

// Rule names of the checks in this package.
const (
	RuleReference = "reference"
	RuleValue     = "value"
	RuleSource    = "source"
)

// Locator finds where the user wrote a path, or its nearest ancestor.
type Locator interface {
	Lookup(path []string) (diag.Pos, bool)
}

// Check runs every cross-reference and value check on a decoded spec.
func Check(s *spec.Spec, loc Locator) diag.Diagnostics {
	c := &checker{loc: loc}
	if len(s.Pipelines) == 0 {
		c.errorf(cuePath{}, RuleReference, "the package declares no pipelines: add pipelines: NAME: {...} (see `slipway init`)")
	}
	for _, name := range sortedKeys(s.Pipelines) {
		c.pipeline(s.Pipelines[name])
	}
	return c.ds.Sort()
}

// Pinned reports every remote dataset source that neither its sha256 nor
// the lock pins: runs and compiled targets must read exactly known
// content. locked returns the lock's digest of a pipeline's dataset.
func Pinned(s *spec.Spec, loc Locator, locked func(pipeline, dataset string) string) diag.Diagnostics {
	c := &checker{loc: loc}
	for _, name := range sortedKeys(s.Pipelines) {
		p := s.Pipelines[name]
		for _, dn := range sortedKeys(p.Datasets) {
			d := p.Datasets[dn]
			src, err := ParseSource(d.Source)
			if err != nil || src.Local || d.SHA256 != "" || locked(name, dn) != "" {
				continue
			}
			c.errorf(cuePath{"pipelines", name, "datasets", dn, "source"}, RuleSource,
				"remote source %q needs a sha256 checksum (run `slipway lock` or set sha256)", d.Source)
		}
	}
	return c.ds.Sort()
}

type checker struct {
	loc Locator
	ds  diag.Diagnostics
}

// cuePath is a CUE path under construction.
type cuePath []string

func (p cuePath) with(labels ...string) cuePath {
	return append(slices.Clone(p), labels...)
}

func (c *checker) errorf(p cuePath, rule, format string, args ...any) {
	pos, _ := c.loc.Lookup(p)
	c.ds.Errorf(pos, diag.JoinPath(p), rule, format, args...)
}

func (c *checker) warnf(p cuePath, rule, format string, args ...any) {
	pos, _ := c.loc.Lookup(p)
	c.ds.Warnf(pos, diag.JoinPath(p), rule, format, args...)
}

// written reports whether the user wrote p, rather than leaving it to its
// default.
func (c *checker) written(p cuePath) bool {
	_, found := c.loc.Lookup(p)
	return found
}

// classification and regression metrics, by the task they fit.
var (
	binaryMetrics     = set("roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "log_loss")
	regressionMetrics = set("rmse", "mae", "r2")
	fairnessMetrics   = set("demographic_parity_difference", "equal_opportunity_difference", "disparate_impact")
	numericTypes      = set("int", "float")
)

func (c *checker) pipeline(p *spec.Pipeline) {
	base := cuePath{"pipelines", p.Name}
	for _, k := range sortedKeys(p.Labels) {
		c.label(base.with("labels", k), k, p.Labels[k])
	}
	for _, name := range sortedKeys(p.Datasets) {
		c.dataset(base.with("datasets", name), p.Datasets[name])
	}
	ds := c.features(base.with("features"), p)
	c.training(base.with("training"), p, ds)
	for _, name := range sortedKeys(p.Gates) {
		c.gate(base.with("gates", name), p, p.Gates[name], ds)
	}
	if len(p.Gates) == 0 {
		c.warnf(base, RuleReference, "no gates: any trained model would be packaged")
	}
	if p.Deploy != nil {
		c.deploy(base.with("deploy"), p)
	}
	if p.Monitoring != nil {
		c.monitoring(base.with("monitoring"), p, ds)
	}
	for _, name := range sortedKeys(p.Steps) {
		st := p.Steps[name]
		sp := base.with("steps", name)
		c.resources(sp.with("resources"), st.Resources)
		c.duration(sp.with("timeout"), st.Timeout)
		c.container(sp, st.Container)
	}
}

// labelNameRE and labelValueRE are the forms of a Kubernetes label's name
// (after any "prefix/") and value.
var (
	labelNameRE   = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	labelPrefixRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	labelValueRE  = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
)

// label checks a pipeline label, which is copied onto Kubernetes objects.
func (c *checker) label(p cuePath, key, value string) {
	name := key
	if prefix, rest, ok := strings.Cut(key, "/"); ok {
		if len(prefix) > 253 || !labelPrefixRE.MatchString(prefix) {
			c.errorf(p, RuleValue, "label key %q: the prefix before / must be a DNS name such as \"example.com\"", key)
			return
		}
		name = rest
	}
	if !labelNameRE.MatchString(name) {
		c.errorf(p, RuleValue, "label key %q is not a Kubernetes label name: at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit", key)
	}
	if !labelValueRE.MatchString(value) {
		c.errorf(p, RuleValue, "label value %q is not a Kubernetes label value: at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit", value)
	}
}

// envNameRE is the form of an environment variable name.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// container checks the environment variables a container step sets.
func (c *checker) container(p cuePath, ct spec.Container) {
	for _, field := range []struct {
		name string
		m    map[string]string
	}{{"env", ct.Env}, {"secrets", ct.Secrets}} {
		for _, k := range sortedKeys(field.m) {
			if !envNameRE.MatchString(k) {
				c.errorf(p.with(field.name, k), RuleValue, "%q is not an environment variable name: use letters, digits and _, not starting with a digit", k)
			}
		}
	}
}

func (c *checker) dataset(p cuePath, d *spec.Dataset) {
	_, err := ParseSource(d.Source)
	if err != nil {
		c.errorf(p.with("source"), RuleSource, "%v", err)
	}
	for _, name := range sortedKeys(d.Columns) {
		col := d.Columns[name]
		cp := p.with("columns", name)
		if (col.Min != nil || col.Max != nil) && !numericTypes[col.Type] {
			c.errorf(cp, RuleValue, "min and max apply to int and float columns, not %s", col.Type)
		}
		if col.Min != nil && col.Max != nil && *col.Min > *col.Max {
			c.errorf(cp.with("min"), RuleValue, "min %v is greater than max %v", *col.Min, *col.Max)
		}
		if col.Type == "category" && len(col.Values) > 0 {
			if dup := firstDuplicate(col.Values); dup != "" {
				c.errorf(cp.with("values"), RuleValue, "category value %q is listed twice", dup)
			}
		}
	}
	if e := d.Expectations; e != nil {
		ep := p.with("expectations")
		if e.MinRows != nil && e.MaxRows != nil && *e.MinRows > *e.MaxRows {
			c.errorf(ep.with("minRows"), RuleValue, "minRows %d is greater than maxRows %d", *e.MinRows, *e.MaxRows)
		}
		for _, col := range sortedKeys(e.MaxNullFraction) {
			c.column(ep.with("maxNullFraction", col), d, col)
		}
		for i, u := range e.Unique {
			for _, col := range strings.Split(u, ",") {
				c.column(ep.with("unique", fmt.Sprint(i)), d, strings.TrimSpace(col))
			}
		}
		for _, col := range sortedKeys(e.Ranges) {
			if c.column(ep.with("ranges", col), d, col) && !numericTypes[d.Columns[col].Type] {
				c.errorf(ep.with("ranges", col), RuleValue, "ranges apply to int and float columns; %q is %s", col, d.Columns[col].Type)
			}
		}
	}
}

// column reports whether col is a declared column of d, and an error if d
// declares columns and col is not one of them.
func (c *checker) column(p cuePath, d *spec.Dataset, col string) bool {
	if len(d.Columns) == 0 {
		return false
	}
	if _, ok := d.Columns[col]; ok {
		return true
	}
	msg := fmt.Sprintf("dataset %q has no column %q", d.Name, col)
	if s := suggest.Nearest(col, slices.Collect(maps.Keys(d.Columns))); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	c.errorf(p, RuleReference, "%s", msg)
	return false
}

// features checks the features block and returns its dataset, or nil.
func (c *checker) features(p cuePath, pl *spec.Pipeline) *spec.Dataset {
	f := pl.Features
	d, ok := pl.Datasets[f.Dataset]
	if !ok {
		msg := fmt.Sprintf("no dataset named %q", f.Dataset)
		if s := suggest.Nearest(f.Dataset, slices.Collect(maps.Keys(pl.Datasets))); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		c.errorf(p.with("dataset"), RuleReference, "%s", msg)
		return nil
	}
	if len(d.Columns) == 0 {
		c.warnf(cuePath{"pipelines", pl.Name, "datasets", d.Name}, RuleReference, "dataset declares no columns: types are inferred at run time and references cannot be checked")
	}
	if c.column(p.with("label"), d, f.Label) {
		label := d.Columns[f.Label]
		if label.PII {
			c.errorf(p.with("label"), RuleReference, "label %q is marked pii", f.Label)
		}
		if f.Positive != "" {
			c.positive(p.with("positive"), pl.Training.Task, label, f.Positive)
		}
	}
	for i, col := range f.Drop {
		if col == f.Label {
			c.errorf(p.with("drop", fmt.Sprint(i)), RuleReference, "the label %q cannot be dropped", col)
			continue
		}
		c.column(p.with("drop", fmt.Sprint(i)), d, col)
	}
	for _, col := range sortedKeys(f.Transforms) {
		tp := p.with("transforms", col)
		if col == f.Label {
			c.errorf(tp, RuleReference, "the label %q cannot be transformed", col)
			continue
		}
		if slices.Contains(f.Drop, col) {
			c.errorf(tp, RuleReference, "column %q is dropped; it cannot be transformed", col)
			continue
		}
		if !c.column(tp, d, col) {
			continue
		}
		column := d.Columns[col]
		if column.PII && f.PII.Action == "drop" {
			c.errorf(tp, RuleReference, "column %q is pii and dropped (features.pii.action is \"drop\"); it cannot be transformed", col)
			continue
		}
		for i, t := range f.Transforms[col] {
			c.transform(tp.with(fmt.Sprint(i)), column, t)
		}
	}
	return d
}

// positive checks that the positive class is a value the label can take.
func (c *checker) positive(p cuePath, task string, label *spec.Column, pos string) {
	if task != "binary" {
		c.errorf(p, RuleReference, "positive names the positive class of a binary task; this pipeline's task is %s", task)
		return
	}
	switch label.Type {
	case "category":
		if !slices.Contains(label.Values, pos) {
			c.errorf(p, RuleReference, "positive class %q is not a value of %q (values: %s)", pos, label.Name, strings.Join(label.Values, ", "))
		}
	case "bool":
		if pos != "true" && pos != "false" {
			c.errorf(p, RuleReference, "positive class %q: label %q is bool, so the positive class is \"true\" or \"false\"", pos, label.Name)
		}
	case "int":
		n, err := strconv.ParseInt(pos, 10, 64)
		switch {
		case err != nil:
			c.errorf(p, RuleReference, "positive class %q: label %q is int, so the positive class is an integer such as \"1\"", pos, label.Name)
		case label.Min != nil && float64(n) < *label.Min, label.Max != nil && float64(n) > *label.Max:
			c.errorf(p, RuleReference, "positive class %d lies outside the declared range of label %q", n, label.Name)
		}
	}
}

// transformTypes are the column types each transform applies to.
var transformTypes = map[string]map[string]bool{
	"impute":      set("int", "float", "bool", "string", "category", "timestamp"),
	"standardize": numericTypes,
	"minmax":      numericTypes,
	"log1p":       numericTypes,
	"clip":        numericTypes,
	"bucketize":   numericTypes,
	"onehot":      set("category", "string", "bool", "int"),
	"hash":        set("category", "string", "int"),
	"dateparts":   set("timestamp"),
}

func (c *checker) transform(p cuePath, col *spec.Column, t spec.Transform) {
	if !transformTypes[t.Op][col.Type] {
		c.errorf(p.with("op"), RuleReference, "%s does not apply to %s column %q", t.Op, col.Type, col.Name)
		return
	}
	switch t.Op {
	case "clip":
		if t.Min == nil && t.Max == nil {
			c.errorf(p, RuleValue, "clip needs min, max or both")
		}
		if t.Min != nil && t.Max != nil && *t.Min >= *t.Max {
			c.errorf(p.with("min"), RuleValue, "clip min %v must be less than max %v", *t.Min, *t.Max)
		}
	case "bucketize":
		for i := 1; i < len(t.Boundaries); i++ {
			if t.Boundaries[i] <= t.Boundaries[i-1] {
				c.errorf(p.with("boundaries"), RuleValue, "boundaries must be strictly increasing: %v follows %v", t.Boundaries[i], t.Boundaries[i-1])
				break
			}
		}
	case "log1p":
		if col.Min == nil || *col.Min <= -1 {
			c.warnf(p, RuleValue, "log1p of %q: the column declares no min > -1, so values <= -1 would become NaN", col.Name)
		}
	}
}

func (c *checker) training(p cuePath, pl *spec.Pipeline, ds *spec.Dataset) {
	t := pl.Training
	c.resources(p.with("resources"), t.Resources)
	c.duration(p.with("timeout"), t.Timeout)
	if t.Device == "gpu" && t.Resources.GPU == nil {
		c.errorf(p.with("device"), RuleReference, "device \"gpu\" needs resources.gpu (count and type)")
	}
	if t.Model == "logistic" && t.Device == "gpu" {
		c.errorf(p.with("device"), RuleReference, "logistic regression trains on the CPU; use device \"cpu\" or \"auto\"")
	}
	if t.Resources.GPU != nil && t.Device == "cpu" {
		c.warnf(p.with("resources", "gpu"), RuleReference, "GPUs are requested but device is \"cpu\"")
	}
	if t.Custom != nil {
		c.container(p.with("custom"), *t.Custom)
	}
	if t.Model == "custom" && t.Device != "auto" {
		c.warnf(p.with("device"), RuleReference, "device is ignored for a custom training step")
	}
	if g := t.GBDT; g != nil {
		if g.GrowPolicy == "depthwise" && g.MaxDepth == 0 {
			c.errorf(p.with("gbdt", "maxDepth"), RuleValue, "maxDepth 0 (no bound) needs growPolicy \"lossguide\"")
		}
		if g.EarlyStoppingRounds > 0 && t.Split.Validation == 0 {
			c.errorf(p.with("gbdt", "earlyStoppingRounds"), RuleReference, "early stopping needs a validation split (split.validation > 0)")
		}
	}
	if t.Split.Test+t.Split.Validation >= 1 {
		c.errorf(p.with("split"), RuleValue, "test (%v) and validation (%v) leave no rows to train on", t.Split.Test, t.Split.Validation)
	}
	if ds == nil {
		return
	}
	if tc := t.Split.TimeColumn; tc != "" {
		if c.column(p.with("split", "timeColumn"), ds, tc) && ds.Columns[tc].Type != "timestamp" && !numericTypes[ds.Columns[tc].Type] {
			c.errorf(p.with("split", "timeColumn"), RuleReference, "timeColumn %q must be a timestamp or number column, not %s", tc, ds.Columns[tc].Type)
		}
	}
	label, ok := ds.Columns[pl.Features.Label]
	if !ok {
		return
	}
	switch t.Task {
	case "binary":
		task := "binary task"
		if !c.written(p.with("task")) {
			task = "binary task (the default)"
		}
		switch {
		case label.Type == "category" && len(label.Values) != 2:
			c.errorf(p.with("task"), RuleReference, "%s: label %q has %d categories, want 2", task, label.Name, len(label.Values))
		case label.Type == "float" || label.Type == "timestamp":
			c.errorf(p.with("task"), RuleReference, "%s: label %q is %s; use task \"regression\" or a two-valued label", task, label.Name, label.Type)
		}
	case "regression":
		if !numericTypes[label.Type] {
			c.errorf(p.with("task"), RuleReference, "regression task: label %q is %s, want int or float", label.Name, label.Type)
		}
	}
	if m, ok := t.ClassWeights.(map[string]any); ok && label.Type == "category" {
		for _, k := range sortedKeys(m) {
			if !slices.Contains(label.Values, k) {
				c.errorf(p.with("classWeights", k), RuleReference, "class %q is not a value of label %q", k, label.Name)
			}
		}
	}
}

func (c *checker) gate(p cuePath, pl *spec.Pipeline, g *spec.Gate, ds *spec.Dataset) {
	if g.Min == nil && g.Max == nil && g.MaxRegression == nil {
		c.errorf(p, RuleValue, "gate %q checks nothing: set min, max or maxRegression", g.Name)
	}
	if g.Min != nil && g.Max != nil && *g.Min > *g.Max {
		c.errorf(p.with("min"), RuleValue, "min %v is greater than max %v", *g.Min, *g.Max)
	}
	task := pl.Training.Task
	switch {
	case task == "binary" && regressionMetrics[g.Metric]:
		c.errorf(p.with("metric"), RuleReference, "%s is a regression metric; this pipeline's task is binary classification", g.Metric)
	case task == "regression" && (binaryMetrics[g.Metric] || fairnessMetrics[g.Metric]):
		c.errorf(p.with("metric"), RuleReference, "%s needs a classification task; this pipeline's task is regression", g.Metric)
	}
	if g.Split == "validation" && pl.Training.Split.Validation == 0 {
		c.errorf(p.with("split"), RuleReference, "gate on the validation split, but split.validation is 0")
	}
	c.metricRange(p, g)
	if g.Group != "" && ds != nil {
		switch {
		case g.Group == pl.Features.Label:
			c.errorf(p.with("group"), RuleReference, "group %q is the label; a fairness metric compares the groups of another column", g.Group)
		case c.column(p.with("group"), ds, g.Group):
			if t := ds.Columns[g.Group].Type; t == "float" || t == "timestamp" {
				c.errorf(p.with("group"), RuleReference, "group %q is a %s column; groups come from a category, string, bool or int column", g.Group, t)
			}
		}
	}
}

// metricRanges are the values each metric can take, where bounded.
var metricRanges = map[string][2]float64{
	"roc_auc": {0, 1}, "pr_auc": {0, 1}, "accuracy": {0, 1}, "precision": {0, 1}, "recall": {0, 1}, "f1": {0, 1},
	"log_loss": {0, math.Inf(1)}, "rmse": {0, math.Inf(1)}, "mae": {0, math.Inf(1)}, "r2": {math.Inf(-1), 1},
	"demographic_parity_difference": {-1, 1}, "equal_opportunity_difference": {-1, 1}, "disparate_impact": {0, math.Inf(1)},
}

// metricRange reports a gate bound that the metric can never meet, such as
// roc_auc min: 75 written as a percentage.
func (c *checker) metricRange(p cuePath, g *spec.Gate) {
	r, ok := metricRanges[g.Metric]
	if !ok {
		return
	}
	between := fmt.Sprintf("lies between %v and %v", r[0], r[1])
	switch {
	case math.IsInf(r[1], 1):
		between = fmt.Sprintf("is at least %v", r[0])
	case math.IsInf(r[0], -1):
		between = fmt.Sprintf("is at most %v", r[1])
	}
	hint := func(v float64) string {
		if r[1] == 1 && v > 1 && v <= 100 {
			return fmt.Sprintf(" (write %v for %v%%)", v/100, v)
		}
		return ""
	}
	if g.Min != nil && *g.Min > r[1] {
		c.errorf(p.with("min"), RuleValue, "%s %s, so min %v can never be met%s", g.Metric, between, *g.Min, hint(*g.Min))
	}
	if g.Max != nil && *g.Max < r[0] {
		c.errorf(p.with("max"), RuleValue, "%s %s, so max %v can never be met", g.Metric, between, *g.Max)
	}
}

func (c *checker) deploy(p cuePath, pl *spec.Pipeline) {
	envs := pl.Deploy.Environments
	if len(envs) == 0 {
		c.errorf(p.with("environments"), RuleValue, "deploy declares no environments")
	}
	releases := map[string]string{}
	for _, name := range sortedKeys(envs) {
		e := envs[name]
		ep := p.with("environments", name)
		if e.PromoteAfter != "" {
			if e.PromoteAfter == name {
				c.errorf(ep.with("promoteAfter"), RuleReference, "environment %q cannot be promoted after itself", name)
			} else if _, ok := envs[e.PromoteAfter]; !ok {
				msg := fmt.Sprintf("no environment named %q", e.PromoteAfter)
				if s := suggest.Nearest(e.PromoteAfter, slices.Collect(maps.Keys(envs))); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				c.errorf(ep.with("promoteAfter"), RuleReference, "%s", msg)
			}
		}
		release := e.Release
		if release == "" {
			release = pl.Name + "-" + name
		}
		key := e.Namespace + "/" + release
		if other, dup := releases[key]; dup {
			c.errorf(ep.with("release"), RuleReference, "release %q in namespace %q is also used by environment %q", release, e.Namespace, other)
		}
		releases[key] = name
		c.quantity(ep.with("resources", "cpu"), e.Resources.CPU)
		c.quantity(ep.with("resources", "memory"), e.Resources.Memory)
		c.duration(ep.with("probes", "initialDelay"), e.Probes.InitialDelay)
		if a := e.Autoscaling; a != nil && a.MaxReplicas < a.MinReplicas {
			c.errorf(ep.with("autoscaling", "maxReplicas"), RuleValue, "maxReplicas %d is less than minReplicas %d", a.MaxReplicas, a.MinReplicas)
		}
		if e.Replicas == 0 && e.Autoscaling == nil {
			c.warnf(ep.with("replicas"), RuleValue, "replicas is 0: the model is deployed but serves nothing")
		}
		r := e.Rollout
		for i, st := range r.Steps {
			c.duration(ep.with("rollout", "steps", fmt.Sprint(i), "pause"), st.Pause)
			if i > 0 && st.Weight <= r.Steps[i-1].Weight {
				c.errorf(ep.with("rollout", "steps", fmt.Sprint(i), "weight"), RuleValue, "canary weights must increase: %d follows %d", st.Weight, r.Steps[i-1].Weight)
			}
		}
		if r.Strategy == "shadow" {
			c.duration(ep.with("rollout", "duration"), r.Duration)
		}
		for _, probe := range []struct{ field, path string }{{"readinessPath", e.Probes.ReadinessPath}, {"livenessPath", e.Probes.LivenessPath}} {
			if !strings.HasPrefix(probe.path, "/") {
				c.errorf(ep.with("probes", probe.field), RuleValue, "probe path %q must start with /", probe.path)
			}
		}
	}
}

func (c *checker) monitoring(p cuePath, pl *spec.Pipeline, ds *spec.Dataset) {
	m := pl.Monitoring
	if pl.Deploy == nil {
		c.errorf(p, RuleReference, "monitoring watches a deployed model, but the pipeline has no deploy block")
	}
	if m.SLO != nil {
		c.duration(p.with("slo", "latencyP95"), m.SLO.LatencyP95)
	}
	if d := m.Drift; d != nil {
		c.duration(p.with("drift", "window"), d.Window)
		if ds != nil {
			for _, col := range sortedKeys(d.Features) {
				fp := p.with("drift", "features", col)
				if col == pl.Features.Label {
					c.errorf(fp, RuleReference, "drift is watched on features; %q is the label", col)
					continue
				}
				c.column(fp, ds, col)
			}
		}
	}
	for _, name := range sortedKeys(m.Alerts) {
		c.duration(p.with("alerts", name, "for"), m.Alerts[name].For)
	}
	if r := m.Retraining; r != nil {
		if r.Schedule != "" {
			if err := ParseCron(r.Schedule); err != nil {
				c.errorf(p.with("retraining", "schedule"), RuleValue, "invalid cron schedule %q: %v", r.Schedule, err)
			}
		}
		if r.OnDrift && m.Drift == nil {
			if c.written(p.with("retraining", "onDrift")) {
				c.errorf(p.with("retraining", "onDrift"), RuleReference, "retraining on drift needs monitoring.drift")
			} else {
				c.errorf(p.with("retraining", "onDrift"), RuleReference, "retraining.onDrift is true by default, but monitoring.drift is not set: configure drift or set onDrift: false")
			}
		}
	}
}

func (c *checker) resources(p cuePath, r spec.Resources) {
	c.quantity(p.with("cpu"), r.CPU)
	c.quantity(p.with("memory"), r.Memory)
}

func (c *checker) quantity(p cuePath, s string) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		hint := "examples: \"500m\", \"2\", \"4Gi\""
		if t := strings.TrimSuffix(strings.TrimSuffix(s, "B"), "b"); t != s {
			if _, err := resource.ParseQuantity(t); err == nil {
				hint = fmt.Sprintf("write %q or %q: quantities have no B", t, t+"i")
				if strings.HasSuffix(t, "i") {
					hint = fmt.Sprintf("write %q: quantities have no B", t)
				}
			}
		}
		c.errorf(p, RuleValue, "%q is not a resource quantity (%s)", s, hint)
		return
	}
	if q.Sign() <= 0 {
		c.errorf(p, RuleValue, "quantity %q must be positive", s)
	}
}

func (c *checker) duration(p cuePath, s string) {
	d, err := time.ParseDuration(s)
	if err != nil {
		hint := "examples: \"90s\", \"15m\", \"2h30m\""
		if n, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64); err == nil && n > 0 {
			if strings.HasSuffix(s, "d") {
				hint = fmt.Sprintf("there is no day unit: write \"%vh\"", n*24)
			} else {
				hint = fmt.Sprintf("a unit is missing: write \"%vs\" or \"%vm\"", n, n)
			}
		}
		c.errorf(p, RuleValue, "%q is not a duration (%s)", s, hint)
		return
	}
	if d <= 0 {
		c.errorf(p, RuleValue, "duration %q must be positive", s)
	}
}

func set(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func firstDuplicate(xs []string) string {
	seen := map[string]bool{}
	for _, x := range xs {
		if seen[x] {
			return x
		}
		seen[x] = true
	}
	return ""
}
