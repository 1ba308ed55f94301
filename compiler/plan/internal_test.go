package plan

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDiffJSON(t *testing.T) {
	tests := []struct {
		name, a, b string
		want       []string // "action path old new"
	}{
		{"equal", `{"a":1}`, `{"a":1}`, nil},
		{"scalar", `{"training":{"gbdt":{"learningRate":0.1}}}`, `{"training":{"gbdt":{"learningRate":0.05}}}`,
			[]string{"update training.gbdt.learningRate 0.1 0.05"}},
		{"added and removed keys", `{"a":1,"b":2}`, `{"b":2,"c":{"d":true}}`,
			[]string{`delete a 1 (none)`, `create c (none) {"d":true}`}},
		{"quoted key", `{"gates":{"intl-plan-parity":{"max":0.5}}}`, `{"gates":{"intl-plan-parity":{"max":0.4}}}`,
			[]string{`update gates."intl-plan-parity".max 0.5 0.4`}},
		{"named list keyed by name", `{"gates":[{"name":"auc","min":0.8},{"name":"f1","min":0.5}]}`,
			`{"gates":[{"name":"f1","min":0.5},{"name":"auc","min":0.85},{"name":"new","min":1}]}`,
			[]string{"update gates.auc.min 0.8 0.85", `create gates.new (none) {"min":1,"name":"new"}`}},
		{"named list from empty", `{"gates":[]}`, `{"gates":[{"name":"auc"}]}`,
			[]string{`create gates.auc (none) {"name":"auc"}`}},
		{"objects by index", `{"steps":[{"weight":10},{"weight":50}]}`, `{"steps":[{"weight":25},{"weight":50},{"weight":100}]}`,
			[]string{"update steps[0].weight 10 25", `create steps[2] (none) {"weight":100}`}},
		{"scalar list is one value", `{"drop":["a","b"]}`, `{"drop":["b","a","c"]}`,
			[]string{`update drop ["a","b"] ["b","a","c"]`}},
		{"duplicate names compare by index", `{"x":[{"name":"a","v":1},{"name":"a","v":2}]}`, `{"x":[{"name":"a","v":1},{"name":"a","v":3}]}`,
			[]string{"update x[1].v 2 3"}},
		{"type change", `{"a":{"b":1}}`, `{"a":[1]}`, []string{`update a {"b":1} [1]`}},
		{"root", `1`, `2`, []string{"update  1 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw []rawChange
			diffJSON(nil, decode(t, tt.a), decode(t, tt.b), &raw)
			var got []string
			for _, r := range raw {
				got = append(got, fmt.Sprintf("%s %s %s %s", r.action, r.path, Format(r.old), Format(r.new)))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestPathRoundTrip(t *testing.T) {
	paths := []path{
		{key("training"), key("gbdt"), key("learningRate")},
		{key("deploy"), key("environments"), key("production"), key("rollout"), key("steps"), {index: 0}, key("weight")},
		{key("gates"), key("intl-plan-parity"), key("max")},
		{key("labels"), key("org.opencontainers.image.title")},
		{key(`a"b[c]`), {index: 12}},
	}
	for _, p := range paths {
		s := p.String()
		if got := parsePath(s); fmt.Sprint(got) != fmt.Sprint(p) {
			t.Errorf("parsePath(%q) = %v, want %v", s, got, p)
		}
	}
	if got := parsePath(`a[x]`); len(got) != 1 || got[0].key != "a[x]" {
		t.Errorf("parsePath of a bad index = %v, want one key", got)
	}
}

func TestLabels(t *testing.T) {
	tests := map[string]string{
		"training.gbdt.learningRate":                                  "learning rate",
		"training.logistic.C":                                         "C",
		"training.mlp.hiddenUnits":                                    "hidden units",
		"training.split.test":                                         "split test",
		"training.resources.cpu":                                      "resources cpu",
		"deploy.environments.production.rollout.steps[0].weight":      "production canary step 1 weight",
		"deploy.environments.production.autoscaling.maxReplicas":      "production autoscaling max replicas",
		"deploy.environments.staging":                                 "staging",
		`gates."intl-plan-parity".max`:                                "gate intl-plan-parity max",
		"gates.auc":                                                   "gate auc",
		"datasets.customers.columns.state.values":                     "dataset customers column state values",
		"datasets.customers.expectations.minRows":                     "dataset customers expectations min rows",
		"features.transforms.total_day_minutes[0].op":                 "transforms of total_day_minutes 1 op",
		"features.label":                                              "features label",
		"labels.team":                                                 "label team",
		"labels":                                                      "labels",
		"monitoring.retraining.schedule":                              "retraining schedule",
		"monitoring.slo.latencyP95":                                   "slo latency P95",
		"monitoring.drift.features.calls.threshold":                   "drift features calls threshold",
		"triggers.onDrift":                                            "retrain on drift",
		"steps.report.image":                                          "step report image",
		"description":                                                 "description",
		"deploy.environments.production.autoscaling.targetCPUPercent": "production autoscaling target CPU percent",
	}
	for p, want := range tests {
		if got := label(parsePath(p)); got != want {
			t.Errorf("label(%s) = %q, want %q", p, got, want)
		}
	}
}

func TestHumanize(t *testing.T) {
	for in, want := range map[string]string{
		"learningRate": "learning rate", "C": "C", "l1Ratio": "l1 ratio", "targetCPUPercent": "target CPU percent",
		"latencyP95": "latency P95", "maxBin": "max bin", "total_day_minutes": "total_day_minutes",
		"intl-plan-parity": "intl-plan-parity", "URL": "URL", "readinessPath": "readiness path",
	} {
		if got := humanize(in); got != want {
			t.Errorf("humanize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPhrases(t *testing.T) {
	n := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		c    Change
		want string
	}{
		{Change{Path: "training.gbdt.learningRate", Action: Update, Old: n("0.1"), New: n("0.05")}, "learning rate 0.1 → 0.05"},
		{Change{Path: "deploy.environments.production.rollout.steps[0].weight", Action: Update, Old: n("10"), New: n("25")}, "production canary step 1 weight 10% → 25%"},
		{Change{Path: "deploy.environments.production.rollout.mirrorPercent", Action: Create, New: n("5")}, "production rollout mirror percent 5% added"},
		{Change{Path: "labels.team", Action: Create, New: "growth"}, `label team "growth" added`},
		{Change{Path: "labels.team", Action: Delete, Old: "growth"}, `label team removed`},
		{Change{Path: "description", Action: Update, Old: strings.Repeat("x", 60), New: "y"}, `description "` + strings.Repeat("x", 37) + `…" → "y"`},
		{Change{Path: "gates.auc", Action: Create, New: map[string]any{"metric": "roc_auc", "min": n("0.9"), "split": "test", "name": "auc"}}, "gate auc added"},
	}
	for _, tt := range tests {
		if got := tt.c.Phrase(); got != tt.want {
			t.Errorf("Phrase(%s) = %q, want %q", tt.c.Path, got, tt.want)
		}
	}
}

func TestUnified(t *testing.T) {
	tests := []struct {
		name     string
		a, b     string
		aok, bok bool
		want     string
		add, del int
	}{
		{"change", "a\nb\nc\n", "a\nB\nc\n", true, true,
			"--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n", 1, 1},
		{"new file", "", "x\ny\n", false, true,
			"--- /dev/null\n+++ b/f\n@@ -0,0 +1,2 @@\n+x\n+y\n", 2, 0},
		{"removed file", "x\n", "", true, false,
			"--- a/f\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n", 0, 1},
		{"newline added at end", "a\nb", "a\nb\n", true, true,
			"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n", 1, 1},
		{"removed line that looks like a header", "-- x\ny\n", "y\n", true, true,
			"--- a/f\n+++ b/f\n@@ -1,2 +1 @@\n--- x\n y\n", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, add, del := unified("f", []byte(tt.a), []byte(tt.b), tt.aok, tt.bok)
			if got != tt.want || add != tt.add || del != tt.del {
				t.Errorf("got (+%d -%d)\n%s\nwant (+%d -%d)\n%s", add, del, got, tt.add, tt.del, tt.want)
			}
			if applied, err := applyUnified(tt.a, got); err != nil || applied != tt.b {
				t.Errorf("applying the diff gives %q, %v; want %q", applied, err, tt.b)
			}
		})
	}
}

// applyUnified applies a unified diff to a text, checking every context
// and removed line, to prove the diff right.
func applyUnified(a, diff string) (string, error) {
	src := splitKeep(a)
	var out []string
	lines := splitKeep(diff)
	i := 0 // next line of src
	for k := 0; k < len(lines); k++ {
		l := lines[k]
		switch {
		case k < 2 && (strings.HasPrefix(l, "--- ") || strings.HasPrefix(l, "+++ ")):
		case strings.HasPrefix(l, "@@ "):
			spec := strings.Fields(l)[1] // -start,len
			s := strings.TrimPrefix(spec, "-")
			if c := strings.IndexByte(s, ','); c >= 0 {
				s = s[:c]
			}
			start, err := strconv.Atoi(s)
			if err != nil {
				return "", err
			}
			if start > 0 && !strings.HasSuffix(spec, ",0") {
				start--
			}
			if start < i || start > len(src) {
				return "", fmt.Errorf("hunk %q out of order", l)
			}
			out = append(out, src[i:start]...)
			i = start
		case l == noNewline:
		case strings.HasPrefix(l, " ") || strings.HasPrefix(l, "-"):
			want := l[1:]
			if k+1 < len(lines) && lines[k+1] == noNewline {
				want = strings.TrimSuffix(want, "\n")
			}
			if i >= len(src) || src[i] != want {
				return "", fmt.Errorf("line %d is %q, the diff expects %q", i+1, at(src, i), want)
			}
			if l[0] == ' ' {
				out = append(out, src[i])
			}
			i++
		case strings.HasPrefix(l, "+"):
			add := l[1:]
			if k+1 < len(lines) && lines[k+1] == noNewline {
				add = strings.TrimSuffix(add, "\n")
			}
			out = append(out, add)
		default:
			return "", fmt.Errorf("unexpected diff line %q", l)
		}
	}
	out = append(out, src[i:]...)
	return strings.Join(out, ""), nil
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(end)"
}

func splitKeep(s string) []string {
	if s == "" {
		return nil
	}
	out := strings.SplitAfter(s, "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// FuzzUnified checks that every diff applies back: a + diff(a, b) == b.
func FuzzUnified(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nB\nc\n")
	f.Add("", "x")
	f.Add("x", "")
	f.Add("a\nb", "a\nb\n")
	f.Add("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\n2\nthree\n4\n5\n6\n7\n8\nnine\n10")
	f.Add("-- x\n---\n+++\n", "+++\n--- y\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		if a == b {
			return
		}
		d, add, del := unified("f", []byte(a), []byte(b), true, true)
		got, err := applyUnified(a, d)
		if err != nil || got != b {
			t.Fatalf("diff of %q → %q does not apply: %v (got %q)\n%s", a, b, err, got, d)
		}
		if add+del == 0 {
			t.Fatalf("diff of different texts counts no lines:\n%s", d)
		}
		al, bl := lines([]byte(a)), lines([]byte(b))
		if len(al)*len(bl) <= 10000 {
			if want := len(al) + len(bl) - 2*lcs(al, bl); add+del != want {
				t.Fatalf("diff of %q → %q has %d changed lines, the shortest has %d:\n%s", a, b, add+del, want, d)
			}
		}
		// With no budget the diff is longer but still right.
		var w strings.Builder
		w.WriteString("--- a/f\n+++ b/f\n")
		writeHunks(&w, al, bl, scriptWithin(al, bl, 0), diffContext)
		if got, err := applyUnified(a, w.String()); err != nil || got != b {
			t.Fatalf("diff without budget of %q → %q does not apply: %v\n%s", a, b, err, w.String())
		}
	})
}

// lcs is the length of the longest common subsequence, by dynamic
// programming.
func lcs(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			default:
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func TestDiffScales(t *testing.T) {
	var a, b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&a, "line %d\n", i)
		if i%7 == 0 {
			fmt.Fprintf(&b, "changed %d\n", i)
		} else {
			fmt.Fprintf(&b, "line %d\n", i)
		}
	}
	d, add, del := unified("f", []byte(a.String()), []byte(b.String()), true, true)
	if add != 2858 || del != 2858 {
		t.Errorf("+%d -%d, want +2858 -2858", add, del)
	}
	if got, err := applyUnified(a.String(), d); err != nil || got != b.String() {
		t.Errorf("the diff does not apply: %v", err)
	}
	// Repeated lines anchor nothing, yet one line added at each end is all
	// the diff shows.
	rep := strings.Repeat("  - name: x\n    run: y\n", 5000)
	d, add, del = unified("f", []byte(rep), []byte("a\n"+rep+"b\n"), true, true)
	if add != 2 || del != 0 {
		t.Errorf("repeated lines: +%d -%d, want +2 -0:\n%s", add, del, d)
	}
}
