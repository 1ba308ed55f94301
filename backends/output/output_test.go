package output

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway-ml/slipway/backends"
)

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	files := []backends.File{
		{Path: "local/b.json", Data: []byte("b\n")},
		{Path: "a.txt", Data: []byte("a\n")},
	}
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	// A file that is not ours survives a second write; ours are replaced.
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	files[0].Data = []byte("b2\n")
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a.txt": "a\n", "local/b.json": "b2\n", "keep.txt": "keep"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	// No staging directory is left behind.
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("parent holds %d entries, want only out/", len(entries))
	}
}

func TestWriteRejectsUnsafePaths(t *testing.T) {
	for _, p := range []string{"../escape", "/abs", "a/../../b", "", "a//b"} {
		dir := filepath.Join(t.TempDir(), "out")
		err := Write(dir, []backends.File{{Path: "ok.txt", Data: []byte("x")}, {Path: p, Data: []byte("x")}})
		if err == nil {
			t.Errorf("Write accepted path %q", p)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("path %q: output directory was created", p)
		}
	}
}

func TestWriteFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f.txt")
	for _, content := range []string{"one", "two"} {
		if err := WriteFile(name, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(name); string(got) != content {
			t.Fatalf("content = %q, want %q", got, content)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(name))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %d entries", len(entries))
	}
}
