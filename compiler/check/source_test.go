package check

import (
	"strings"
	"testing"
)

func TestParseSource(t *testing.T) {
	tests := []struct {
		src     string
		getter  string
		local   bool
		wantErr string
	}{
		{"data/churn.csv", "file", true, ""},
		{"./data/churn.csv", "file", true, ""},
		{"/srv/data/churn.csv", "file", true, ""},
		{"file:///srv/data/churn.csv", "file", true, ""},
		{"file::data/x.csv", "file", true, ""},
		{"https://example.com/churn.csv", "https", false, ""},
		{"git::https://github.com/acme/data.git//churn.csv?ref=v1.2.0", "git", false, ""},
		{"s3::https://s3.amazonaws.com/bucket/churn.csv", "https", false, ""},
		{"s3://bucket/churn.csv", "s3", false, ""},
		{"gcs://bucket/churn.csv", "gcs", false, ""},
		{"gs://bucket/churn.csv", "gcs", false, ""},
		{"http://example.com/churn.csv", "", false, "plain http is not allowed"},
		{"ftp://example.com/churn.csv", "", false, `unsupported URL scheme "ftp"`},
		{"hg::https://example.com/repo", "", false, `unsupported getter "hg::"`},
		{"../other/data.csv", "", false, "inside the pipeline directory"},
		{"..", "", false, "inside the pipeline directory"},
		{"git::data/x", "", false, "needs a URL with a scheme"},
		{"https:///nohost", "", false, "has no host"},
		{" data.csv", "", false, "leading or trailing space"},
		{"s3://", "", false, "has no bucket"},
	}
	for _, tt := range tests {
		got, err := ParseSource(tt.src)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSource(%q) error = %v, want %q", tt.src, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSource(%q) = %v", tt.src, err)
			continue
		}
		if got.Getter != tt.getter || got.Local != tt.local {
			t.Errorf("ParseSource(%q) = %+v, want getter %s local %v", tt.src, got, tt.getter, tt.local)
		}
	}
}

func FuzzParseSource(f *testing.F) {
	for _, s := range []string{"data/x.csv", "https://h/x", "git::https://h/r//p?ref=v", "s3://b/k", "file::", "::", "a::b://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, err := ParseSource(s)
		if err == nil && src.Getter == "" {
			t.Fatalf("ParseSource(%q) accepted with no getter", s)
		}
	})
}
