package monitor

import (
	"bytes"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/table"
)

// FuzzHTML renders the report of columns with arbitrary names and
// categories and checks that the page never carries raw markup from them
// and that its SVG stays well-formed.
func FuzzHTML(f *testing.F) {
	f.Add("plan", "basic", "pro", "training")
	f.Add("<script>", "</svg>", "&amp;", `"'><`)
	f.Add("ctl\x00\x01", "\xff\xfe", "]]>", "\u2028")
	f.Fuzz(func(t *testing.T, name, a, b, source string) {
		if name == "" {
			return
		}
		ref, err := table.New(table.NewText(name, table.Category, []string{a, b, a, a}, nil))
		if err != nil {
			return
		}
		cur, err := table.New(table.NewText(name, table.Category, []string{b, b, a, b}, nil))
		if err != nil {
			return
		}
		r, err := Compare(ref, cur, Config{Reference: source, Current: a})
		if err != nil {
			return
		}
		var page bytes.Buffer
		if err := HTML(&page, r); err != nil {
			t.Fatal(err)
		}
		if n := checkSVG(t, page.Bytes()); n != 1 {
			t.Errorf("%d charts, want 1", n)
		}
		if bytes.Contains(page.Bytes(), []byte("<script")) {
			t.Error("page contains a script element")
		}
		if _, err := Marshal(r); err != nil {
			t.Fatal(err)
		}
	})
}
