package fetch

import (
	"strings"
	"testing"
)

func TestWithChecksum(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for _, tc := range []struct{ src, want, wantEmpty string }{
		{"https://h/a.csv", "https://h/a.csv?checksum=sha256%3A" + sum, "https://h/a.csv"},
		{"s3::https://s3.amazonaws.com/b/k?version=3", "s3::https://s3.amazonaws.com/b/k?checksum=sha256%3A" + sum + "&version=3", "s3::https://s3.amazonaws.com/b/k?version=3"},
		{"gcs::https://www.googleapis.com/storage/v1/b/o#12", "gcs::https://www.googleapis.com/storage/v1/b/o?checksum=sha256%3A" + sum + "#12", "gcs::https://www.googleapis.com/storage/v1/b/o#12"},
	} {
		got, err := withChecksum(tc.src, sum)
		if err != nil || got != tc.want {
			t.Errorf("withChecksum(%q) = %q, %v; want %q", tc.src, got, err, tc.want)
		}
		if got, err := withChecksum(tc.src, ""); err != nil || got != tc.wantEmpty {
			t.Errorf("withChecksum(%q, \"\") = %q, %v", tc.src, got, err)
		}
	}
}
