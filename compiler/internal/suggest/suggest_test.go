package suggest

import "testing"

func TestNearest(t *testing.T) {
	cands := []string{"columns", "expectations", "format", "name", "sha256", "source"}
	tests := map[string]string{
		"colums":      "columns",
		"columsn":     "columns",
		"sorce":       "source",
		"fromat":      "format",
		"expectation": "expectations",
		"xyzzy":       "",
		"columns":     "",
	}
	for in, want := range tests {
		if got := Nearest(in, cands); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"gbdt", "gdbt", 1}} {
		if got := distance(tt.a, tt.b); got != tt.d {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}
