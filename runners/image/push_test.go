package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// newRegistry starts an in-process registry and returns its host:port.
func newRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func TestPushPull(t *testing.T) {
	host := newRegistry(t)
	opts := testOptions(t)
	img := mustBuild(t, opts)
	want := digest(t, img)
	ctx := context.Background()

	ref := host + "/acme/slipway:v0.1.0"
	got, err := Push(ctx, img, ref, remote.WithAuth(authn.Anonymous))
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if got.String() != host+"/acme/slipway@"+want.String() {
		t.Fatalf("Push returned %s, want %s/acme/slipway@%s", got, host, want)
	}

	pulled, err := remote.Image(got)
	if err != nil {
		t.Fatalf("pull by digest: %v", err)
	}
	if d := digest(t, pulled); d != want {
		t.Fatalf("pulled digest %s, want %s", d, want)
	}
	raw, err := pulled.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	local, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, local) {
		t.Errorf("the registry returned other manifest bytes:\n%s\nwant\n%s", raw, local)
	}
	mt, err := pulled.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	if mt != types.OCIManifestSchema1 {
		t.Errorf("pulled media type %s, want %s", mt, types.OCIManifestSchema1)
	}
	cfg, err := pulled.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Config.Entrypoint, []string{BinaryPath}) || cfg.Config.User != "65532:65532" || cfg.Config.WorkingDir != WorkingDir || cfg.Config.Labels[AnnotationRevision] != opts.Revision {
		t.Errorf("pulled config = %+v, want the built one", cfg.Config)
	}
	pulledFiles := readLayer(t, pulled)
	for _, f := range pulledFiles {
		if f.hdr.Name == "usr/local/bin/slipway" && !bytes.Equal(f.body, opts.Binary) {
			t.Error("the pulled binary differs from Options.Binary")
		}
	}

	// The tag resolves to the pushed digest.
	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(tag)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != want {
		t.Errorf("tag resolves to %s, want %s", desc.Digest, want)
	}

	// Pushing to the image's own digest is allowed; to another one is not.
	if _, err := Push(ctx, img, host+"/acme/slipway@"+want.String()); err != nil {
		t.Errorf("Push to the image's own digest: %v", err)
	}
	other := host + "/acme/slipway@sha256:" + strings.Repeat("ab", 32)
	if _, err := Push(ctx, img, other); err == nil || !strings.Contains(err.Error(), "pins the digest sha256:abab") {
		t.Errorf("Push to another digest = %v, want a pinned-digest error", err)
	}
	if _, err := Push(ctx, img, "Not A Reference"); err == nil || !strings.Contains(err.Error(), `parse the image reference "Not A Reference"`) {
		t.Errorf("Push to a bad reference = %v, want a parse error", err)
	}

	// A cancelled context stops the push.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Push(cancelled, img, host+"/acme/other:v1"); err == nil || !strings.Contains(err.Error(), "push the image to") {
		t.Errorf("Push with a cancelled context = %v, want an error", err)
	}
}

func TestWriteLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	opts := testOptions(t)
	img := mustBuild(t, opts)
	want := digest(t, img)

	if err := WriteLayout(dir, img, "slipway:v0.1.0"); err != nil {
		t.Fatalf("WriteLayout: %v", err)
	}
	index := readIndexFile(t, dir)
	if len(index.Manifests) != 1 {
		t.Fatalf("index has %d manifests, want 1", len(index.Manifests))
	}
	d := index.Manifests[0]
	if d.Digest != want || d.MediaType != types.OCIManifestSchema1 || d.Annotations[AnnotationRefName] != "slipway:v0.1.0" {
		t.Errorf("index entry = %+v, want %s named slipway:v0.1.0", d, want)
	}
	if d.Platform == nil || d.Platform.OS != "linux" || d.Platform.Architecture != "amd64" {
		t.Errorf("index entry platform = %+v, want linux/amd64", d.Platform)
	}
	marker, err := os.ReadFile(filepath.Join(dir, "oci-layout"))
	if err != nil || string(marker) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %q (%v), want the 1.0.0 marker", marker, err)
	}
	checkBlobs(t, dir, 3)

	// go-containerregistry reads the layout back to the same image.
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	back, err := p.Image(want)
	if err != nil {
		t.Fatalf("read the image back from the layout: %v", err)
	}
	if got := digest(t, back); got != want {
		t.Errorf("layout image digest %s, want %s", got, want)
	}
	for _, f := range readLayer(t, back) {
		if f.hdr.Name == "usr/local/bin/slipway" && !bytes.Equal(f.body, opts.Binary) {
			t.Error("the binary read from the layout differs from Options.Binary")
		}
	}

	// The same name is replaced, another name is added.
	newer := opts
	newer.Version = "v0.2.0"
	img2 := mustBuild(t, newer)
	if err := WriteLayout(dir, img2, "slipway:v0.1.0"); err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(dir, img, "slipway:stable"); err != nil {
		t.Fatal(err)
	}
	index = readIndexFile(t, dir)
	got := map[string]v1.Hash{}
	for _, m := range index.Manifests {
		got[m.Annotations[AnnotationRefName]] = m.Digest
	}
	if wantNames := map[string]v1.Hash{"slipway:v0.1.0": digest(t, img2), "slipway:stable": want}; !reflect.DeepEqual(got, wantNames) {
		t.Errorf("index names = %v, want %v", got, wantNames)
	}
	checkBlobs(t, dir, 5) // one shared layer, two configs, two manifests

	// A damaged blob is rewritten, not trusted.
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	ld, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(dir, "blobs", "sha256", ld.Hex)
	if err := os.WriteFile(blob, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(dir, img, "slipway:stable"); err != nil {
		t.Fatal(err)
	}
	checkBlobs(t, dir, 5)

	if err := WriteLayout(dir, img, " "); err == nil || !strings.Contains(err.Error(), "reference name is empty") {
		t.Errorf("WriteLayout with an empty name = %v, want an error", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(dir, img, "slipway:stable"); err == nil || !strings.Contains(err.Error(), "is not an OCI image index") {
		t.Errorf("WriteLayout over a broken index.json = %v, want an error", err)
	}
}

// readIndexFile decodes dir/index.json.
func readIndexFile(t *testing.T, dir string) *v1.IndexManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index v1.IndexManifest
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	if index.SchemaVersion != 2 || index.MediaType != types.OCIImageIndex {
		t.Errorf("index.json has schemaVersion %d and mediaType %q, want 2 and %s", index.SchemaVersion, index.MediaType, types.OCIImageIndex)
	}
	return &index
}

// checkBlobs checks that the layout holds n blobs, each named after the
// sha256 of its content, and no leftover temporary files.
func checkBlobs(t *testing.T, dir string, n int) {
	t.Helper()
	blobs := filepath.Join(dir, "blobs", "sha256")
	entries, err := os.ReadDir(blobs)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("layout holds %d blobs %v, want %d", len(entries), names, n)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(blobs, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != e.Name() {
			t.Errorf("blob %s hashes to %x", e.Name(), sum)
		}
	}
	top, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range top {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("leftover temporary file %s", e.Name())
		}
	}
}
