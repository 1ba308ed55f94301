package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeExample validates the example spec shown in the README, so the
// first spec a reader sees is one that works.
func TestReadmeExample(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```cue\n")
	if !ok {
		t.Fatal("README has no cue example")
	}
	spec, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README's cue example is not closed")
	}
	if n := strings.Count(spec, "\n"); n > 40 {
		t.Errorf("README example has %d lines; keep it short", n)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "churn.cue"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"validate", dir}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("README example: exit %d\n%s", code, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("README example has warnings:\n%s", stderr.String())
	}
}
