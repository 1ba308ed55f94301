package plan

import (
	"cmp"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/spec"
)

// diffPipeline compares one pipeline; base or head is nil when the
// pipeline exists on one side only.
func diffPipeline(name string, base, head *ir.Pipeline, baseVer, headVer string) *Pipeline {
	pl := &Pipeline{Name: name, Changes: []*Change{}}
	switch {
	case base == nil:
		pl.Action = Create
	case head == nil:
		pl.Action = Delete
	default:
		pl.Changes = specChanges(base, head)
	}
	pl.Steps = diffSteps(base, head, baseVer, headVer)
	if pl.Action == "" {
		pl.Retrain = rootCauses(pl.Steps)
	}
	pl.Environments = environments(base, head, pl.Steps)
	pl.Gates = gateChanges(base, head)
	return pl
}

// specChanges compares the pipelines' specs field by field, and their
// triggers where the spec's own changes do not already say it.
func specChanges(base, head *ir.Pipeline) []*Change {
	var raw []rawChange
	diffJSON(nil, toJSON(base.Spec), toJSON(head.Spec), &raw)
	var out []*Change
	for _, r := range raw {
		e, env := classify(r.path)
		out = append(out, &Change{Path: r.path.String(), Action: r.action, Old: r.old, New: r.new, Effect: e, Environment: env})
	}
	said := func(field string, old, new any) bool {
		for _, c := range out {
			if c.Path == "monitoring.retraining."+field && reflect.DeepEqual(c.Old, old) && reflect.DeepEqual(c.New, new) {
				return true
			}
		}
		return false
	}
	bt, ht := base.Triggers, head.Triggers
	if bt.Schedule != ht.Schedule {
		c := &Change{Path: "triggers.schedule", Action: Update, Effect: Schedule}
		if bt.Schedule != "" {
			c.Old = bt.Schedule
		} else {
			c.Action = Create
		}
		if ht.Schedule != "" {
			c.New = ht.Schedule
		} else {
			c.Action = Delete
		}
		if !said("schedule", c.Old, c.New) {
			out = append(out, c)
		}
	}
	for _, f := range []struct {
		name     string
		old, new bool
	}{{"onDrift", bt.OnDrift, ht.OnDrift}, {"onNewData", bt.OnNewData, ht.OnNewData}} {
		if f.old != f.new && !said(f.name, f.old, f.new) {
			out = append(out, &Change{Path: "triggers." + f.name, Action: Update, Old: f.old, New: f.new, Effect: Schedule})
		}
	}
	slices.SortStableFunc(out, func(a, b *Change) int { return strings.Compare(a.Path, b.Path) })
	if out == nil {
		out = []*Change{}
	}
	return out
}

// classify says what a change to a pipeline's spec at p sets off, from how
// the IR is built: what feeds a fetch, validate, features or train step's
// parameters retrains; an environment's settings and the artifact's
// redeploy; resources, timeouts and retries only change the targets.
func classify(p path) (Effect, string) {
	ks := p.keys()
	at := func(i int) string {
		if i < len(ks) {
			return ks[i]
		}
		return ""
	}
	runtimeOnly := func(k string) bool { return k == "resources" || k == "timeout" || k == "retries" }
	switch at(0) {
	case "datasets", "features":
		return Retrain, ""
	case "training":
		if runtimeOnly(at(1)) {
			return Config, ""
		}
		return Retrain, ""
	case "gates":
		return Gate, ""
	case "artifact":
		return Redeploy, ""
	case "deploy":
		return Redeploy, at(2)
	case "monitoring":
		if at(1) == "retraining" {
			return Schedule, ""
		}
		return Config, ""
	case "steps":
		if runtimeOnly(at(2)) {
			return Config, ""
		}
		return Rerun, ""
	}
	return Config, ""
}

// diffSteps compares the steps by id: those of head in head's order, then
// those only in base.
func diffSteps(base, head *ir.Pipeline, baseVer, headVer string) []*Step {
	out := []*Step{}
	old := map[string]*ir.Step{}
	if base != nil {
		for _, s := range base.Steps {
			old[s.ID] = s
		}
	}
	seen := map[string]bool{}
	if head != nil {
		for _, s := range head.Steps {
			seen[s.ID] = true
			o := old[s.ID]
			if o == nil {
				st := &Step{ID: s.ID, Kind: s.Kind, Environment: s.Environment, Action: Create, Rerun: true, NewKey: s.CacheKey,
					Reasons: []*Reason{{Step: s.ID, Kind: ReasonNew}}}
				st.Effect = stepEffect(st)
				out = append(out, st)
				continue
			}
			if st := diffStep(o, s, baseVer, headVer); st != nil {
				out = append(out, st)
			}
		}
	}
	propagate(out)
	if base != nil {
		for _, s := range base.Steps {
			if !seen[s.ID] {
				st := &Step{ID: s.ID, Kind: s.Kind, Environment: s.Environment, Action: Delete, OldKey: s.CacheKey}
				st.Effect = stepEffect(st)
				out = append(out, st)
			}
		}
	}
	return out
}

// diffStep compares a step present at both revisions; nil when nothing
// differs.
func diffStep(o, s *ir.Step, baseVer, headVer string) *Step {
	st := &Step{ID: s.ID, Kind: s.Kind, Environment: s.Environment, Action: Update,
		Rerun: o.CacheKey != s.CacheKey, OldKey: o.CacheKey, NewKey: s.CacheKey}
	if st.Rerun {
		var raw []rawChange
		diffJSON(nil, toJSON(o.Params), toJSON(s.Params), &raw)
		for _, r := range raw {
			st.Reasons = append(st.Reasons, &Reason{Step: s.ID, Kind: ReasonParam, Path: r.path.String(), Old: r.old, New: r.new})
		}
		if o.Kind != s.Kind {
			st.Reasons = append(st.Reasons, &Reason{Step: s.ID, Kind: ReasonParam, Path: "kind", Old: string(o.Kind), New: string(s.Kind)})
		}
		st.Reasons = append(st.Reasons, inputReasons(o, s)...)
		if baseVer != headVer && baseVer != "" && headVer != "" {
			st.Reasons = append(st.Reasons, &Reason{Step: s.ID, Kind: ReasonVersion, Old: baseVer, New: headVer})
		}
	}
	var raw []rawChange
	diffJSON(nil, runtimeFields(o), runtimeFields(s), &raw)
	for _, r := range raw {
		st.Fields = append(st.Fields, &Change{Path: r.path.String(), Action: r.action, Old: r.old, New: r.new, Effect: Config, Environment: s.Environment})
	}
	if !st.Rerun && len(st.Fields) == 0 {
		return nil
	}
	st.Effect = stepEffect(st)
	return st
}

// inputReasons compares a step's inputs by name.
func inputReasons(o, s *ir.Step) []*Reason {
	type in struct{ from, digest string }
	ins := func(st *ir.Step) map[string]in {
		m := map[string]in{}
		for _, i := range st.Inputs {
			m[i.Name] = in{i.From, i.Digest}
		}
		return m
	}
	a, b := ins(o), ins(s)
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	var out []*Reason
	for _, n := range slices.Sorted(maps.Keys(names)) {
		x, xok := a[n]
		y, yok := b[n]
		if xok && yok && x == y {
			continue
		}
		r := &Reason{Step: s.ID, Kind: ReasonInput, Path: n, From: y.from}
		if !yok {
			r.From = x.from
		}
		if xok {
			r.Old = x.digest
		}
		if yok {
			r.New = y.digest
		}
		out = append(out, r)
	}
	return out
}

// runtimeFields are a step's settings outside its cache key. Those that
// mirror its parameters (a custom step's image and command, a custom
// trainer's container) are left out: the parameters already show them.
func runtimeFields(s *ir.Step) any {
	f := map[string]any{
		"resources": s.Resources, "retries": s.Retries, "timeoutSeconds": s.TimeoutSeconds,
		"image": s.Image, "command": s.Command, "env": s.Env, "secrets": s.Secrets,
		"dependsOn": s.DependsOn, "outputs": s.Outputs,
	}
	mirrored := s.Kind == ir.KindCustom
	if tp, ok := trainParams(s.Params); ok && tp.Custom != nil {
		mirrored = true
		delete(f, "env")
		delete(f, "secrets")
	}
	if mirrored {
		delete(f, "image")
		delete(f, "command")
	}
	return toJSON(f)
}

func trainParams(p any) (ir.TrainParams, bool) {
	switch v := p.(type) {
	case ir.TrainParams:
		return v, true
	case *ir.TrainParams:
		if v != nil {
			return *v, true
		}
	}
	return ir.TrainParams{}, false
}

func deployParams(p any) (ir.DeployParams, bool) {
	switch v := p.(type) {
	case ir.DeployParams:
		return v, true
	case *ir.DeployParams:
		if v != nil {
			return *v, true
		}
	}
	return ir.DeployParams{}, false
}

func evaluateParams(p any) (ir.EvaluateParams, bool) {
	switch v := p.(type) {
	case ir.EvaluateParams:
		return v, true
	case *ir.EvaluateParams:
		if v != nil {
			return *v, true
		}
	}
	return ir.EvaluateParams{}, false
}

var retrainKinds = map[ir.Kind]bool{ir.KindFetch: true, ir.KindValidate: true, ir.KindFeatures: true, ir.KindTrain: true}

// ownChange reports whether a step changes for a reason of its own: its
// parameters, an external input, or being new or removed.
func ownChange(st *Step) bool {
	if st.Action != Update {
		return true
	}
	for _, r := range st.Reasons {
		if r.Kind == ReasonParam || (r.Kind == ReasonInput && r.From == "") {
			return true
		}
	}
	return false
}

// stepEffect says what a step's change sets off by itself. A step that
// runs again only because an input from another step changed takes that
// step's effect instead (see propagate).
func stepEffect(st *Step) Effect {
	if st.Action == Update && !st.Rerun {
		return Config
	}
	switch st.Kind {
	case ir.KindFetch, ir.KindValidate, ir.KindFeatures, ir.KindTrain:
		return Retrain
	case ir.KindDeploy:
		return Redeploy
	case ir.KindRetrain:
		return Schedule
	case ir.KindCustom:
		return Rerun
	case ir.KindEvaluate:
		return Gate
	case ir.KindPackage:
		return Redeploy
	case ir.KindMonitor:
		// A monitor step's parameters hold the retraining triggers too.
		triggers := false
		for _, r := range st.Reasons {
			switch {
			case r.Kind == ReasonInput && r.From != "":
			case r.Kind == ReasonParam && (r.Path == "retraining" || strings.HasPrefix(r.Path, "retraining.")):
				triggers = true
			default:
				return Config
			}
		}
		if triggers && st.Action == Update {
			return Schedule
		}
	}
	return Config
}

// propagate gives a step that runs again only because of its inputs the
// most consequential effect of the steps producing them: an evaluation
// after retraining is part of retraining, a package after a gate change
// part of the gate change. Steps are in topological order.
func propagate(steps []*Step) {
	byID := map[string]*Step{}
	for _, st := range steps {
		byID[st.ID] = st
		if !st.Rerun || ownChange(st) || retrainKinds[st.Kind] || st.Kind == ir.KindDeploy || st.Kind == ir.KindRetrain || st.Kind == ir.KindCustom {
			continue
		}
		best := Effect("")
		for _, r := range st.Reasons {
			if prod := byID[r.From]; prod != nil && (best == "" || compareEffects(prod.Effect, best) < 0) {
				best = prod.Effect
			}
		}
		if best != "" {
			st.Effect = best
		}
	}
}

// rootCauses collects why the model retrains: the reasons of the rerun
// fetch, validate, features and train steps that do not come from another
// of those steps running again.
func rootCauses(steps []*Step) []*Reason {
	rerun := map[string]bool{}
	for _, st := range steps {
		if st.Rerun {
			rerun[st.ID] = true
		}
	}
	var out []*Reason
	version := false
	for _, st := range steps {
		if !st.Rerun || !retrainKinds[st.Kind] {
			continue
		}
		for _, r := range st.Reasons {
			switch {
			case r.Kind == ReasonInput && r.From != "" && rerun[r.From]:
				continue
			case r.Kind == ReasonVersion:
				if version {
					continue
				}
				version = true
			}
			out = append(out, r)
		}
	}
	return out
}

// environments compares the deploy steps per environment.
func environments(base, head *ir.Pipeline, steps []*Step) []*Environment {
	type pair struct{ old, new *ir.Step }
	envs := map[string]*pair{}
	collect := func(p *ir.Pipeline, isNew bool) {
		if p == nil {
			return
		}
		for _, s := range p.Steps {
			if s.Kind != ir.KindDeploy {
				continue
			}
			e := envs[s.Environment]
			if e == nil {
				e = &pair{}
				envs[s.Environment] = e
			}
			if isNew {
				e.new = s
			} else {
				e.old = s
			}
		}
	}
	collect(base, false)
	collect(head, true)
	byID := map[string]*Step{}
	retrain := false
	for _, st := range steps {
		byID[st.ID] = st
		retrain = retrain || (st.Rerun && retrainKinds[st.Kind])
	}
	var out []*Environment
	for _, name := range slices.Sorted(maps.Keys(envs)) {
		e := envs[name]
		env := &Environment{Name: name, Action: NoOp}
		cur := e.new
		if cur == nil {
			cur = e.old
		}
		if dp, ok := deployParams(cur.Params); ok {
			env.Production = dp.Production
		}
		switch {
		case e.old == nil:
			env.Action, env.Redeploy = Create, true
			env.Reasons = []string{"first release"}
		case e.new == nil:
			env.Action, env.Redeploy = Delete, true
			env.Reasons = []string{"the environment is removed"}
		default:
			st := byID[e.new.ID]
			if st == nil {
				break
			}
			env.Action = Update
			env.Redeploy = st.Rerun
			env.Reasons = deployReasons(st, retrain)
		}
		out = append(out, env)
	}
	return out
}

// deployReasons words why a deploy step changes; retrain says whether the
// model is trained again.
func deployReasons(st *Step, retrain bool) []string {
	var out []string
	model := false
	for _, r := range st.Reasons {
		switch {
		case r.Kind == ReasonParam:
			p := parsePath(r.Path)
			out = append(out, phrase(envWords(p), actionOf(r.Old, r.New), r.Old, r.New, percent(p)))
		case r.Kind == ReasonInput && r.From != "":
			if !model {
				if retrain {
					out = append(out, "a new model")
				} else {
					out = append(out, "a new model artifact (the same model, packaged again)")
				}
				model = true
			}
		default:
			out = append(out, reasonPhrase(r))
		}
	}
	for _, f := range st.Fields {
		p := parsePath(f.Path)
		out = append(out, "deploy job "+phrase(words(p), f.Action, f.Old, f.New, percent(p))+" (no redeploy)")
	}
	return out
}

// gateChanges compares the gates of the evaluate steps.
func gateChanges(base, head *ir.Pipeline) []*GateChange {
	gates := func(p *ir.Pipeline) map[string]*spec.Gate {
		m := map[string]*spec.Gate{}
		if p == nil {
			return m
		}
		for _, s := range p.Steps {
			if ep, ok := evaluateParams(s.Params); ok && s.Kind == ir.KindEvaluate {
				for _, g := range ep.Gates {
					if g != nil {
						m[g.Name] = g
					}
				}
			}
		}
		return m
	}
	a, b := gates(base), gates(head)
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	var out []*GateChange
	for _, n := range slices.Sorted(maps.Keys(names)) {
		g := &GateChange{Name: n}
		if x := a[n]; x != nil {
			g.Old = Condition(x)
		}
		if y := b[n]; y != nil {
			g.New = Condition(y)
		}
		switch {
		case g.Old == "":
			g.Action = Create
		case g.New == "":
			g.Action = Delete
		case g.Old != g.New:
			g.Action = Update
		default:
			g.Action = NoOp
		}
		out = append(out, g)
	}
	return out
}

// Condition words a gate: "roc_auc ≥ 0.85, regression ≤ 0.02 on test",
// "demographic_parity_difference by international_plan ≤ 0.5 on test".
func Condition(g *spec.Gate) string {
	var b strings.Builder
	b.WriteString(g.Metric)
	if g.Group != "" {
		b.WriteString(" by " + g.Group)
	}
	var bounds []string
	if g.Min != nil {
		bounds = append(bounds, "≥ "+num(*g.Min))
	}
	if g.Max != nil {
		bounds = append(bounds, "≤ "+num(*g.Max))
	}
	if len(bounds) > 0 {
		b.WriteString(" " + strings.Join(bounds, " and "))
	}
	if g.MaxRegression != nil {
		b.WriteString(", regression ≤ " + num(*g.MaxRegression))
	}
	if g.Split != "" {
		b.WriteString(" on " + g.Split)
	}
	return b.String()
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// policyDiagnostics pairs the policy findings of both revisions by rule,
// path and message.
func policyDiagnostics(base, head diag.Diagnostics) []*Diagnostic {
	isPolicy := func(d diag.Diagnostic) bool { return d.Rule == "policy" || strings.HasPrefix(d.Rule, "policy/") }
	k := func(d diag.Diagnostic) string { return d.Rule + "\x00" + d.Path + "\x00" + d.Message }
	conv := func(d diag.Diagnostic, status string) *Diagnostic {
		return &Diagnostic{Severity: d.Severity.String(), Pos: d.Pos.String(), Path: d.Path, Rule: d.Rule, Message: d.Message, Status: status}
	}
	inBase := map[string]int{}
	for _, d := range base {
		if isPolicy(d) {
			inBase[k(d)]++
		}
	}
	var out []*Diagnostic
	for _, d := range head {
		if !isPolicy(d) {
			continue
		}
		status := StatusNew
		if inBase[k(d)] > 0 {
			inBase[k(d)]--
			status = StatusUnchanged
		}
		out = append(out, conv(d, status))
	}
	for _, d := range base {
		if isPolicy(d) && inBase[k(d)] > 0 {
			inBase[k(d)]--
			out = append(out, conv(d, StatusResolved))
		}
	}
	slices.SortStableFunc(out, func(a, b *Diagnostic) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Message, b.Message), strings.Compare(a.Status, b.Status), strings.Compare(a.Pos, b.Pos))
	})
	return out
}

// takeDiagnostics removes from all the findings about pipeline name and
// returns them.
func takeDiagnostics(all *[]*Diagnostic, name string) []*Diagnostic {
	prefix := diag.JoinPath([]string{"pipelines", name})
	var mine, rest []*Diagnostic
	for _, d := range *all {
		if d.Path == prefix || strings.HasPrefix(d.Path, prefix+".") {
			mine = append(mine, d)
		} else {
			rest = append(rest, d)
		}
	}
	*all = rest
	return mine
}
