package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	mb, err := os.ReadFile(filepath.Join(binaryDir, "model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(mb)
	tests := []struct {
		dir                          string
		name, kind, task, out, posit string
		digest                       string
	}{
		{binaryDir, "churn", "logistic", "binary", "probability", "yes", "sha256:" + hex.EncodeToString(sum[:])},
		{regressionDir, "spend", "gbdt", "regression", "prediction", "", ""},
	}
	for _, tc := range tests {
		m := loadModel(t, tc.dir)
		if m.Name != tc.name || m.Kind != tc.kind || m.Task != tc.task || m.Output != tc.out || m.Positive != tc.posit {
			t.Errorf("Load(%s) = name %q kind %q task %q output %q positive %q, want %q %q %q %q %q",
				tc.dir, m.Name, m.Kind, m.Task, m.Output, m.Positive, tc.name, tc.kind, tc.task, tc.out, tc.posit)
		}
		if tc.digest != "" && m.Digest != tc.digest {
			t.Errorf("Digest = %q, want %q", m.Digest, tc.digest)
		}
		if !strings.HasPrefix(m.Digest, "sha256:") || len(m.Digest) != 71 {
			t.Errorf("Digest = %q, want sha256:<64 hex>", m.Digest)
		}
		want := []Input{{Name: "age", Type: TypeNumber}, {Name: "plan", Type: TypeString}}
		if !reflect.DeepEqual(m.Inputs, want) {
			t.Errorf("Inputs = %v, want %v", m.Inputs, want)
		}
	}
}

// copyModel copies the binary model directory, applying edit to the
// named file's content (or removing the file when edit returns nil).
func copyModel(t testing.TB, file string, edit func([]byte) []byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "churn")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"model.bin", "train.json", "features.json", "schema.json"} {
		b, err := os.ReadFile(filepath.Join(binaryDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == file {
			if b = edit(b); b == nil {
				continue
			}
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadErrors(t *testing.T) {
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte { return []byte(strings.Replace(string(b), old, new, 1)) }
	}
	tests := []struct {
		name, file string
		edit       func([]byte) []byte
		want       string
	}{
		{"no schema", "schema.json", func([]byte) []byte { return nil }, "read schema.json"},
		{"no model", "model.bin", func([]byte) []byte { return nil }, "read model.bin"},
		{"bad json", "train.json", func([]byte) []byte { return []byte("{") }, "parse train.json"},
		{"unknown kind", "train.json", replace(`"logistic"`, `"forest"`), `unknown model kind "forest"`},
		{"task differs", "train.json", replace(`"binary"`, `"regression"`), "the task differs"},
		{"schema version", "schema.json", replace(`"version":1`, `"version":2`), "version 2, want 1"},
		{"input renamed", "schema.json", replace(`"age"`, `"years"`), `"years" (number), features.json reads "age"`},
		{"input retyped", "schema.json", replace(`"type":"string"`, `"type":"number"`), `"plan" (number)`},
		{"corrupt model", "model.bin", func(b []byte) []byte { return b[:len(b)/2] }, "model.bin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(copyModel(t, tc.file, tc.edit))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestPredict(t *testing.T) {
	m := loadModel(t, binaryDir)
	p, err := m.Predict([]map[string]any{
		{"age": 70.0, "plan": "pro"},
		{"age": 20.0, "plan": "max"},
		{"age": 40.0, "plan": nil},
		{"age": true, "plan": "basic"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 4 {
		t.Fatalf("got %d scores, want 4", len(p))
	}
	for i, v := range p {
		if !(v >= 0 && v <= 1) {
			t.Errorf("score %d = %v, want a probability", i, v)
		}
	}
	if p[0] <= p[1] {
		t.Errorf("old pro user scores %v, young max user %v; want the first higher", p[0], p[1])
	}
	again, err := m.Predict([]map[string]any{{"age": 70.0, "plan": "pro"}})
	if err != nil || again[0] != p[0] {
		t.Errorf("one-record Predict = %v, %v; want %v as in a batch", again, err, p[0])
	}
	r := loadModel(t, regressionDir)
	rp, err := r.Predict([]map[string]any{{"age": 60.0, "plan": "basic"}, {"age": 20.0, "plan": "basic"}})
	if err != nil {
		t.Fatal(err)
	}
	if rp[0] <= rp[1] {
		t.Errorf("spend at 60 = %v, at 20 = %v; want the first higher", rp[0], rp[1])
	}
}

func TestPredictErrors(t *testing.T) {
	m := loadModel(t, binaryDir)
	tests := []struct {
		name  string
		rows  []map[string]any
		row   int
		field string
		want  string
	}{
		{"none", nil, 0, "", "no records"},
		{"null record", []map[string]any{nil}, 1, "", "null"},
		{"string for number", []map[string]any{{"age": "old", "plan": "pro"}}, 1, "age", "want a number, found a string"},
		{"number for string", []map[string]any{{"age": 3.0, "plan": 2.0}}, 1, "plan", "want a string, found a number"},
		{"object", []map[string]any{{"age": map[string]any{}, "plan": "pro"}}, 1, "age", "found an object"},
		{"missing", []map[string]any{{"age": 3.0, "plan": "pro"}, {"plan": "pro"}}, 2, "age", "missing"},
		{"missing number", []map[string]any{{"age": nil, "plan": "pro"}}, 0, "", "cannot score"},
		{"unknown", []map[string]any{{"age": 3.0, "plan": "pro", "zzz": 1.0, "churned": "yes"}}, 1, "churned", "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Predict(tc.rows)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Predict = %v, want an *InputError", err)
			}
			if ie.Row != tc.row || ie.Field != tc.field || !strings.Contains(ie.Error(), tc.want) {
				t.Errorf("error = %+v (%q), want row %d field %q containing %q", ie, ie.Error(), tc.row, tc.field, tc.want)
			}
		})
	}
}
