package source

import (
	"path"
	"strings"
	"testing"
)

// env is a fixed environment for parseSource.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseSource(t *testing.T) {
	tests := []struct {
		src     string
		env     map[string]string
		kind    string
		getter  string // getterSrc, or local for file sources
		name    string
		archive string
		wantErr string
	}{
		{src: "data/churn.csv", kind: File, getter: "data/churn.csv", name: "churn.csv"},
		{src: "data/churn.csv.gz", kind: File, getter: "data/churn.csv.gz", name: "churn.csv.gz", archive: "gz"},
		{src: "data/d.tar.gz", kind: File, getter: "data/d.tar.gz", name: "d.tar.gz", archive: "tar.gz"},
		{src: "file:///srv/d/churn.csv", kind: File, getter: "/srv/d/churn.csv", name: "churn.csv"},
		{src: "file::/srv/d/../d/churn.csv", kind: File, getter: "/srv/d/churn.csv", name: "churn.csv"},
		{src: "https://example.com/d/churn.csv", kind: HTTPS, getter: "https://example.com/d/churn.csv", name: "churn.csv"},
		{src: "https::https://example.com/d/churn.zip", kind: HTTPS, getter: "https://example.com/d/churn.zip", name: "churn.zip", archive: "zip"},
		{src: "https://example.com/get?id=7&archive=tgz", kind: HTTPS, getter: "https://example.com/get?id=7", name: "get", archive: "tgz"},
		{src: "https://example.com/d.tgz?archive=false", kind: HTTPS, getter: "https://example.com/d.tgz", name: "d.tgz"},
		{src: "s3://bucket/data/churn.csv", kind: S3, getter: "s3::https://s3.amazonaws.com/bucket/data/churn.csv", name: "churn.csv"},
		{src: "s3://bucket/churn.csv?region=eu-west-1&version=3", kind: S3, getter: "s3::https://s3-eu-west-1.amazonaws.com/bucket/churn.csv?version=3", name: "churn.csv"},
		{src: "s3://bucket/churn.csv", env: map[string]string{"AWS_REGION": "us-west-2"}, kind: S3, getter: "s3::https://s3-us-west-2.amazonaws.com/bucket/churn.csv", name: "churn.csv"},
		{src: "s3://bucket/churn.csv", env: map[string]string{"AWS_DEFAULT_REGION": "ap-south-1"}, kind: S3, getter: "s3::https://s3-ap-south-1.amazonaws.com/bucket/churn.csv", name: "churn.csv"},
		{src: "s3::https://bucket.s3.eu-west-1.amazonaws.com/churn.csv", kind: S3, getter: "s3::https://bucket.s3.eu-west-1.amazonaws.com/churn.csv", name: "churn.csv"},
		{src: "gs://bucket/data/churn.csv", kind: GCS, getter: "gcs::https://www.googleapis.com/storage/v1/bucket/data/churn.csv", name: "churn.csv"},
		{src: "gcs://bucket/churn.csv#1700000000", kind: GCS, getter: "gcs::https://www.googleapis.com/storage/v1/bucket/churn.csv#1700000000", name: "churn.csv"},
		{src: "gcs::https://www.googleapis.com/storage/v1/bucket/churn.csv", kind: GCS, getter: "gcs::https://www.googleapis.com/storage/v1/bucket/churn.csv", name: "churn.csv"},

		{src: "../churn.csv", wantErr: "inside the pipeline directory"},
		{src: "http://example.com/a.csv", wantErr: "plain http is not allowed"},
		{src: "ftp://example.com/a.csv", wantErr: `unsupported URL scheme "ftp"`},
		{src: "hg::https://example.com/r", wantErr: `unsupported getter "hg::"`},
		{src: "file::https://example.com/a.csv", wantErr: `getter "file::" does not take a https URL`},
		{src: "gcs::s3://bucket/a.csv", wantErr: `gcs source has scheme "s3", want https`},
		{src: "s3::gs://bucket/a.csv", wantErr: `s3 source has scheme "gs", want https`},
		{src: "https://user:pw@example.com/a.csv", wantErr: "source URL holds credentials"},
		{src: "s3://bucket/a.csv?aws_access_key_id=AKIA&aws_access_key_secret=x", wantErr: `holds credentials in "aws_access_key_id"`},
		{src: "https://example.com/repo//a.csv", wantErr: "subdirectory selector (//a.csv)"},
		{src: "https://example.com/a.csv?checksum=sha256:00", wantErr: "checksum parameter"},
		{src: "https://example.com/a?archive=rar", wantErr: `unknown archive type "rar"`},
		{src: "https://example.com/d/", wantErr: "names a directory"},
		{src: "https://example.com", wantErr: "names a directory"},
		{src: "s3://bucket", wantErr: "names no object"},
		{src: "s3://bucket/a.csv?region=EU", wantErr: `s3 region "EU" is not a valid AWS region name`},
		{src: "gs://bucket/", wantErr: "names no object"},
		{src: "gs://bucket/a.csv#latest", wantErr: `generation "latest" is not a number`},
		{src: "file://example.com/etc/passwd", wantErr: `names host "example.com"`},
		{src: "file:///srv/a.csv?x=1", wantErr: "has a query or fragment"},
		{src: "data/", wantErr: "names a directory"},
		{src: " data/a.csv", wantErr: "leading or trailing space"},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			s, err := Parse(tc.src, env(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := s.GetterSrc
			if s.Kind == File {
				got = s.Local
			}
			if s.Kind != tc.kind || got != tc.getter || s.Name != tc.name || s.Archive != tc.archive || s.Raw != tc.src {
				t.Errorf("source = %+v, want kind %s, %q, name %q, archive %q", s, tc.kind, tc.getter, tc.name, tc.archive)
			}
		})
	}
}

func TestParseGitSource(t *testing.T) {
	tests := []struct {
		src, repo, ref, path, archive, wantErr string
	}{
		{src: "git::https://example.com/repo.git//data/churn.csv?ref=v1", repo: "https://example.com/repo.git", ref: "v1", path: "data/churn.csv"},
		{src: "git::https://example.com/org/repo//churn.csv", repo: "https://example.com/org/repo", path: "churn.csv"},
		{src: "git::https://example.com/repo//d/./x.tgz?ref=main&archive=false", repo: "https://example.com/repo", ref: "main", path: "d/x.tgz"},
		{src: "git::https://example.com/repo//d/x.tgz", repo: "https://example.com/repo", path: "d/x.tgz", archive: "tgz"},
		{src: "git::https://example.com/repo", wantErr: "git source names no file"},
		{src: "git::https://example.com/repo//../x", wantErr: `git source path "../x" must name one file`},
		{src: "git::https://example.com/repo//d/", wantErr: "must name one file"},
		{src: "git::https://example.com/repo//*.csv", wantErr: "must name one file"},
		{src: "git::https://example.com/repo//a.csv?ref=v1&depth=1", wantErr: `takes only the ref and archive parameters, not "depth"`},
		{src: "git::https://example.com/repo//a.csv?sshkey=x&ref=v1", wantErr: `not "sshkey"`},
		{src: "git::https://example.com/repo//a.csv?ref=--upload-pack=x", wantErr: "is not a valid ref name"},
		{src: "git::https://u:p@example.com/repo//a.csv", wantErr: "source URL holds credentials"},
		{src: "git::https://example.com/repo//a.csv#v1", wantErr: "give the revision as ?ref="},
		{src: "git::http://example.com/repo//a.csv", wantErr: "plain http is not allowed"},
		{src: "git::ssh://git@example.com/repo//a.csv", wantErr: `unsupported URL scheme "ssh"`},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			s, err := Parse(tc.src, env(nil))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind != Git || s.GitRepo != tc.repo || s.GitRef != tc.ref || s.GitPath != tc.path || s.Archive != tc.archive || s.Name != path.Base(tc.path) {
				t.Errorf("source = %+v", s)
			}
		})
	}
}

func TestParseDigest(t *testing.T) {
	hexd := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in, want, wantErr string
	}{
		{in: "", want: ""},
		{in: hexd, want: hexd},
		{in: strings.ToUpper(hexd), want: hexd},
		{in: "sha256:" + hexd, want: hexd},
		{in: "abc", wantErr: "not 64 hexadecimal digits"},
		{in: strings.Repeat("zz", 32), wantErr: "not 64 hexadecimal digits"},
		{in: "md5:" + hexd, wantErr: "not 64 hexadecimal digits"},
	} {
		got, err := ParseDigest(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseDigest(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDigest(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
