package source

import (
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"
)

func FuzzParseSource(f *testing.F) {
	for _, s := range []string{
		"data/churn.csv", "data/../x.csv", "file:///srv/a.csv", "file::a.tgz", "/abs/a.csv",
		"https://example.com/a.csv", "https://example.com/a.tar.gz?archive=false", "https://u:p@h/a",
		"https://h/a//b", "https://h/a?checksum=md5:00", "s3://b/k?region=eu-west-1", "s3::https://s3.amazonaws.com/b/k",
		"gs://b/o#12", "gcs::https://www.googleapis.com/storage/v1/b/o", "git::https://h/r.git//p?ref=x",
		"git::https://h/r//a/../b.csv?ref=v1&archive=zip", "git::https://h/r//../x", "git::https://h/r?ref=-x//a",
		"http://h/a", "ftp://h/a", "hg::https://h/r", "file::https://h/a", "https://h/a?archive=zip",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Parse(src, env(nil))
		if err != nil {
			return
		}
		if !slices.Contains(Kinds, s.Kind) || s.Raw != src {
			t.Fatalf("Parse(%q) = %+v", src, s)
		}
		if s.Archive != "" && !slices.Contains(ArchiveKinds, s.Archive) {
			t.Fatalf("Parse(%q): unknown archive kind %q", src, s.Archive)
		}
		switch s.Kind {
		case File:
			if s.Local == "" || s.Name == "" || s.Name == "." || s.Name == ".." || s.Name == "/" {
				t.Fatalf("Parse(%q): bad local source %+v", src, s)
			}
			if !s.Abs {
				clean := path.Clean(s.Local)
				if clean == ".." || strings.HasPrefix(clean, "../") || path.IsAbs(clean) {
					t.Fatalf("Parse(%q): relative path %q leaves the base directory", src, s.Local)
				}
			}
		case Git:
			u, err := url.Parse(s.GitRepo)
			if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" {
				t.Fatalf("Parse(%q): git repository %q is not a plain https URL (%v)", src, s.GitRepo, err)
			}
			if s.GitPath == "" || path.IsAbs(s.GitPath) || s.GitPath != path.Clean(s.GitPath) || s.GitPath == ".." || strings.HasPrefix(s.GitPath, "../") {
				t.Fatalf("Parse(%q): git path %q leaves the repository", src, s.GitPath)
			}
			if strings.HasPrefix(s.GitRef, "-") {
				t.Fatalf("Parse(%q): git ref %q looks like an option", src, s.GitRef)
			}
		default:
			forced, rest := SplitForced(s.GetterSrc)
			if s.Kind == HTTPS && forced != "" || s.Kind != HTTPS && forced != s.Kind {
				t.Fatalf("Parse(%q): getter source %q for kind %s", src, s.GetterSrc, s.Kind)
			}
			u, err := url.Parse(rest)
			if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
				t.Fatalf("Parse(%q): getter source %q is not a plain https URL (%v)", src, s.GetterSrc, err)
			}
			if u.Query().Has("checksum") || u.Query().Has("archive") {
				t.Fatalf("Parse(%q): getter source %q keeps a go-getter parameter", src, s.GetterSrc)
			}
		}
	})
}

func FuzzParseDigest(f *testing.F) {
	for _, s := range []string{"", strings.Repeat("a", 64), "sha256:" + strings.Repeat("F", 64), "xyz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if err != nil || s == "" {
			return
		}
		if len(d) != 64 || strings.Trim(d, "0123456789abcdef") != "" {
			t.Fatalf("ParseDigest(%q) = %q", s, d)
		}
	})
}
