package monitor

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocateCurrent(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "cur.jsonl")
	for _, tc := range []struct{ src, path, name string }{
		{"data/cur.csv", filepath.Join("base", "data", "cur.csv"), "data/cur.csv"},
		{abs, abs, abs},
	} {
		path, name, err := LocateCurrent(context.Background(), tc.src, "base", t.TempDir())
		if err != nil || path != tc.path || name != tc.name {
			t.Errorf("LocateCurrent(%q) = %q, %q, %v; want %q, %q", tc.src, path, name, err, tc.path, tc.name)
		}
	}
	// A URL goes through the hardened fetcher, which refuses plain http.
	if _, _, err := LocateCurrent(context.Background(), "http://example.invalid/cur.csv", "base", t.TempDir()); err == nil || !strings.Contains(err.Error(), "current data") {
		t.Errorf("http URL: err = %v", err)
	}
}
