package plantest_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/plan"
	"github.com/slipway-ml/slipway/compiler/plan/internal/plantest"
)

func edited(t testing.TB, src string, edits ...plantest.Edit) string {
	t.Helper()
	return plantest.Edited(t, src, edits...)
}

func edit(old, new string) plantest.Edit { return plantest.Edit{Old: old, New: new} }

func compile(t testing.TB, src string, data []byte) *plantest.Compiled {
	t.Helper()
	return plantest.Compile(t, src, data)
}

const canaryEnv = `deploy: environments: {
		canary: {namespace: "ml-canary", replicas: 1}
		staging:`

const reportStep = `	monitoring: {
		slo:`

func pipelineOf(t *testing.T, p *plan.Plan, name string) *plan.Pipeline {
	t.Helper()
	for _, pl := range p.Pipelines {
		if pl.Name == name {
			return pl
		}
	}
	t.Fatalf("no pipeline %s in the plan", name)
	return nil
}

func stepOf(pl *plan.Pipeline, id string) *plan.Step {
	for _, st := range pl.Steps {
		if st.ID == id {
			return st
		}
	}
	return nil
}

func changeOf(pl *plan.Pipeline, path string) *plan.Change {
	for _, c := range pl.Changes {
		if c.Path == path {
			return c
		}
	}
	return nil
}

func envOf(pl *plan.Pipeline, name string) *plan.Environment {
	for _, e := range pl.Environments {
		if e.Name == name {
			return e
		}
	}
	return nil
}

func num(s string) json.Number { return json.Number(s) }

// TestEffects compiles two versions of the churn example for every kind of
// change and checks how the plan classifies it.
func TestEffects(t *testing.T) {
	src, data := plantest.Churn(t)
	moreData := append(slices.Clone(data), data[strings.LastIndexByte(strings.TrimSuffix(string(data), "\n"), '\n')+1:]...)
	tests := []struct {
		name     string
		base     string // default: the example
		head     string
		headData []byte
		diags    bool
		pipeline string
		action   plan.Action
		effects  []plan.Effect
		summary  []string // substrings of the summary
		check    func(t *testing.T, p *plan.Plan, pl *plan.Pipeline)
	}{
		{
			name: "identical", head: src, pipeline: "churn",
			action: plan.NoOp, effects: []plan.Effect{plan.None}, summary: []string{"no changes"},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				if p.Changed() || len(pl.Changes) != 0 || len(pl.Steps) != 0 || len(p.Files) != 0 {
					t.Errorf("identical revisions: Changed=%v, changes %d, steps %d, files %d", p.Changed(), len(pl.Changes), len(pl.Steps), len(p.Files))
				}
			},
		},
		{
			name:     "learning rate retrains",
			head:     edited(t, src, edit("learningRate:        0.1", "learningRate:        0.05")),
			pipeline: "churn", action: plan.Update,
			effects: []plan.Effect{plan.Retrain, plan.Redeploy},
			summary: []string{"learning rate 0.1 → 0.05, will retrain", "will redeploy production and staging with the new model", "gates unchanged (auc, intl-plan-parity)"},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				want := []*plan.Reason{{Step: "churn/train", Kind: plan.ReasonParam, Path: "gbdt.learningRate", Old: num("0.1"), New: num("0.05")}}
				if !reflect.DeepEqual(pl.Retrain, want) {
					t.Errorf("retrain reasons = %s, want %s", js(pl.Retrain), js(want))
				}
				c := changeOf(pl, "training.gbdt.learningRate")
				if c == nil || c.Effect != plan.Retrain || c.Old != num("0.1") || c.New != num("0.05") {
					t.Errorf("change = %s", js(c))
				}
				if st := stepOf(pl, "churn/train"); st == nil || !st.Rerun || st.OldKey == st.NewKey || st.Effect != plan.Retrain {
					t.Errorf("train step = %s", js(st))
				}
				if st := stepOf(pl, "churn/evaluate"); st == nil || st.Effect != plan.Retrain {
					t.Errorf("evaluate step = %s, want it to rerun as part of retraining", js(st))
				}
				if st := stepOf(pl, "churn/fetch-customers"); st != nil {
					t.Errorf("fetch step changes: %s", js(st))
				}
				if e := envOf(pl, "production"); e == nil || !e.Redeploy || !slices.Contains(e.Reasons, "a new model") {
					t.Errorf("production = %s", js(e))
				}
				if len(p.Files) != 1 || p.Files[0].Path != "pipelines/churn.json" || p.Files[0].Added == 0 {
					t.Errorf("files = %s", js(p.Files))
				}
			},
		},
		{
			name:     "canary weight redeploys",
			head:     edited(t, src, edit("weight: 10,", "weight: 25,")),
			pipeline: "churn", action: plan.Update,
			effects: []plan.Effect{plan.Redeploy},
			summary: []string{"production canary step 1 weight 10% → 25%, will redeploy production"},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				c := changeOf(pl, "deploy.environments.production.rollout.steps[0].weight")
				if c == nil || c.Effect != plan.Redeploy || c.Environment != "production" {
					t.Errorf("change = %s", js(c))
				}
				if e := envOf(pl, "production"); e == nil || !e.Redeploy || e.Action != plan.Update || len(e.Reasons) != 1 || e.Reasons[0] != "canary step 1 weight 10% → 25%" {
					t.Errorf("production = %s", js(e))
				}
				if e := envOf(pl, "staging"); e == nil || e.Redeploy || e.Action != plan.NoOp {
					t.Errorf("staging = %s", js(e))
				}
				if len(pl.Retrain) != 0 || stepOf(pl, "churn/train") != nil {
					t.Errorf("a canary change retrains: %s", js(pl.Retrain))
				}
				st := stepOf(pl, "churn/deploy-production")
				if st == nil || len(st.Reasons) != 1 || st.Reasons[0].Path != "rollout.steps[0].weight" {
					t.Errorf("deploy step = %s", js(st))
				}
			},
		},
		{
			name:     "schedule",
			head:     edited(t, src, edit(`schedule: "0 3 * * 1"`, `schedule: "0 4 * * *"`)),
			pipeline: "churn", action: plan.Update,
			effects: []plan.Effect{plan.Schedule},
			summary: []string{`retraining schedule "0 3 * * 1" → "0 4 * * *"`},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				if len(pl.Changes) != 1 || pl.Changes[0].Path != "monitoring.retraining.schedule" || pl.Changes[0].Effect != plan.Schedule {
					t.Errorf("changes = %s, want only the schedule (the trigger is the same change)", js(pl.Changes))
				}
				if st := stepOf(pl, "churn/retrain"); st == nil || st.Effect != plan.Schedule {
					t.Errorf("retrain step = %s", js(st))
				}
			},
		},
		{
			name:     "gate threshold",
			head:     edited(t, src, edit(`min: 0.85`, `min: 0.9`)),
			pipeline: "churn", action: plan.Update,
			effects: []plan.Effect{plan.Redeploy, plan.Gate},
			summary: []string{"gate auc: roc_auc ≥ 0.85, regression ≤ 0.02 on test → roc_auc ≥ 0.9, regression ≤ 0.02 on test", "will redeploy"},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				want := &plan.GateChange{Name: "auc", Action: plan.Update, Old: "roc_auc ≥ 0.85, regression ≤ 0.02 on test", New: "roc_auc ≥ 0.9, regression ≤ 0.02 on test"}
				if !reflect.DeepEqual(pl.Gates[0], want) || pl.Gates[1].Action != plan.NoOp {
					t.Errorf("gates = %s", js(pl.Gates))
				}
				if st := stepOf(pl, "churn/evaluate"); st == nil || st.Effect != plan.Gate || st.Reasons[0].Path != `gates.auc.min` {
					t.Errorf("evaluate step = %s", js(st))
				}
				if st := stepOf(pl, "churn/package"); st == nil || st.Effect != plan.Gate {
					t.Errorf("package step = %s, want it part of the gate change", js(st))
				}
				if len(pl.Retrain) != 0 || stepOf(pl, "churn/train") != nil {
					t.Errorf("a gate change retrains: %s", js(pl.Retrain))
				}
				if e := envOf(pl, "staging"); e == nil || !slices.Contains(e.Reasons, "a new model artifact (the same model, packaged again)") {
					t.Errorf("staging = %s", js(e))
				}
			},
		},
		{
			name:     "description is configuration only",
			head:     edited(t, src, edit("Predict which telecom customers will churn.", "Predict churn.")),
			pipeline: "churn", action: plan.Update,
			effects: []plan.Effect{plan.Config},
			summary: []string{`description "Predict which telecom customers will…" → "Predict churn.", configuration only`},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				if len(pl.Steps) != 0 || len(pl.Retrain) != 0 {
					t.Errorf("steps = %s", js(pl.Steps))
				}
			},
		},
		{
			name:     "owner and labels",
			head:     edited(t, src, edit(`owner:       "growth-ml"`, "owner: \"ml\"\n\tlabels: team: \"growth\"")),
			pipeline: "churn", action: plan.Update,
			effects: []plan.Effect{plan.Config},
			summary: []string{`labels {"team":"growth"} added`, `owner "growth-ml" → "ml"`, "configuration only"},
		},
		{
			name:     "training resources reuse the cache",
			head:     edited(t, src, edit(`resources: {cpu: "2", memory: "2Gi"}`, `resources: {cpu: "4", memory: "2Gi"}`)),
			pipeline: "churn", action: plan.Update,
			effects: []plan.Effect{plan.Config},
			summary: []string{`resources cpu "2" → "4", configuration only`},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				st := stepOf(pl, "churn/train")
				if st == nil || st.Rerun || len(st.Fields) != 1 || st.Fields[0].Path != "resources.cpu" {
					t.Errorf("train step = %s", js(st))
				}
			},
		},
		{
			name:     "new data retrains",
			head:     src,
			headData: moreData,
			pipeline: "churn", action: plan.Update,
			effects: []plan.Effect{plan.Retrain, plan.Redeploy},
			summary: []string{"data of dataset customers changed", "will retrain"},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				if len(pl.Retrain) != 1 {
					t.Fatalf("retrain reasons = %s", js(pl.Retrain))
				}
				r := pl.Retrain[0]
				if r.Step != "churn/fetch-customers" || r.Kind != plan.ReasonInput || r.Path != "source" || r.From != "" || r.Old == r.New {
					t.Errorf("retrain reason = %s", js(r))
				}
				if len(pl.Changes) != 0 {
					t.Errorf("changes = %s, want none: the spec is the same", js(pl.Changes))
				}
			},
		},
		{
			name:     "environment added",
			head:     edited(t, src, edit("deploy: environments: {\n\t\tstaging:", canaryEnv)),
			pipeline: "churn", action: plan.Update,
			effects: []plan.Effect{plan.Redeploy, plan.Config},
			summary: []string{"canary added", "will redeploy canary"},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				if e := envOf(pl, "canary"); e == nil || e.Action != plan.Create || !e.Redeploy {
					t.Errorf("canary = %s", js(e))
				}
				if st := stepOf(pl, "churn/deploy-canary"); st == nil || st.Action != plan.Create || st.Effect != plan.Redeploy {
					t.Errorf("deploy-canary = %s", js(st))
				}
			},
		},
		{
			name:     "environment removed",
			base:     edited(t, src, edit("deploy: environments: {\n\t\tstaging:", canaryEnv)),
			head:     src,
			pipeline: "churn", action: plan.Update,
			effects: []plan.Effect{plan.Redeploy, plan.Config},
			summary: []string{"canary removed", "will redeploy canary"},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				if e := envOf(pl, "canary"); e == nil || e.Action != plan.Delete {
					t.Errorf("canary = %s", js(e))
				}
				if st := stepOf(pl, "churn/deploy-canary"); st == nil || st.Action != plan.Delete {
					t.Errorf("deploy-canary = %s", js(st))
				}
			},
		},
		{
			name:     "custom step",
			head:     edited(t, src, edit(reportStep, "\tsteps: report: {image: \"busybox:1.36\", command: [\"true\"], inputs: [\"evaluation\"]}\n"+reportStep)),
			pipeline: "churn", action: plan.Update,
			effects: []plan.Effect{plan.Rerun},
			summary: []string{"step report added, will run custom steps"},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				if st := stepOf(pl, "churn/report"); st == nil || st.Action != plan.Create || st.Effect != plan.Rerun {
					t.Errorf("report = %s", js(st))
				}
			},
		},
		{
			name:     "policy finding",
			head:     edited(t, src, edit("approval:     true\n", "")),
			diags:    true,
			pipeline: "churn", action: plan.Update,
			effects: []plan.Effect{plan.Redeploy, plan.Policy},
			summary: []string{"production approval true → false", "1 new policy warning"},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				var found bool
				for _, d := range pl.Diagnostics {
					if d.Rule == "policy/default/production-approval" && d.Status == plan.StatusNew && d.Severity == "warning" {
						found = true
					}
				}
				if !found {
					t.Errorf("diagnostics = %s", js(pl.Diagnostics))
				}
			},
		},
		{
			name:     "pipeline added",
			head:     src + plantest.Lite,
			pipeline: "lite", action: plan.Create,
			effects: []plan.Effect{plan.Retrain},
			summary: []string{"new pipeline, will train"},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				if churn := pipelineOf(t, p, "churn"); churn.Action != plan.NoOp {
					t.Errorf("churn = %s", js(churn))
				}
				c, u, d, n := p.Counts()
				if c != 1 || u != 0 || d != 0 || n != 1 {
					t.Errorf("counts = %d %d %d %d", c, u, d, n)
				}
				paths := []string{}
				for _, f := range p.Files {
					paths = append(paths, string(f.Action)+" "+f.Path)
				}
				if want := []string{"update index.txt", "create pipelines/lite.json"}; !slices.Equal(paths, want) {
					t.Errorf("files = %v, want %v", paths, want)
				}
			},
		},
		{
			name:     "pipeline removed",
			base:     src + plantest.Lite,
			head:     src,
			pipeline: "lite", action: plan.Delete,
			effects: []plan.Effect{plan.Remove},
			summary: []string{"pipeline removed"},
			check: func(t *testing.T, p *plan.Plan, pl *plan.Pipeline) {
				if len(pl.Steps) == 0 || pl.Steps[0].Action != plan.Delete {
					t.Errorf("steps = %s", js(pl.Steps))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			baseSrc := tt.base
			if baseSrc == "" {
				baseSrc = src
			}
			headData := tt.headData
			if headData == nil {
				headData = data
			}
			base, head := compile(t, baseSrc, data), compile(t, tt.head, headData)
			var opts []plan.Option
			if tt.diags {
				opts = append(opts, plan.WithDiagnostics(base.Diags, head.Diags))
			}
			p := plantest.Diff(base, head, opts...)
			pl := pipelineOf(t, p, tt.pipeline)
			if pl.Action != tt.action {
				t.Errorf("action = %s, want %s", pl.Action, tt.action)
			}
			if !slices.Equal(pl.Effects, tt.effects) {
				t.Errorf("effects = %v, want %v", pl.Effects, tt.effects)
			}
			for _, s := range tt.summary {
				if !strings.Contains(pl.Summary, s) {
					t.Errorf("summary %q does not say %q", pl.Summary, s)
				}
			}
			if tt.action != plan.NoOp && !p.Changed() {
				t.Error("Changed() = false")
			}
			if tt.check != nil {
				tt.check(t, p, pl)
			}
		})
	}
}

func js(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(data)
}

// TestMissingRevision plans against a revision where the package does not
// exist: every pipeline is created, or deleted.
func TestMissingRevision(t *testing.T) {
	src, data := plantest.Churn(t)
	c := compile(t, src+plantest.Lite, data)
	created := plan.Diff(nil, c.Program, nil, c.Files, plantest.Inputs)
	deleted := plan.Diff(c.Program, nil, c.Files, nil, plantest.Inputs)
	for _, tt := range []struct {
		p      *plan.Plan
		action plan.Action
		files  plan.Action
	}{{created, plan.Create, plan.Create}, {deleted, plan.Delete, plan.Delete}} {
		if len(tt.p.Pipelines) != 2 {
			t.Fatalf("%d pipelines, want 2", len(tt.p.Pipelines))
		}
		for _, pl := range tt.p.Pipelines {
			if pl.Action != tt.action {
				t.Errorf("%s: action %s, want %s", pl.Name, pl.Action, tt.action)
			}
		}
		for _, f := range tt.p.Files {
			if f.Action != tt.files {
				t.Errorf("%s: action %s, want %s", f.Path, f.Action, tt.files)
			}
		}
		if !tt.p.Changed() {
			t.Error("Changed() = false")
		}
	}
	if churn := created.Pipelines[0]; churn.Summary != "new pipeline, will train and deploy to production and staging" ||
		!slices.Equal(churn.Effects, []plan.Effect{plan.Retrain, plan.Redeploy, plan.Schedule}) {
		t.Errorf("created churn: %q %v", churn.Summary, churn.Effects)
	}
	if deleted.Inputs.Head.Path != "" || deleted.Inputs.Base.Path != "examples/churn" {
		t.Errorf("inputs = %+v", deleted.Inputs)
	}
	empty := plan.Diff(nil, nil, nil, nil, plan.Inputs{})
	if empty.Changed() || len(empty.Pipelines) != 0 {
		t.Errorf("an empty plan changes: %s", js(empty))
	}
}

// TestPolicyOutsidePipelines keeps findings that name no pipeline on the
// plan itself.
func TestPolicyOutsidePipelines(t *testing.T) {
	src, data := plantest.Churn(t)
	c := compile(t, src, data)
	finding := diag.Diagnostic{Severity: diag.Error, Rule: "policy/team/registry", Message: "images come from the team's registry"}
	resolved := diag.Diagnostic{Severity: diag.Warning, Path: "pipelines.churn.owner", Rule: "policy/team/owner", Message: "owner is a team"}
	other := diag.Diagnostic{Severity: diag.Warning, Rule: "schema", Message: "not a policy"}
	p := plantest.Diff(c, c, plan.WithDiagnostics(diag.Diagnostics{resolved, other}, diag.Diagnostics{finding, other}))
	if len(p.Diagnostics) != 1 || p.Diagnostics[0].Rule != "policy/team/registry" || p.Diagnostics[0].Status != plan.StatusNew || p.Diagnostics[0].Severity != "error" {
		t.Errorf("plan diagnostics = %s", js(p.Diagnostics))
	}
	churn := p.Pipelines[0]
	if len(churn.Diagnostics) != 1 || churn.Diagnostics[0].Status != plan.StatusResolved || churn.Action != plan.Update ||
		!slices.Equal(churn.Effects, []plan.Effect{plan.Policy}) || churn.Summary != "1 policy finding resolved" {
		t.Errorf("churn = %s", js(churn))
	}
	if !p.Changed() {
		t.Error("Changed() = false")
	}
}
