package diag

import (
	"strings"
	"testing"
)

func TestDiagnostics(t *testing.T) {
	var ds Diagnostics
	ds.Warnf(Pos{File: "/w/b.cue", Line: 2, Column: 1}, "pipelines.p", "policy/default/x", "careful")
	ds.Errorf(Pos{File: "/w/a.cue", Line: 9, Column: 4}, "pipelines.p.training", "schema", "wrong %s", "type")
	ds.Errorf(Pos{File: "/w/a.cue", Line: 3, Column: 7}, "pipelines.p.gates", "reference", "missing")
	ds.Errorf(Pos{File: "/w/a.cue", Line: 3, Column: 7}, "pipelines.p.gates", "reference", "missing")
	sorted := ds.Sort().Rel("/w")
	want := []string{
		"a.cue:3:7: pipelines.p.gates: missing [reference]",
		"a.cue:9:4: pipelines.p.training: wrong type [schema]",
		"b.cue:2:1: warning: pipelines.p: careful [policy/default/x]",
	}
	if len(sorted) != len(want) {
		t.Fatalf("got %d diagnostics, want %d: %v", len(sorted), len(want), sorted)
	}
	for i, d := range sorted {
		if d.String() != want[i] {
			t.Errorf("%d: %q, want %q", i, d.String(), want[i])
		}
	}
	if !ds.HasErrors() || len(ds.Errors()) != 3 {
		t.Errorf("HasErrors/Errors wrong: %v", ds.Errors())
	}
	if err := ds.Err(); err == nil {
		t.Error("Err() = nil with errors present")
	}
	var warnOnly Diagnostics
	warnOnly.Warnf(Pos{}, "", "r", "w")
	if warnOnly.Err() != nil {
		t.Error("warnings alone are an error")
	}
}

func TestJoinPath(t *testing.T) {
	for in, want := range map[string]string{
		"a b c":         "a.b.c",
		"pipelines x-y": `pipelines."x-y"`,
		"steps 0 name":  "steps.0.name",
	} {
		if got := JoinPath(strings.Fields(in)); got != want {
			t.Errorf("JoinPath(%q) = %q, want %q", in, got, want)
		}
	}
}
