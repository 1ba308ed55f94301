package archivecheck

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"io/fs"
	"path"
	"strings"
	"testing"
)

// entry is one entry of a test archive; typeflag is used for tar, mode for
// zip.
type entry struct {
	name     string
	typeflag byte
	mode     fs.FileMode
	body     string
	link     string
}

func makeTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typeflag, Linkname: e.link, Mode: 0o644}
		if e.typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)[:hdr.Size]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makeZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func reg(name, body string) entry { return entry{name: name, typeflag: tar.TypeReg, body: body} }
func dir(name string) entry {
	return entry{name: name, typeflag: tar.TypeDir, mode: fs.ModeDir | 0o755}
}

func TestTar(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		want    Member
		wantErr string
	}{
		{name: "one file", entries: []entry{reg("a.csv", "abc")}, want: Member{"a.csv", 3}},
		{name: "file in directory", entries: []entry{dir("d/"), reg("./d/a.csv", "abcd")}, want: Member{"d/a.csv", 4}},
		{name: "empty file", entries: []entry{reg("a.csv", "")}, want: Member{"a.csv", 0}},
		{name: "symlink", entries: []entry{{name: "a", typeflag: tar.TypeSymlink, link: "/etc/passwd"}}, wantErr: `archive entry "a" is a symbolic link (to "/etc/passwd")`},
		{name: "hard link", entries: []entry{reg("a", "x"), {name: "b", typeflag: tar.TypeLink, link: "a"}}, wantErr: `archive entry "b" is a hard link (to "a")`},
		{name: "char device", entries: []entry{{name: "tty", typeflag: tar.TypeChar}}, wantErr: `archive entry "tty" is not a regular file (tar type '3')`},
		{name: "dot dot", entries: []entry{reg("../a", "x")}, wantErr: `archive entry "../a" contains '..'`},
		{name: "dot dot deep", entries: []entry{reg("a/b/../../../c", "x")}, wantErr: "contains '..'"},
		{name: "absolute", entries: []entry{reg("/etc/passwd", "x")}, wantErr: "has an absolute name"},
		{name: "drive", entries: []entry{reg("C:/x", "x")}, wantErr: "has an absolute name"},
		{name: "backslash", entries: []entry{reg(`..\a`, "x")}, wantErr: "holds a backslash"},
		{name: "two files", entries: []entry{reg("a", "x"), reg("b", "y")}, wantErr: `archive holds more than one file ("a" and "b")`},
		{name: "no file", entries: []entry{dir("d/")}, wantErr: "archive holds no file"},
		{name: "too many entries", entries: []entry{dir("a/"), dir("b/"), dir("c/"), reg("d", "x")}, wantErr: "archive has more than 3 entries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Tar(bytes.NewReader(makeTar(t, tc.entries...)), 3)
			check(t, m, err, tc.want, tc.wantErr)
		})
	}
	if _, err := Tar(strings.NewReader("not a tar archive, just some text that is long enough"), 3); err == nil || !strings.Contains(err.Error(), "read tar archive") {
		t.Errorf("garbage: %v", err)
	}
}

func TestZip(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		want    Member
		wantErr string
	}{
		{name: "one file", entries: []entry{{name: "a.csv", body: "abc"}}, want: Member{"a.csv", 3}},
		{name: "file in directory", entries: []entry{{name: "d/", mode: fs.ModeDir | 0o755}, {name: "d/a.csv", body: "ab"}}, want: Member{"d/a.csv", 2}},
		{name: "symlink", entries: []entry{{name: "a", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777}}, wantErr: `archive entry "a" is a symbolic link`},
		{name: "device", entries: []entry{{name: "a", mode: fs.ModeDevice | 0o600}}, wantErr: `archive entry "a" is not a regular file`},
		{name: "dot dot", entries: []entry{{name: "../a", body: "x"}}, wantErr: "contains '..'"},
		{name: "absolute", entries: []entry{{name: "/a", body: "x"}}, wantErr: "has an absolute name"},
		{name: "two files", entries: []entry{{name: "a", body: "x"}, {name: "b", body: "y"}}, wantErr: "archive holds more than one file"},
		{name: "same name twice", entries: []entry{{name: "a", body: "x"}, {name: "a", body: "y"}}, wantErr: "archive holds more than one file"},
		{name: "empty", wantErr: "archive holds no file"},
		{name: "too many entries", entries: []entry{{name: "a/", mode: fs.ModeDir}, {name: "b/", mode: fs.ModeDir}, {name: "c/", mode: fs.ModeDir}, {name: "d", body: "x"}}, wantErr: "archive has more than 3 entries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := makeZip(t, tc.entries...)
			m, err := Zip(bytes.NewReader(b), int64(len(b)), 3)
			check(t, m, err, tc.want, tc.wantErr)
		})
	}
	if _, err := Zip(strings.NewReader("PK not really"), 13, 3); err == nil || !strings.Contains(err.Error(), "read zip archive") {
		t.Errorf("garbage: %v", err)
	}
}

func check(t *testing.T, m Member, err error, want Member, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error = %v, want %q", err, wantErr)
		}
		return
	}
	if err != nil || m != want {
		t.Fatalf("member = %+v, %v; want %+v", m, err, want)
	}
}

// accepted fails if a member that was accepted could be written outside
// the extraction directory.
func accepted(t *testing.T, m Member) {
	t.Helper()
	if m.Name == "" || m.Size < 0 || CheckName(m.Name) != nil || path.Clean(m.Name) != m.Name {
		t.Fatalf("accepted member %+v", m)
	}
}

func FuzzTar(f *testing.F) {
	f.Add(makeTar(f, dir("d/"), reg("d/a.csv", "id\n1\n")))
	f.Add(makeTar(f, entry{name: "a.csv", typeflag: tar.TypeSymlink, link: "/etc/passwd"}))
	f.Add(makeTar(f, reg("../a.csv", "x")))
	f.Add(makeTar(f, reg("a", "x"), reg("b", "")))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Tar(bytes.NewReader(data), 10)
		if err == nil {
			accepted(t, m)
		}
	})
}

func FuzzZip(f *testing.F) {
	f.Add(makeZip(f, entry{name: "d/", mode: fs.ModeDir | 0o755}, entry{name: "d/a.csv", body: "id\n1\n"}))
	f.Add(makeZip(f, entry{name: "a.csv", body: "x", mode: fs.ModeSymlink | 0o777}))
	f.Add(makeZip(f, entry{name: "../a.csv", body: "x"}))
	f.Add(makeZip(f, entry{name: "a", body: "x"}, entry{name: "b", body: "y"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Zip(bytes.NewReader(data), int64(len(data)), 10)
		if err == nil {
			accepted(t, m)
		}
	})
}

func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"a.csv", "d/a.csv", "../a", "/a", `a\b`, "C:x", "a/./b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if CheckName(name) != nil {
			return
		}
		clean := path.Clean(name)
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") || strings.ContainsAny(name, "\\\x00") {
			t.Fatalf("CheckName(%q) accepted a name that leaves the directory", name)
		}
	})
}
