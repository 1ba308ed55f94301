package artifact

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestUnpackRoundTrip(t *testing.T) {
	in := fixture(t)
	in.Files = append(slices.Clone(in.Files), File{Path: "docs/README.md", Data: []byte("# churn\n"), MediaType: MediaTypeDoc})
	a := pack(t, in)
	dir := filepath.Join(t.TempDir(), "out")
	if err := Unpack(a, dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range in.Files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s differs after unpacking", f.Path)
		}
		st, _ := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if st.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", f.Path, st.Mode().Perm())
		}
	}
	schema, err := os.ReadFile(filepath.Join(dir, "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SchemaFromFeatures(fileData(t, in, "features.json")); err != nil || !bytes.Contains(schema, []byte(`"probability"`)) {
		t.Errorf("schema.json = %s (%v)", schema, err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"docs", "evaluation.json", "features.json", "gates.json", "lineage.json", "model.bin", "report.html", "report.json", "schema.json", "train.json"}
	if !slices.Equal(names, want) {
		t.Errorf("unpacked %v, want %v (no temporary files left)", names, want)
	}
	// Unpacking again over the same files replaces them.
	if err := Unpack(a, dir); err != nil {
		t.Fatalf("second Unpack: %v", err)
	}
}

func TestUnpackSymlinkEscape(t *testing.T) {
	in := fixture(t)
	in.Files = append(slices.Clone(in.Files), File{Path: "docs/README.md", Data: []byte("pwned"), MediaType: MediaTypeDoc})
	a := pack(t, in)
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	dir := filepath.Join(base, "model")
	for _, d := range []string{outside, dir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "docs")); err != nil {
		t.Fatal(err)
	}
	err := Unpack(a, dir)
	if err == nil {
		t.Fatal("Unpack wrote through a symbolic link leading out of its directory")
	}
	if _, serr := os.Stat(filepath.Join(outside, "README.md")); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("a file appeared outside the directory (Unpack error: %v)", err)
	}
}

func TestUnpackEscapingPath(t *testing.T) {
	a := pack(t, fixture(t))
	b := rewrite(t, a.Manifest, func(m map[string]any) {
		layerAt(m, 0)["annotations"].(map[string]any)[AnnotationFilepath] = "../evil.json"
	})
	base := t.TempDir()
	err := Unpack(&Artifact{Manifest: b, Config: a.Config, Blobs: a.Blobs}, filepath.Join(base, "model"))
	if !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("Unpack = %v, want ErrUnsafePath", err)
	}
	if _, serr := os.Stat(filepath.Join(base, "evil.json")); !errors.Is(serr, os.ErrNotExist) {
		t.Fatal("a file was written outside the directory")
	}
}
