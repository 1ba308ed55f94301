package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway-ml/slipway/runners/artifact"
)

// model packs the artifact package's test model for a pipeline, made at
// a given day of 2025.
func model(t testing.TB, name string, day int) *artifact.Artifact {
	t.Helper()
	files, err := artifact.ReadFiles(artifact.Dirs{
		Model: "../testdata/model", Features: "../testdata/features",
		Evaluation: "../testdata/evaluation", Run: "../testdata/run",
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Pack(artifact.Input{
		Name: name, Version: fmt.Sprintf("1.0.%d", day), Created: time.Date(2025, 1, day, 0, 0, 0, 0, time.UTC),
		SlipwayVersion: "0.1.0", Files: files,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func open(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t testing.TB, s *Store, name string, a *artifact.Artifact) string {
	t.Helper()
	d, err := s.Put(name, a)
	if err != nil {
		t.Fatalf("Put %s: %v", name, err)
	}
	if d != a.Digest() {
		t.Fatalf("Put returned %s, want the artifact's digest %s", d, a.Digest())
	}
	return d
}

func TestPutGetList(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".slipway", "oci")
	s := open(t, dir)
	old, cur, fraud := model(t, "churn", 1), model(t, "churn", 2), model(t, "fraud", 1)
	d1 := put(t, s, "churn", old)
	d2 := put(t, s, "churn", cur)
	d3 := put(t, s, "fraud", fraud)

	tests := []struct {
		ref  string
		want *artifact.Artifact
	}{
		{"churn", cur}, {"churn@" + d1, old}, {"churn@" + d2, cur}, {d1, old}, {d2, cur}, {"fraud", fraud}, {d3, fraud},
	}
	for _, tt := range tests {
		got, err := s.Get(tt.ref)
		if err != nil {
			t.Fatalf("Get(%s): %v", tt.ref, err)
		}
		if !bytes.Equal(got.Manifest, tt.want.Manifest) || !bytes.Equal(got.Config, tt.want.Config) || len(got.Blobs) != len(tt.want.Blobs) {
			t.Errorf("Get(%s) = %s, want %s", tt.ref, got.Digest(), tt.want.Digest())
		}
		for d, b := range tt.want.Blobs {
			if !bytes.Equal(got.Blobs[d], b) {
				t.Errorf("Get(%s): blob %s differs", tt.ref, d)
			}
		}
	}
	for _, bad := range []struct{ ref, want string }{
		{"nope", `no artifact of pipeline "nope"`},
		{"churn@" + d3, "holds no artifact churn@"},
		{"sha256:" + strings.Repeat("0", 64), "holds no model artifact"},
		{"sha256:abc", "reference"},
		{"Churn", "want a pipeline name"},
		{"churn@latest", "reference"},
	} {
		if _, err := s.Get(bad.ref); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Get(%s) = %v, want an error containing %q", bad.ref, err, bad.want)
		}
	}

	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, digest string
		day          int
		latest       bool
	}{{"churn", d2, 2, true}, {"churn", d1, 1, false}, {"fraud", d3, 1, true}}
	if len(list) != len(want) {
		t.Fatalf("List = %+v, want %d entries", list, len(want))
	}
	for i, w := range want {
		e := list[i]
		if e.Name != w.name || e.Digest != w.digest || e.Latest != w.latest || e.Signed || e.Err != nil ||
			!e.Created.Equal(time.Date(2025, 1, w.day, 0, 0, 0, 0, time.UTC)) || e.Model != "logistic" || e.Task != "binary" || e.Metrics["roc_auc"] != 0.875 {
			t.Errorf("List[%d] = %+v, want %s %s latest=%v", i, e, w.name, w.digest, w.latest)
		}
	}

	// The directory is an OCI layout other tools read.
	ii, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, d := range im.Manifests {
		refs = append(refs, d.Annotations[AnnotationRefName])
		if d.MediaType != types.OCIManifestSchema1 || d.ArtifactType != artifact.ArtifactType {
			t.Errorf("index entry %v: media type %s, artifactType %s", d.Annotations, d.MediaType, d.ArtifactType)
		}
	}
	wantRefs := []string{"churn", "churn@" + d1, "churn@" + d2, "fraud", "fraud@" + d3}
	slices.Sort(wantRefs)
	if !slices.Equal(refs, wantRefs) {
		t.Errorf("index ref names = %v, want %v", refs, wantRefs)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "oci-layout")); err != nil || string(b) != layoutFile {
		t.Errorf("oci-layout = %q, %v", b, err)
	}
	noTempFiles(t, dir)
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

func TestPutAgainMovesLatest(t *testing.T) {
	s := open(t, t.TempDir())
	a, b := model(t, "churn", 1), model(t, "churn", 2)
	put(t, s, "churn", a)
	put(t, s, "churn", b)
	put(t, s, "churn", a)
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("List has %d entries after putting one artifact twice, want 2", len(list))
	}
	for _, e := range list {
		if e.Latest != (e.Digest == a.Digest()) {
			t.Errorf("entry %s latest=%v", e.Digest, e.Latest)
		}
	}
	if got, _ := s.Get("churn"); got == nil || got.Digest() != a.Digest() {
		t.Errorf("latest churn is not the artifact put last")
	}
}

func TestPutRefuses(t *testing.T) {
	s := open(t, t.TempDir())
	a := model(t, "churn", 1)
	if _, err := s.Put("fraud", a); err == nil || !strings.Contains(err.Error(), `packed for pipeline "churn"`) {
		t.Errorf("Put under another name: %v", err)
	}
	if _, err := s.Put("../x", a); err == nil {
		t.Error("Put accepted the name ../x")
	}
	bad := &artifact.Artifact{Manifest: a.Manifest, Config: a.Config, Blobs: map[string][]byte{}}
	for d, b := range a.Blobs {
		bad.Blobs[d] = append(bytes.Clone(b), '!')
	}
	if _, err := s.Put("churn", bad); !errors.Is(err, artifact.ErrBlobTooLong) {
		t.Errorf("Put of a tampered artifact: %v", err)
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Errorf("refused puts left entries: %+v", list)
	}
}

// blobPath returns the path of the blob of the artifact's file (or
// "manifest" or "config").
func blobPath(t *testing.T, s *Store, a *artifact.Artifact, file string) string {
	t.Helper()
	m, err := a.ManifestOf()
	if err != nil {
		t.Fatal(err)
	}
	var h v1.Hash
	switch file {
	case "manifest":
		h, _ = v1.NewHash(a.Digest())
	case "config":
		h = m.Config.Digest
	default:
		for _, l := range m.Layers {
			if l.Annotations[artifact.AnnotationFilepath] == file {
				h = l.Digest
			}
		}
	}
	return filepath.Join(s.Dir(), "blobs", h.Algorithm, h.Hex)
}

// List reads the model kind, task and metrics from the manifest and
// config alone: it needs no layer.
func TestListFromAnnotations(t *testing.T) {
	s := open(t, t.TempDir())
	evaluated := model(t, "churn", 1)
	files, err := artifact.ReadFiles(artifact.Dirs{Model: "../testdata/model", Features: "../testdata/features"})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := artifact.Pack(artifact.Input{Name: "fraud", Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Files: files})
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "churn", evaluated)
	put(t, s, "fraud", bare)
	for _, a := range []*artifact.Artifact{evaluated, bare} {
		if err := os.Remove(blobPath(t, s, a, artifact.LineageFile)); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name    string
		metrics map[string]float64
	}{
		{"churn", map[string]float64{"accuracy": 1, "log_loss": 0.31, "roc_auc": 0.875}},
		{"fraud", nil},
	}
	if len(list) != len(want) {
		t.Fatalf("List = %+v, want %d entries", list, len(want))
	}
	for i, w := range want {
		e := list[i]
		if e.Name != w.name || e.Err != nil || e.Model != "logistic" || e.Task != "binary" || !maps.Equal(e.Metrics, w.metrics) || (w.metrics == nil) != (e.Metrics == nil) {
			t.Errorf("List[%d] = %+v, want %s with metrics %v", i, e, w.name, w.metrics)
		}
	}
	// Reading the whole artifact does need the layer.
	if _, err := s.Get("churn"); !errors.Is(err, artifact.ErrBlobMissing) {
		t.Errorf("Get without lineage.json = %v, want %v", err, artifact.ErrBlobMissing)
	}
}

func TestTamper(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		change func(t *testing.T, p string)
		want   error
		blob   string
	}{
		{"changed layer", "model.bin", func(t *testing.T, p string) { flipByte(t, p) }, artifact.ErrBlobDigest, `layer "model.bin"`},
		{"truncated layer", "features.json", func(t *testing.T, p string) { truncate(t, p) }, artifact.ErrBlobTruncated, `layer "features.json"`},
		{"appended layer", "train.json", func(t *testing.T, p string) { appendByte(t, p) }, artifact.ErrBlobTooLong, `layer "train.json"`},
		{"missing layer", "schema.json", func(t *testing.T, p string) { os.Remove(p) }, artifact.ErrBlobMissing, `layer "schema.json"`},
		{"changed manifest", "manifest", func(t *testing.T, p string) { flipByte(t, p) }, artifact.ErrBlobDigest, "manifest"},
		{"truncated manifest", "manifest", func(t *testing.T, p string) { truncate(t, p) }, artifact.ErrBlobTruncated, "manifest"},
		{"changed config", "config", func(t *testing.T, p string) { flipByte(t, p) }, artifact.ErrBlobDigest, "config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, t.TempDir())
			a := model(t, "churn", 1)
			d := put(t, s, "churn", a)
			p := blobPath(t, s, a, tt.file)
			tt.change(t, p)
			_, err := s.Get("churn")
			var be *artifact.BlobError
			if !errors.Is(err, tt.want) || !errors.As(err, &be) || be.Blob != tt.blob {
				t.Fatalf("Get = %v, want %v naming %s", err, tt.want, tt.blob)
			}
			if !strings.Contains(err.Error(), filepath.Base(p)) {
				t.Errorf("error %q does not name the blob's digest", err)
			}
			if tt.blob == "manifest" || tt.blob == "config" {
				list, err := s.List()
				if err != nil || len(list) != 1 || !errors.Is(list[0].Err, tt.want) || list[0].Digest != d {
					t.Errorf("List = %+v, %v; want the entry with error %v", list, err, tt.want)
				}
			}
			// Putting the artifact again repairs the store.
			put(t, s, "churn", a)
			if _, err := s.Get(d); err != nil {
				t.Errorf("Get after repairing: %v", err)
			}
		})
	}
}

func TestSymlinkBlobRefused(t *testing.T) {
	s := open(t, t.TempDir())
	a := model(t, "churn", 1)
	put(t, s, "churn", a)
	p := blobPath(t, s, a, "model.bin")
	target := filepath.Join(t.TempDir(), "model.bin")
	if err := os.Rename(p, target); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("churn"); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("Get through a symlinked blob = %v", err)
	}
}

func flipByte(t *testing.T, p string) {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x20
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, p string) {
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, st.Size()/2); err != nil {
		t.Fatal(err)
	}
}

func appendByte(t *testing.T, p string) {
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte(" "))
	f.Close()
}

// signature builds a cosign-style signature image for a digest.
func signature(t *testing.T, digest string) v1.Image {
	t.Helper()
	payload := fmt.Sprintf(`{"critical":{"identity":{"docker-reference":"example.com/churn"},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, digest)
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.Append(img, mutate.Addendum{
		Layer:       static.NewLayer([]byte(payload), "application/vnd.dev.cosign.simplesigning.v1+json"),
		Annotations: map[string]string{"dev.cosignproject.cosign/signature": "c2lnbmF0dXJl"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestTagImage(t *testing.T) {
	s := open(t, t.TempDir())
	a := model(t, "churn", 1)
	d := put(t, s, "churn", a)
	tag, err := SignatureTag(d)
	if err != nil || tag != "sha256-"+strings.TrimPrefix(d, "sha256:")+".sig" {
		t.Fatalf("SignatureTag(%s) = %s, %v", d, tag, err)
	}
	sig := signature(t, d)
	if err := s.Tag(tag, sig); err != nil {
		t.Fatal(err)
	}
	got, err := s.Image(tag)
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := sig.Digest()
	gd, _ := got.Digest()
	if gd != wd {
		t.Errorf("Image digest = %s, want %s", gd, wd)
	}
	layers, err := got.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %v, %v", layers, err)
	}
	rc, _ := layers[0].Compressed()
	payload, _ := io.ReadAll(rc)
	if !bytes.Contains(payload, []byte(d)) {
		t.Errorf("signature payload = %s", payload)
	}
	list, _ := s.List()
	if len(list) != 1 || !list[0].Signed {
		t.Errorf("List = %+v, want one signed entry", list)
	}
	if _, err := s.Get("churn"); err != nil {
		t.Errorf("Get after Tag: %v", err)
	}

	// A changed signature layer is refused.
	lh, _ := layers[0].Digest()
	flipByte(t, filepath.Join(s.Dir(), "blobs", lh.Algorithm, lh.Hex))
	if _, err := s.Image(tag); !errors.Is(err, artifact.ErrBlobDigest) {
		t.Errorf("Image with a changed layer = %v", err)
	}
	for _, bad := range []string{"churn", "latest", "bad tag", ".hidden", ""} {
		if err := s.Tag(bad, sig); err == nil {
			t.Errorf("Tag(%q) accepted", bad)
		}
	}
	if _, err := s.Image("sha256-0.sig"); err == nil || !strings.Contains(err.Error(), "no image tagged") {
		t.Errorf("Image of a missing tag: %v", err)
	}
}

func TestConcurrentPuts(t *testing.T) {
	dir := t.TempDir()
	stores := []*Store{open(t, dir), open(t, dir)}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	arts := make([]*artifact.Artifact, 8)
	for i := range arts {
		arts[i] = model(t, fmt.Sprintf("p%d", i%4), i+1)
	}
	for i, a := range arts {
		wg.Go(func() {
			c, _ := a.ConfigOf()
			if _, err := stores[i%2].Put(c.Descriptor.Name, a); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	list, err := open(t, dir).List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(arts) {
		t.Fatalf("List has %d entries after %d concurrent puts", len(list), len(arts))
	}
	for _, e := range list {
		if e.Err != nil {
			t.Errorf("entry %s: %v", e.Digest, e.Err)
		}
	}
	noTempFiles(t, dir)
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	put(t, s, "churn", model(t, "churn", 1))
	if list, err := open(t, dir).List(); err != nil || len(list) != 1 {
		t.Errorf("reopened store lists %+v, %v", list, err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "oci-layout"), []byte(`{"imageLayoutVersion":"2.0.0"}`), 0o644)
	if _, err := Open(bad); err == nil || !strings.Contains(err.Error(), "imageLayoutVersion") {
		t.Errorf("Open with another layout version: %v", err)
	}
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "index.json"), []byte(`{`), 0o644)
	if _, err := Open(broken); err == nil || !strings.Contains(err.Error(), "index.json") {
		t.Errorf("Open with a broken index.json: %v", err)
	}
}

func TestIndexEntryMismatch(t *testing.T) {
	s := open(t, t.TempDir())
	d1 := put(t, s, "churn", model(t, "churn", 1))
	d2 := put(t, s, "churn", model(t, "churn", 2))
	idx, err := s.index()
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := v1.NewHash(d2)
	for i, d := range idx.Manifests {
		if d.Annotations[AnnotationRefName] == "churn@"+d1 {
			idx.Manifests[i].Digest = h2
		}
	}
	if err := s.writeIndex(idx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("churn@" + d1); err == nil || !strings.Contains(err.Error(), "points to "+d2) {
		t.Errorf("Get through a rewritten index entry = %v", err)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range list {
		if e.Digest == d1 {
			found = true
			if e.Err == nil || !strings.Contains(e.Err.Error(), "points to") {
				t.Errorf("List entry %s: Err = %v", d1, e.Err)
			}
		}
	}
	if !found {
		t.Errorf("List dropped the mismatched entry: %+v", list)
	}
}
