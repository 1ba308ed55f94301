package report

import (
	"bytes"
	"math"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/metrics"
)

func TestSig4(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{0.8123456, "0.8123"},
		{0.85, "0.8500"},
		{1, "1.000"},
		{-0.04, "-0.04000"},
		{9.99996, "10.00"},
		{123.456, "123.5"},
		{1234.6, "1235"},
		{1234.5, "1234"}, // exactly halfway: to even, as strconv
		{98765.4, "98765"},
		{999999.7, "1.000e+06"},
		{1.5e7, "1.500e+07"},
		{0.001, "0.001000"},
		{0.00099996, "0.001000"},
		{0.0001234, "1.234e-04"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "+Inf"},
		{math.Inf(-1), "-Inf"},
	}
	for _, tt := range tests {
		if got := sig4(tt.in); got != tt.want {
			t.Errorf("sig4(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := signed(0.0123); got != "+0.01230" {
		t.Errorf("signed(0.0123) = %q", got)
	}
	if got := signed(-0.04); got != "-0.04000" {
		t.Errorf("signed(-0.04) = %q", got)
	}
}

func TestFormatHelpers(t *testing.T) {
	tests := []struct{ got, want string }{
		{count(0), "0"},
		{count(999), "999"},
		{count(1000), "1,000"},
		{count(254113), "254,113"},
		{count(-1234567), "-1,234,567"},
		{percent(1, 3), "33.3%"},
		{percent(1, 0), "—"},
		{percent(0, 7), "0.0%"},
		{percent(4, 10000), "<0.1%"},
		{percent(9999, 10000), ">99.9%"},
		{percent(7, 7), "100.0%"},
		{rate(0.25), "25.0%"},
		{rate(math.NaN()), "NaN"},
		{seconds(0.012), "0.01 s"},
		{seconds(4.81), "4.81 s"},
		{seconds(12.44), "12.4 s"},
		{seconds(187.5), "3m 08s"},
		{seconds(3600*2 + 3*60 + 10), "2h 03m"},
		{seconds(math.NaN()), "—"},
		{seconds(-1), "—"},
		{optional(nil), "—"},
		{plain(nil), "—"},
		{plain(ptr(18)), "18"},
		{plain(ptr(-1024)), "-1,024"},
		{plain(ptr(44.61803)), "44.62"},
		{plain(ptr(1e300)), "1.000e+300"},
		{plain(ptr(math.NaN())), "NaN"},
		{shorten("abcdef", 4), "abc…"},
		{shorten("abc", 4), "abc"},
		{xmlText("a\x01b\x00c\td"), "a\ufffdb\ufffdc\td"},
		{xmlText("ok <&>"), "ok <&>"},
		{xmlText("bad \xff utf8 \ufffe"), "bad \ufffd utf8 \ufffd"},
		{paramText("gbdt"), "gbdt"},
		{paramText(0.05), "0.05"},
		{paramText(400), "400"},
		{paramText(map[string]any{"b": 1, "a": math.NaN()}), `{"a":null,"b":1}`},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestRelativePath(t *testing.T) {
	tests := map[string]bool{
		"logs/train.log":      true,
		"train.log":           true,
		"":                    false,
		"/var/log/x":          false,
		"../secret":           false,
		"logs/../../x":        false,
		"https://x/y":         false,
		"//host/x":            false,
		"javascript:alert(1)": false,
		`logs\train.log`:      false,
		"C:/logs/train.log":   false,
	}
	for in, want := range tests {
		if got := relativePath(in); got != want {
			t.Errorf("relativePath(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestGateRow(t *testing.T) {
	tests := []struct {
		name                  string
		g                     Gate
		bounds, margin, class string
	}{
		{"min passes", Gate{Value: 0.88, Min: ptr(0.85)}, "≥ 0.8500", "+0.03000", "ok"},
		{"min fails", Gate{Value: 0.81, Min: ptr(0.85)}, "≥ 0.8500", "-0.04000", "bad"},
		{"max", Gate{Value: 0.45, Max: ptr(0.5)}, "≤ 0.5000", "+0.05000", "ok"},
		{"tightest bound", Gate{Value: 0.5, Min: ptr(0.1), Max: ptr(0.52)}, "≥ 0.1000, ≤ 0.5200", "+0.02000", "ok"},
		{"regression, higher better", Gate{Value: 0.88, MaxRegression: ptr(0.01), Champion: ptr(0.9)}, "regression ≤ 0.01000 vs champion", "-0.01000", "bad"},
		{"regression, lower better", Gate{Value: 0.40, MaxRegression: ptr(0.01), Champion: ptr(0.42), LowerIsBetter: true}, "regression ≤ 0.01000 vs champion", "+0.03000", "ok"},
		{"regression without champion", Gate{Value: 0.88, MaxRegression: ptr(0.01)}, "regression ≤ 0.01000 vs champion", "—", ""},
		{"no bound", Gate{Value: 0.88}, "—", "—", ""},
		{"NaN value", Gate{Value: math.NaN(), Min: ptr(0.85)}, "≥ 0.8500", "—", ""},
		{"NaN bound", Gate{Value: 0.9, Min: ptr(0.85), Max: ptr(math.NaN())}, "≥ 0.8500, ≤ NaN", "—", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := newGateRow(tt.g)
			if row.Bounds != tt.bounds || row.Margin != tt.margin || row.MarginClass != tt.class {
				t.Errorf("bounds %q margin %q class %q, want %q %q %q", row.Bounds, row.Margin, row.MarginClass, tt.bounds, tt.margin, tt.class)
			}
		})
	}
}

// FuzzHTML renders the churn report with a fuzzed string in every field
// that reaches the page and a fuzzed number in the metrics, gates and
// curves, and checks that the SVG stays well-formed with finite
// coordinates, that no markup gets through unescaped, and that the JSON
// encodes.
func FuzzHTML(f *testing.F) {
	f.Add(hostile, 0.5)
	f.Add("plain", math.NaN())
	f.Add("\x00\x01\xff]]><![CDATA[", math.Inf(-1))
	f.Add(`{{.R.RunID}}</title></svg>`, 1e308)
	base := churnReport(f)
	f.Fuzz(func(t *testing.T, s string, v float64) {
		r := *base
		r.Pipeline, r.RunID, r.Error = s, s, s
		r.Metrics = map[string]float64{"roc_auc": v, s: v}
		r.Gates = []Gate{{Name: s, Metric: s, Value: v, Min: &v, Message: s}}
		r.Importance = []Importance{{Feature: s, Value: v}, {Feature: "b", Value: 1}}
		r.Curves = &Curves{ROC: append(base.Curves.ROC[:2:2], metricsPoint(v)), PR: base.Curves.PR}
		var page bytes.Buffer
		if err := HTML(&page, &r); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(page.Bytes(), []byte("<script")) {
			t.Fatal("page holds <script")
		}
		checkSVG(t, page.Bytes())
		if _, err := Marshal(&r); err != nil {
			t.Fatal(err)
		}
	})
}

func metricsPoint(v float64) metrics.CurvePoint { return metrics.CurvePoint{X: v, Y: v, Threshold: v} }
