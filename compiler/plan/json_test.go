package plan_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/compiler/plan"
)

// smallPlan is a plan made by hand with a bit of everything.
func smallPlan() *plan.Plan {
	return &plan.Plan{FormatVersion: plan.FormatVersion,
		Inputs: plan.Inputs{SlipwayVersion: "0.1.0",
			Base: plan.Revision{Ref: "origin/main", Commit: strings.Repeat("a", 40), SpecDigests: map[string]string{"churn": "sha256:1"}},
			Head: plan.Revision{Ref: "HEAD", Commit: strings.Repeat("b", 40), SpecDigests: map[string]string{"churn": "sha256:2"}}},
		Pipelines: []*plan.Pipeline{{Name: "churn", Action: plan.Update, Effects: []plan.Effect{plan.Retrain}, Summary: "learning rate 0.1 → 0.05, will retrain",
			Changes:      []*plan.Change{{Path: `training.gbdt.learningRate`, Action: plan.Update, Old: json.Number("0.1"), New: json.Number("0.05"), Effect: plan.Retrain}},
			Retrain:      []*plan.Reason{{Step: "churn/train", Kind: plan.ReasonParam, Path: "gbdt.learningRate", Old: json.Number("0.1"), New: json.Number("0.05")}},
			Environments: []*plan.Environment{{Name: "production", Action: plan.Update, Redeploy: true, Reasons: []string{"a new model"}}},
			Gates:        []*plan.GateChange{{Name: "auc", Action: plan.NoOp, Old: "roc_auc ≥ 0.8", New: "roc_auc ≥ 0.8"}},
			Steps:        []*plan.Step{{ID: "churn/train", Kind: "train", Action: plan.Update, Rerun: true, OldKey: "sha256:1", NewKey: "sha256:2", Effect: plan.Retrain}},
			Diagnostics:  []*plan.Diagnostic{{Severity: "warning", Rule: "policy/x", Message: "m", Status: plan.StatusNew}}}},
		Files: []*plan.FileDiff{{Path: "f", Action: plan.Update, Added: 1, Removed: 1, Diff: "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n"}},
	}
}

func TestMarshal(t *testing.T) {
	p := smallPlan()
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("{\n  \"files\": [\n")) || !bytes.HasSuffix(data, []byte("}\n")) {
		t.Errorf("not canonical JSON with sorted keys:\n%s", data)
	}
	q, err := plan.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := q.Marshal(); !bytes.Equal(data, again) {
		t.Errorf("decoding and encoding changes the plan:\n%s\n%s", data, again)
	}
	if !q.Changed() || q.Pipelines[0].Changes[0].Phrase() != "learning rate 0.1 → 0.05" {
		t.Errorf("the decoded plan says something else: %v %q", q.Changed(), q.Pipelines[0].Changes[0].Phrase())
	}

	name := filepath.Join(t.TempDir(), "plan.json")
	if err := p.WriteFile(name); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(name)
	if err != nil || !bytes.Equal(written, data) {
		t.Errorf("WriteFile wrote something else (%v)", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(name)); len(entries) != 1 {
		t.Errorf("WriteFile left %d files, want only the plan", len(entries))
	}
	if err := p.WriteFile(filepath.Join(t.TempDir(), "missing", "plan.json")); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := map[string]string{
		"not json":      "{",
		"other version": `{"formatVersion":"slipway.dev/plan/v0"}`,
		"no version":    `{}`,
		"unknown field": `{"formatVersion":"slipway.dev/plan/v1","extra":1}`,
		"trailing data": `{"formatVersion":"slipway.dev/plan/v1"} {}`,
		"wrong type":    `{"formatVersion":"slipway.dev/plan/v1","pipelines":{}}`,
	}
	for name, in := range tests {
		if _, err := plan.Unmarshal([]byte(in)); err == nil || !strings.Contains(err.Error(), "read the plan") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := plan.Unmarshal([]byte(`{"formatVersion":"slipway.dev/plan/v0"}`)); err == nil || !strings.Contains(err.Error(), `"slipway.dev/plan/v0"`) {
		t.Errorf("a version error does not name the version: %v", err)
	}
}

// FuzzUnmarshal reads arbitrary plans: no panic, and what reads encodes
// and reads back to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	data, err := smallPlan().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"formatVersion":"slipway.dev/plan/v1","pipelines":[{"name":"x","changes":[{"path":"a[0].\"b\"","old":1e400}]}]}`))
	f.Add([]byte(`{"formatVersion":"slipway.dev/plan/v1","files":[{"path":"x","diff":"@@"}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := plan.Unmarshal(in)
		if err != nil {
			return
		}
		for _, pl := range p.Pipelines {
			if pl == nil {
				continue
			}
			for _, c := range pl.Changes {
				if c != nil {
					_ = c.Phrase()
				}
			}
			for _, r := range pl.Retrain {
				if r != nil {
					_ = r.Phrase()
				}
			}
		}
		out, err := p.Marshal()
		if err != nil {
			return
		}
		q, err := plan.Unmarshal(out)
		if err != nil {
			t.Fatalf("a plan this package wrote does not read: %v\n%s", err, out)
		}
		again, err := q.Marshal()
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("encoding is not stable: %v", err)
		}
	})
}

func TestFilesDigest(t *testing.T) {
	a := []plan.File{{Path: "a", Data: []byte("1")}, {Path: "b", Data: []byte("2")}}
	b := []plan.File{{Path: "b", Data: []byte("2")}, {Path: "a", Data: []byte("1")}}
	if plan.FilesDigest(a) != plan.FilesDigest(b) {
		t.Error("the digest depends on the order of the files")
	}
	// Moving a byte from one file to the next changes the digest.
	c := []plan.File{{Path: "a", Data: []byte("12")}, {Path: "b", Data: []byte("")}}
	if plan.FilesDigest(a) == plan.FilesDigest(c) {
		t.Error("different files give the same digest")
	}
	if plan.FilesDigest(nil) != "" {
		t.Error("no files have a digest")
	}
}
