package monitor

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/slipway-ml/slipway/backends/output"
	"github.com/slipway-ml/slipway/runners/drift"
)

// File names of the drift report in a directory.
const (
	// JSONFile is the machine-readable report.
	JSONFile = "drift.json"
	// HTMLFile is the page for people.
	HTMLFile = "drift.html"
)

// Marshal encodes the report as indented JSON with a final newline. The
// encoding is deterministic: fields in declaration order, features in the
// report's order.
func Marshal(r *Report) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("encode drift report: no report")
	}
	out := *r
	if out.Features == nil {
		out.Features = []drift.Result{}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode drift report: %w", err)
	}
	return append(b, '\n'), nil
}

// Write writes the report to dir/drift.json (Marshal) and dir/drift.html
// (HTML), creating dir if needed. Both are rendered before anything is
// written, and each file is written to a temporary file and renamed into
// place, so a reader never sees a half-written one.
func Write(dir string, r *Report) error {
	js, err := Marshal(r)
	if err != nil {
		return err
	}
	var page bytes.Buffer
	if err := HTML(&page, r); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write drift report: %w", err)
	}
	if err := output.WriteFile(filepath.Join(dir, JSONFile), js); err != nil {
		return err
	}
	return output.WriteFile(filepath.Join(dir, HTMLFile), page.Bytes())
}

//go:embed drift.html.tmpl
var pageSource string

// page is the drift report's HTML template.
var page = template.Must(template.New("drift").Parse(pageSource))

// HTML writes the report as one self-contained HTML page: inline CSS and
// inline SVG charts, no script and no remote asset. Every string is
// escaped, and characters that XML forbids, or invalid UTF-8, are replaced
// by U+FFFD. Nothing is written to w when rendering fails.
func HTML(w io.Writer, r *Report) error {
	if r == nil {
		return fmt.Errorf("render drift report: no report")
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, newView(r)); err != nil {
		return fmt.Errorf("render drift report: %w", err)
	}
	if _, err := w.Write(bytes.ToValidUTF8(buf.Bytes(), []byte("\uFFFD"))); err != nil {
		return fmt.Errorf("write drift report: %w", err)
	}
	return nil
}

// view is what the template shows.
type view struct {
	Title                      string
	Reference, Current         string
	RowsReference, RowsCurrent string
	Method                     string
	Drifted                    bool
	Verdict                    string
	Features                   []featureView
	DriftedCount               int
}

// featureView is one feature's row and chart.
type featureView struct {
	ID                                 string
	Name, Method, Statistic, Threshold string
	Rule                               string
	Drifted                            bool
	Chart                              *chart
}

func newView(r *Report) *view {
	v := &view{
		Reference: text(orDash(r.Reference)), Current: text(orDash(r.Current)),
		RowsReference: count(r.RowsReference), RowsCurrent: count(r.RowsCurrent),
		Method: text(r.Method), Drifted: r.Drifted,
	}
	if v.Method == "" {
		v.Method = "chosen per feature"
	}
	for i, f := range r.Features {
		fv := featureView{
			ID:   "f" + strconv.Itoa(i+1),
			Name: text(f.Feature), Method: text(f.Method),
			Statistic: num(f.Statistic), Threshold: num(f.Threshold),
			Rule: rule(f.Method, f.Threshold), Drifted: f.Drifted,
			Chart: newChart(f),
		}
		if f.Drifted {
			v.DriftedCount++
		}
		v.Features = append(v.Features, fv)
	}
	state := "no dataset drift"
	if r.Drifted {
		state = "dataset drift"
	}
	v.Title = "Drift: " + state
	v.Verdict = fmt.Sprintf("%d of %d feature%s drifted (%s); the dataset drifts at %s or more.",
		v.DriftedCount, len(r.Features), plural(len(r.Features)), share(r.ShareDrifted), share(r.Share))
	return v
}

// rule states when a method reports drift.
func rule(method string, threshold float64) string {
	t := num(threshold)
	switch method {
	case drift.MethodKS:
		return "drift when p ≤ " + t
	case drift.MethodChiSquare, drift.MethodZ:
		return "drift when p < " + t
	}
	return "drift when ≥ " + t
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// num formats a number with four significant digits.
func num(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// share formats a share in [0, 1] as a percentage with one decimal.
func share(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// count formats an integer with thousands separators: 1,234,567.
func count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// text replaces what XML cannot hold (control characters, invalid UTF-8,
// non-characters) by U+FFFD, so that the inline SVG stays well-formed.
func text(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' ||
			(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF) {
			return r
		}
		return '\uFFFD'
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
