package check

import (
	"strings"
	"testing"
)

func TestParseCron(t *testing.T) {
	tests := []struct {
		expr    string
		wantErr string
	}{
		{"0 3 * * 1", ""},
		{"*/15 * * * *", ""},
		{"0 0 1,15 * *", ""},
		{"0 9-17 * * mon-fri", ""},
		{"30 2 * jan,jul sun", ""},
		{"@daily", ""},
		{"@weekly", ""},
		{"0 0 * * 7", ""},
		{"0 3 * *", "found 4"},
		{"0 3 * * 1 2", "found 6"},
		{"60 * * * *", "minute field \"60\": 60 is out of range 0-59"},
		{"0 24 * * *", "hour field"},
		{"0 0 0 * *", "day of month field"},
		{"0 0 * 13 *", "month field"},
		{"0 0 * * 8", "day of week field"},
		{"0 0 * * foo", `"foo" is not a number`},
		{"*/0 * * * *", "step \"0\""},
		{"5-1 * * * *", "runs backwards"},
		{"1,,2 * * * *", "empty value"},
		{"@sometimes", "found 1"},
		{"", "found 0"},
	}
	for _, tt := range tests {
		err := ParseCron(tt.expr)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseCron(%q) = %v, want nil", tt.expr, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseCron(%q) = %v, want error containing %q", tt.expr, err, tt.wantErr)
		}
	}
}

func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"0 3 * * 1", "*/5 1-3 1,2 jan-mar mon", "@daily", "1-", "/", ",", "* * * * * *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = ParseCron(s) // must not panic
	})
}
