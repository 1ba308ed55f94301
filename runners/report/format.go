package report

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// sig4 formats v with 4 significant digits: fixed-point between 0.001 and
// 10⁶ (keeping trailing zeros, so a column of metrics lines up), with an
// exponent outside, and NaN, +Inf and -Inf by name.
func sig4(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == 0:
		return "0"
	}
	e := strconv.FormatFloat(v, 'e', 3, 64)
	// The exponent after rounding, so that 9.9996 gives 10.00, not 10.000.
	exp, err := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if err != nil || exp < -3 || exp >= 6 {
		return e
	}
	return strconv.FormatFloat(v, 'f', max(3-exp, 0), 64)
}

// signed is sig4 with a leading + on positive values, for margins.
func signed(v float64) string {
	if v > 0 && !math.IsInf(v, 1) {
		return "+" + sig4(v)
	}
	return sig4(v)
}

// optional formats *v with sig4, or a dash when v is nil.
func optional(v *float64) string {
	if v == nil {
		return "—"
	}
	return sig4(*v)
}

// plain formats a column statistic: whole numbers in full (18, 1,024),
// anything else as sig4; a dash when v is nil.
func plain(v *float64) string {
	switch {
	case v == nil:
		return "—"
	case *v == math.Trunc(*v) && math.Abs(*v) < 1e15:
		return count(int(*v))
	}
	return sig4(*v)
}

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

// percent formats a/b as a percentage with one decimal, or a dash when b
// is 0. A share that is neither none nor all never rounds to 0.0% or
// 100.0%: it shows as <0.1% or >99.9%.
func percent(a, b int) string {
	if b == 0 {
		return "—"
	}
	s := strconv.FormatFloat(100*float64(a)/float64(b), 'f', 1, 64)
	switch {
	case a > 0 && s == "0.0":
		return "<0.1%"
	case a < b && s == "100.0":
		return ">99.9%"
	}
	return s + "%"
}

// rate formats a rate in [0, 1] as a percentage with one decimal.
func rate(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return sig4(v)
	}
	return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
}

// seconds formats a duration in seconds for people: 0.42 s, 12.3 s,
// 4m 05s, 2h 03m.
func seconds(s float64) string {
	switch {
	case math.IsNaN(s) || math.IsInf(s, 0) || s < 0:
		return "—"
	case s < 10:
		return strconv.FormatFloat(s, 'f', 2, 64) + " s"
	case s < 60:
		return strconv.FormatFloat(s, 'f', 1, 64) + " s"
	}
	d := time.Duration(math.Round(s)) * time.Second
	if d < time.Hour {
		return strconv.Itoa(int(d/time.Minute)) + "m " + pad2(int(d%time.Minute/time.Second)) + "s"
	}
	return strconv.Itoa(int(d/time.Hour)) + "h " + pad2(int(d%time.Hour/time.Minute)) + "m"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// timestamp formats t in UTC to the second, or a dash for the zero time.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// shorten returns s cut to n runes with an ellipsis when longer.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// xmlText returns s with the characters XML 1.0 forbids (control
// characters other than tab, newline and carriage return; unpaired
// surrogates; U+FFFE and U+FFFF) replaced by U+FFFD, so that text placed
// in inline SVG keeps it well-formed XML.
func xmlText(s string) string {
	ok := func(r rune) bool {
		return r == '\t' || r == '\n' || r == '\r' ||
			(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
	}
	clean := true
	for _, r := range s {
		if !ok(r) {
			clean = false
			break
		}
	}
	if clean && !strings.ContainsRune(s, '\uFFFD') {
		return s
	}
	return strings.Map(func(r rune) rune {
		if ok(r) {
			return r
		}
		return '\uFFFD'
	}, s)
}
