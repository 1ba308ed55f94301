package gitops

import (
	"context"
	"path"
	"strings"
	"testing"
)

func TestCheckRelPath(t *testing.T) {
	tests := []struct {
		path string
		want string // "" when valid, else part of the error
	}{
		{"values.yaml", ""},
		{"templates/deployment.yaml", ""},
		{"a/b/c/.hidden", ""},
		{"..data", ""},
		{"", "is empty"},
		{"/etc/passwd", "is absolute"},
		{"../escape.yaml", `contains ".."`},
		{"a/../../escape.yaml", `contains ".."`},
		{"a/..", `contains ".."`},
		{"./a", "is not clean"},
		{"a//b", "is not clean"},
		{"a/", "is not clean"},
		{".", "is not clean"},
		{".git/config", "Git's own folder"},
		{"a/.GIT/hooks/pre-commit", "Git's own folder"},
		{"a/.git./x", "Git's own folder"},
		{"GIT~1/config", "Git's own folder"},
		{`a\b`, "backslash"},
		{`..\escape`, "backslash"},
		{"C:/Windows", "drive letter"},
		{"a\x00b", "NUL"},
	}
	for _, tt := range tests {
		err := checkRelPath("file path", tt.path)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("checkRelPath(%q) = %v; want valid", tt.path, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("checkRelPath(%q) = %v; want an error containing %q", tt.path, err, tt.want)
		}
	}
}

func TestCheckFiles(t *testing.T) {
	tests := []struct {
		name  string
		files []File
		want  string
	}{
		{"sorted copy", []File{{Path: "b"}, {Path: "a/c"}}, ""},
		{"duplicate", []File{{Path: "a"}, {Path: "a"}}, "given twice"},
		{"file and folder", []File{{Path: "a/b/c"}, {Path: "a/b"}}, `needs "a/b" to be a folder`},
		{"traversal", []File{{Path: "ok"}, {Path: "../../etc/cron.d/x"}}, `contains ".."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkFiles(tt.files)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v; want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Path != "a/c" || got[1].Path != "b" || tt.files[0].Path != "b" {
				t.Errorf("got %v (input now %v); want a sorted copy", got, tt.files)
			}
		})
	}
}

func TestDeliverRefusesBadPathsBeforeTouchingAnything(t *testing.T) {
	dir, url := newRemote(t)
	b := newLocal(t, "")
	for _, target := range []Target{{URL: url, Dir: prodDir}, {LocalRepo: b.dir, Dir: prodDir}} {
		for _, p := range []string{"../../../README.md", "/tmp/x", "sub/../../x", ".git/hooks/post-checkout"} {
			_, err := Deliver(context.Background(), target, []File{{Path: "ok.yaml"}, {Path: p, Data: []byte("x")}}, "evil")
			if err == nil || !strings.Contains(err.Error(), "file path") {
				t.Errorf("path %q: err = %v; want it refused", p, err)
			}
		}
	}
	if !remoteHead(t, dir, "main").IsZero() {
		t.Error("remote received a commit")
	}
	if got, _ := readFile(t, b.dir+"/README.md"); got != "readme\n" {
		t.Errorf("README.md = %q", got)
	}
}

func TestTargetValidation(t *testing.T) {
	_, url := newRemote(t)
	tests := []struct {
		name   string
		target Target
		want   string
	}{
		{"neither", Target{Dir: "d"}, "neither LocalRepo nor URL"},
		{"both", Target{LocalRepo: ".", URL: url, Dir: "d"}, "both LocalRepo and URL"},
		{"no Dir", Target{URL: url}, "Dir is empty"},
		{"Dir escapes", Target{URL: url, Dir: "../d"}, `contains ".."`},
		{"Dir is .git", Target{URL: url, Dir: ".git"}, "Git's own folder"},
		{"Dir absolute", Target{URL: url, Dir: "/srv/deploy"}, "is absolute"},
		{"http", Target{URL: "http://example.test/r.git", Dir: "d"}, `scheme "http"`},
		{"scp style", Target{URL: "git@github.com:org/r.git", Dir: "d"}, "ssh://user@host/path"},
		{"remote file host", Target{URL: "file://server/r.git", Dir: "d"}, "must be local"},
		{"no host", Target{URL: "https:///r.git", Dir: "d"}, "has no host"},
		{"Push with URL", Target{URL: url, Dir: "d", Push: true}, "Push applies to LocalRepo only"},
		{"negative attempts", Target{URL: url, Dir: "d", MaxAttempts: -1}, "MaxAttempts is -1"},
		{"branch with refs/", Target{URL: url, Dir: "d", Branch: "refs/heads/main"}, "short name"},
		{"branch with space", Target{URL: url, Dir: "d", Branch: "my branch"}, "not a valid Git branch name"},
		{"branch with ..", Target{URL: url, Dir: "d", Branch: "a..b"}, "not a valid Git branch name"},
		{"branch .lock", Target{URL: url, Dir: "d", Branch: "x.lock"}, "not a valid Git branch name"},
		{"branch option", Target{URL: url, Dir: "d", Branch: "-f"}, "not a valid Git branch name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Deliver(context.Background(), tt.target, nil, "x")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want it to contain %q", err, tt.want)
			}
		})
	}
	for _, ok := range []string{"main", "env/prod", "release-1.2", "feature/x_y"} {
		if err := checkBranch(ok); err != nil {
			t.Errorf("checkBranch(%q) = %v; want valid", ok, err)
		}
	}
}

func FuzzCheckRelPath(f *testing.F) {
	for _, s := range []string{"values.yaml", "a/b", "../x", "a/../b", "/abs", ".git/config", "a//b", `a\b`, "..", ".", "a/.Git./b", "C:x", ""} {
		f.Add("deploy/app", s)
	}
	f.Fuzz(func(t *testing.T, dir, p string) {
		if checkRelPath("Dir", dir) != nil || checkRelPath("file path", p) != nil {
			return
		}
		full := path.Join(dir, p)
		if !under(dir, full) {
			t.Fatalf("accepted %q under %q escapes: %q", p, dir, full)
		}
		if full != dir+"/"+p || path.Clean(p) != p {
			t.Fatalf("accepted unclean path %q", p)
		}
		for _, c := range strings.Split(full, "/") {
			if c == ".." || c == "." || c == "" || strings.EqualFold(strings.TrimRight(c, ". "), ".git") || strings.ContainsAny(c, "\\\x00") {
				t.Fatalf("accepted %q with component %q", full, c)
			}
		}
	})
}
