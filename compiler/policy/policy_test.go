package policy_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/policy"
)

const base = `package p
pipelines: p: {
	image: "ghcr.io/slipway-ml/slipway@sha256:0000000000000000000000000000000000000000000000000000000000000000"
	datasets: d: {source: "d.csv", columns: {x: type: "float", r: {type: "category", values: ["n", "s"]}, g: {type: "category", values: ["a", "b"], pii: true}, y: type: "bool"}}
	features: {dataset: "d", label: "y", drop: ["g"]}
	training: {model: "logistic"}
	gates: auc: {metric: "roc_auc", min: 0.6}
	gates: parity: {metric: "demographic_parity_difference", group: "r", max: 0.2}
	artifact: {repository: "ghcr.io/acme/p", signing: key: "K"}
	deploy: environments: production: {approval: true, rollout: {strategy: "canary", steps: [{weight: 50}, {weight: 100}]}}
	monitoring: drift: method: "psi"
}
`

func TestBuiltinPacks(t *testing.T) {
	// Each variant edits the clean base and names the one rule it trips.
	variants := []struct {
		name        string
		packs       []string
		replace     [2]string
		extra, want string
	}{
		{"clean", []string{"default", "strict"}, [2]string{}, "", ""},
		{"unsigned", []string{"default"}, [2]string{`, signing: key: "K"`, ""}, "", "default/production-signed:error"},
		{"no gates", []string{"default"}, [2]string{"gates: auc: {metric: \"roc_auc\", min: 0.6}\n\tgates: parity: {metric: \"demographic_parity_difference\", group: \"r\", max: 0.2}", ""}, "", "default/production-gated:error"},
		{"no fairness gate", []string{"strict"}, [2]string{"gates: parity: {metric: \"demographic_parity_difference\", group: \"r\", max: 0.2}", ""}, "", "strict/fairness-gated:warning"},
		{"no approval", []string{"default"}, [2]string{"approval: true, ", ""}, "", "default/production-approval:warning"},
		{"pii monitored", []string{"default"}, [2]string{}, `pipelines: p: monitoring: drift: features: g: threshold: 0.2`, "default/pii-not-monitored:error"},
		{"pii group in clear", []string{"default"}, [2]string{}, `pipelines: p: gates: fair: {metric: "disparate_impact", group: "g", min: 0.8}`, "default/pii-pseudonymized:error"},
		{"pii group pseudonymized", []string{"default"}, [2]string{`drop: ["g"]`, `pii: {action: "pseudonymize", keySecret: "PII_KEY"}`}, `pipelines: p: gates: fair: {metric: "disparate_impact", group: "g", min: 0.8}`, ""},
		{"gpu without placement", []string{"default"}, [2]string{`model: "logistic"`, `model: "mlp", device: "gpu", resources: gpu: {count: 1, type: "t4"}`}, "", "default/gpu-placement:warning"},
		{"gpu placed", []string{"default"}, [2]string{`model: "logistic"`, `model: "mlp", device: "gpu", resources: gpu: {count: 1, type: "t4", runnerLabels: ["gpu"]}`}, "", ""},
		{"tag not digest", []string{"strict"}, [2]string{`@sha256:0000000000000000000000000000000000000000000000000000000000000000`, ":v1"}, "", "strict/pinned-image:error"},
		{"rolling production", []string{"strict"}, [2]string{`, rollout: {strategy: "canary", steps: [{weight: 50}, {weight: 100}]}`, ""}, "", "strict/production-progressive:error"},
		{"unmonitored production", []string{"strict"}, [2]string{`monitoring: drift: method: "psi"`, ""}, "", "strict/production-monitored:error"},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			src := base
			if v.replace[0] != "" {
				if !strings.Contains(src, v.replace[0]) {
					t.Fatalf("base has no %q", v.replace[0])
				}
				src = strings.Replace(src, v.replace[0], v.replace[1], 1)
			}
			var ps []policy.Pack
			for _, n := range v.packs {
				p, _ := policy.Builtin(n)
				ps = append(ps, p)
			}
			_, ds := compiler.Compile(context.Background(), compiler.Options{
				FS: fstest.MapFS{"p.cue": {Data: []byte(src + v.extra)}}, Root: "/r", Policies: ps,
			})
			var got []string
			for _, d := range ds {
				if !strings.HasPrefix(d.Rule, "policy/") {
					continue
				}
				if !d.Pos.IsValid() {
					t.Errorf("%s has no position", d)
				}
				got = append(got, strings.TrimPrefix(d.Rule, "policy/")+":"+d.Severity.String())
			}
			want := []string{}
			if v.want != "" {
				want = []string{v.want}
			}
			if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("rules = %v, want %v\n%s", got, want, (&diag.ListError{List: ds}).Error())
			}
		})
	}
}

// TestCustomPack checks a team's own pack, and that a broken pack is
// reported rather than ignored.
func TestCustomPack(t *testing.T) {
	pack := policy.Pack{Name: "team", Root: "/packs/team", FS: fstest.MapFS{"team.cue": {Data: []byte(`package team
input: _
violations: [for pn, p in input.pipelines if p.owner == _|_ {
	rule: "owner", severity: "warning", path: ["pipelines", pn], message: "name an owner"
}]
`)}}}
	_, ds := compiler.Compile(context.Background(), compiler.Options{
		FS: fstest.MapFS{"p.cue": {Data: []byte(base)}}, Root: "/r", Policies: []policy.Pack{pack},
	})
	if len(ds) != 1 || ds[0].Rule != "policy/team/owner" || ds[0].Severity != diag.Warning || ds[0].Pos.String() != "/r/p.cue:2:12" {
		t.Fatalf("custom pack: %v", ds)
	}
	broken := policy.Pack{Name: "broken", Root: "/packs/broken", FS: fstest.MapFS{"b.cue": {Data: []byte("package b\nviolations: [1 +]\n")}}}
	res, ds := compiler.Compile(context.Background(), compiler.Options{
		FS: fstest.MapFS{"p.cue": {Data: []byte(base)}}, Root: "/r", Policies: []policy.Pack{broken},
	})
	if res != nil || len(ds) == 0 || !strings.Contains(ds[0].Message, `policy pack "broken" does not evaluate`) {
		t.Fatalf("broken pack: %v", ds)
	}
}
