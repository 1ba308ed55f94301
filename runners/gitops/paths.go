package gitops

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// checkRelPath reports whether p is a relative, clean, slash-separated path
// that names something strictly below the folder it is relative to. what
// names p in the error ("file path", "Dir").
func checkRelPath(what, p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%s is empty; expected a relative slash path such as \"deploy/app/values.yaml\"", what)
	case strings.ContainsRune(p, 0):
		return fmt.Errorf("%s %q contains a NUL byte", what, p)
	case strings.Contains(p, `\`):
		return fmt.Errorf("%s %q contains a backslash; expected slash-separated components", what, p)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("%s %q is absolute; expected a path relative to the target folder", what, p)
	case len(p) >= 2 && p[1] == ':':
		return fmt.Errorf("%s %q starts with a drive letter; expected a relative path", what, p)
	}
	for _, c := range strings.Split(p, "/") {
		switch {
		case c == "..":
			return fmt.Errorf("%s %q contains \"..\"; paths must stay inside the target folder", what, p)
		case c == "" || c == ".":
			return fmt.Errorf("%s %q is not clean (want %q); expected no empty, \".\" or trailing components", what, p, path.Clean(p))
		case isGitDirName(c):
			return fmt.Errorf("%s %q has a component %q; writing into Git's own folder is refused", what, p, c)
		}
	}
	if path.Clean(p) != p {
		return fmt.Errorf("%s %q is not clean (want %q)", what, p, path.Clean(p))
	}
	return nil
}

// isGitDirName reports whether a path component would name the .git folder
// on any common file system: case-insensitively, with the trailing dots and
// spaces Windows drops, or as its NTFS short name.
func isGitDirName(c string) bool {
	trimmed := strings.TrimRight(c, ". ")
	return strings.EqualFold(trimmed, ".git") || strings.EqualFold(c, "git~1")
}

// checkFiles validates every file path and rejects duplicates and paths that
// are both a file and a folder. It returns the files sorted by path.
func checkFiles(files []File) ([]File, error) {
	out := make([]File, len(files))
	copy(out, files)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	seen := make(map[string]bool, len(out))
	for _, f := range out {
		if err := checkRelPath("file path", f.Path); err != nil {
			return nil, err
		}
		if seen[f.Path] {
			return nil, fmt.Errorf("file path %q is given twice; expected each path once", f.Path)
		}
		seen[f.Path] = true
	}
	for _, f := range out {
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			if seen[d] {
				return nil, fmt.Errorf("file path %q needs %q to be a folder, but %q is also delivered as a file", f.Path, d, d)
			}
		}
	}
	return out, nil
}

// under reports whether the repository path p lies inside dir.
func under(dir, p string) bool {
	return strings.HasPrefix(p, dir+"/")
}
