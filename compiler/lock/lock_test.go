package lock

import (
	"strings"
	"testing"
	"testing/fstest"
)

const good = `{
  "version": 1,
  "datasets": {"churn/customers": {"source": "data/churn.csv", "sha256": "7eaf98ebcdf529c260539b939b6d1e8f5001b9d3d5266810560ba070c5bc2046"}},
  "champions": {"churn": {"production": {"digest": "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0", "metrics": {"roc_auc": 0.91}}}}
}
`

func TestParse(t *testing.T) {
	l, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.DatasetDigest("churn", "customers"); !strings.HasPrefix(got, "7eaf98eb") {
		t.Errorf("DatasetDigest = %q", got)
	}
	c, ok := l.Champion("churn", "production")
	if !ok || c.Metrics["roc_auc"] != 0.91 {
		t.Errorf("Champion = %+v, %v", c, ok)
	}
	if _, ok := l.Champion("churn", "staging"); ok {
		t.Error("found a champion for staging")
	}
	// Round trip.
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	l2, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	data2, _ := l2.Marshal()
	if string(data) != string(data2) {
		t.Error("marshal is not stable")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in        string
		msg       string
		line, col int
	}{
		{"{\n  \"version\": 1,\n  \"datasets\": [\n}", "invalid lock file", 4, 1},
		{`{"version": 2}`, "version 2 is not supported", 0, 0},
		{`{"version": 1, "extra": true}`, `unknown field "extra"`, 0, 0},
		{"{\"version\": 1,\n\"datasets\": {\"a/b\": {\"source\": \"x\", \"sha256\": \"abc\"}}}", "sha256 must be 64", 0, 0},
		{`{"version": 1, "champions": {"p": {"prod": {"digest": "md5:00"}}}}`, "must be sha256:", 0, 0},
		{`{"version": "one"}`, "cannot unmarshal string", 1, 18},
		{`{"version": 1} {}`, "data after", 0, 0},
		{`{"version": 1, "images": {"r/i:v1": "latest"}}`, `image "r/i:v1": digest "latest" must be sha256:`, 0, 0},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Parse(%q) = %v, want %q", tt.in, err, tt.msg)
			continue
		}
		pe := err.(*ParseError)
		if pe.Line != tt.line || pe.Column != tt.col {
			t.Errorf("Parse(%q) at %d:%d, want %d:%d", tt.in, pe.Line, pe.Column, tt.line, tt.col)
		}
	}
}

func TestRead(t *testing.T) {
	fsys := fstest.MapFS{
		"p/slipway.lock": {Data: []byte(good)},
		"q/slipway.lock": {Data: []byte("{\n  \"version\": 1,\n  oops\n}")},
	}
	if l, ds := Read(fsys, "p", "/repo"); len(ds) != 0 || l == nil {
		t.Fatalf("Read(p) = %v, %v", l, ds)
	}
	if l, ds := Read(fsys, "none", "/repo"); len(ds) != 0 || l == nil || l.Version != Version {
		t.Fatalf("Read(none) = %v, %v; want an empty lock", l, ds)
	}
	_, ds := Read(fsys, "q", "/repo")
	if len(ds) != 1 || ds[0].Pos.String() != "/repo/q/slipway.lock:3:3" {
		t.Fatalf("Read(q) = %v; want one error at /repo/q/slipway.lock:3:3", ds)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"version": 1}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data)
		if err != nil {
			return
		}
		out, err := l.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("a parsed lock does not re-parse: %v", err)
		}
	})
}

func TestPromoteAndRollback(t *testing.T) {
	l := &Lock{Version: Version}
	d := func(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }
	if !l.Promote("p", "prod", Champion{Digest: d('a')}) || l.Promote("p", "prod", Champion{Digest: d('a')}) {
		t.Fatal("promoting the champion again must change nothing")
	}
	for _, c := range "bcdef0123456" {
		l.Promote("p", "prod", Champion{Digest: d(byte(c))})
	}
	if got := len(l.History["p"]["prod"]); got != MaxHistory {
		t.Errorf("history holds %d, want %d", got, MaxHistory)
	}
	c, err := l.Rollback("p", "prod")
	if err != nil || c.Digest != d('5') || l.Champions["p"]["prod"].Digest != d('5') {
		t.Fatalf("rollback: %v %v", c, err)
	}
	b, _ := l.Marshal()
	if _, err := Parse(b); err != nil {
		t.Fatalf("a lock with history does not parse: %v", err)
	}
	if _, err := (&Lock{Version: Version}).Rollback("p", "prod"); err == nil {
		t.Error("rollback with no history")
	}
}
