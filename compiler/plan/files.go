package plan

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// diffContext is how many unchanged lines surround each hunk.
const diffContext = 3

// noNewline is how a unified diff marks a last line without a newline.
const noNewline = "\\ No newline at end of file\n"

// diffFiles compares two sets of rendered files by path.
func diffFiles(base, head []File) []*FileDiff {
	a, b := filesByPath(base), filesByPath(head)
	paths := map[string]bool{}
	for p := range a {
		paths[p] = true
	}
	for p := range b {
		paths[p] = true
	}
	out := []*FileDiff{}
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		x, xok := a[p]
		y, yok := b[p]
		if xok && yok && bytes.Equal(x, y) {
			continue
		}
		fd := &FileDiff{Path: p, Action: Update}
		switch {
		case !xok:
			fd.Action = Create
		case !yok:
			fd.Action = Delete
		}
		if xok {
			fd.OldDigest = digest(x)
		}
		if yok {
			fd.NewDigest = digest(y)
		}
		if !isText(x) || !isText(y) {
			fd.Binary = true
		} else {
			fd.Diff, fd.Added, fd.Removed = unified(p, x, y, xok, yok)
		}
		out = append(out, fd)
	}
	return out
}

func filesByPath(files []File) map[string][]byte {
	m := make(map[string][]byte, len(files))
	for _, f := range files {
		m[f.Path] = f.Data
	}
	return m
}

func isText(data []byte) bool {
	return utf8.Valid(data) && bytes.IndexByte(data, 0) < 0
}

// unified returns the unified diff of a and b with git's headers, and how
// many lines it adds and removes. A side that does not exist is /dev/null.
func unified(name string, a, b []byte, aok, bok bool) (string, int, int) {
	from, to := "a/"+name, "b/"+name
	if !aok {
		from = "/dev/null"
	}
	if !bok {
		to = "/dev/null"
	}
	al, bl := lines(a), lines(b)
	var w strings.Builder
	w.WriteString("--- " + from + "\n+++ " + to + "\n")
	added, removed := writeHunks(&w, al, bl, script(al, bl), diffContext)
	if added+removed == 0 {
		return "", 0, 0
	}
	return w.String(), added, removed
}

// lines splits text into lines that keep their newline. A last line
// without one carries the "\ No newline at end of file" marker, so that it
// differs from the same line with a newline and prints as git prints it.
func lines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	out := strings.SplitAfter(string(data), "\n")
	if out[len(out)-1] == "" {
		return out[:len(out)-1]
	}
	out[len(out)-1] += "\n" + noNewline
	return out
}
