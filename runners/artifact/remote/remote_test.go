package remote

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ml/slipway/runners/artifact"
	"github.com/slipway-ml/slipway/runners/artifact/registry"
)

func model(t testing.TB) (*artifact.Artifact, []artifact.File) {
	t.Helper()
	files, err := artifact.ReadFiles(artifact.Dirs{
		Model: "../testdata/model", Features: "../testdata/features",
		Evaluation: "../testdata/evaluation", Run: "../testdata/run",
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Pack(artifact.Input{Name: "churn", Version: "1.0.0", Created: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), SlipwayVersion: "0.1.0", Files: files})
	if err != nil {
		t.Fatal(err)
	}
	return a, files
}

// serve starts the in-process registry, with handlers wrapped by wrap
// (nil for none), and returns its host:port and blob root.
func serve(t *testing.T, wrap func(http.Handler) http.Handler) (string, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "blobs")
	h, err := registry.NewRegistry(root)
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), root
}

func TestRoundTrip(t *testing.T) {
	host, _ := serve(t, nil)
	a, files := model(t)
	ctx := context.Background()
	ref := host + "/models/churn:1.0.0"
	d, err := Push(ctx, a, ref, Insecure())
	if err != nil {
		t.Fatal(err)
	}
	if d != a.Digest() {
		t.Fatalf("Push returned %s, want %s", d, a.Digest())
	}

	// The registry holds exactly our bytes under our digest.
	resp, err := http.Get("http://" + host + "/v2/models/churn/manifests/1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, a.Manifest) || resp.Header.Get("Docker-Content-Digest") != d || resp.Header.Get("Content-Type") != artifact.MediaTypeManifest {
		t.Fatalf("registry serves %s as %s with digest %s", body, resp.Header.Get("Content-Type"), resp.Header.Get("Docker-Content-Digest"))
	}

	for _, r := range []string{ref, host + "/models/churn@" + d} {
		got, err := Pull(ctx, r, Insecure())
		if err != nil {
			t.Fatalf("Pull %s: %v", r, err)
		}
		if got.Digest() != d || !bytes.Equal(got.Config, a.Config) || len(got.Blobs) != len(a.Blobs) {
			t.Fatalf("Pull %s = %s", r, got.Digest())
		}
		dir := t.TempDir()
		if err := artifact.Unpack(got, dir); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(dir, f.Path))
			if err != nil || !bytes.Equal(b, f.Data) {
				t.Errorf("%s after push, pull and unpack differs (%v)", f.Path, err)
			}
		}
	}

	// Pushing by digest works; by another digest is refused.
	if _, err := Push(ctx, a, host+"/models/copy@"+d, Insecure()); err != nil {
		t.Errorf("Push by digest: %v", err)
	}
	other := "sha256:" + strings.Repeat("0", 64)
	if _, err := Push(ctx, a, host+"/models/copy@"+other, Insecure()); err == nil || !strings.Contains(err.Error(), "the reference names digest") {
		t.Errorf("Push by another digest: %v", err)
	}
	if _, err := Pull(ctx, host+"/models/churn@"+other, Insecure()); err == nil {
		t.Error("Pull of an unknown digest succeeded")
	}
}

func TestPullRefusesOtherArtifacts(t *testing.T) {
	host, _ := serve(t, nil)
	ctx := context.Background()
	a, _ := model(t)

	// An ordinary image.
	img, err := name.ParseReference(host+"/other/image:1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := ggcr.Write(img, empty.Image); err != nil {
		t.Fatal(err)
	}
	// A ModelPack-shaped manifest with another artifactType, and one
	// with another config type.
	put := func(repo string, from, to string) {
		t.Helper()
		if _, err := Push(ctx, a, host+"/"+repo+":1", Insecure()); err != nil {
			t.Fatal(err)
		}
		r, _ := name.ParseReference(host+"/"+repo+":1", name.Insecure)
		if err := ggcr.Put(r, rawManifest{bytes.Replace(a.Manifest, []byte(from), []byte(to), 1)}); err != nil {
			t.Fatal(err)
		}
	}
	put("models/wrongtype", artifact.ArtifactType, "application/vnd.example.other.v1+json")
	put("models/wrongconfig", artifact.MediaTypeConfig, "application/vnd.oci.image.config.v1+json")
	// An image index.
	idx, _ := name.ParseReference(host+"/models/index:1", name.Insecure)
	if err := ggcr.WriteIndex(idx, empty.Index); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ ref, want string }{
		{"other/image:1", "mediaType"},
		{"models/wrongtype:1", `artifactType is "application/vnd.example.other.v1+json"`},
		{"models/wrongconfig:1", "config mediaType"},
		{"models/index:1", "index"},
	}
	for _, tt := range tests {
		_, err := Pull(ctx, host+"/"+tt.ref, Insecure())
		if !errors.Is(err, artifact.ErrNotModelPack) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Pull %s = %v, want ErrNotModelPack mentioning %q", tt.ref, err, tt.want)
		}
	}
}

func TestPullTamperedBlob(t *testing.T) {
	a, _ := model(t)
	m, _ := a.ManifestOf()
	var target string
	for _, l := range m.Layers {
		if l.Annotations[artifact.AnnotationFilepath] == "model.bin" {
			target = l.Digest.String()
		}
	}
	// changeBlob serves the model.bin blob changed by change.
	changeBlob := func(change func([]byte) []byte) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+target) {
					next.ServeHTTP(w, r)
					return
				}
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				b := change(rec.Body.Bytes())
				w.Header().Set("Content-Length", fmt.Sprint(len(b)))
				w.WriteHeader(rec.Code)
				w.Write(b)
			})
		}
	}
	tests := []struct {
		name   string
		change func([]byte) []byte
		want   error
	}{
		{"changed", func(b []byte) []byte { b[0] ^= 1; return b }, artifact.ErrBlobDigest},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, artifact.ErrBlobTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, _ := serve(t, changeBlob(tt.change))
			ctx := context.Background()
			if _, err := Push(ctx, a, host+"/models/churn:1", Insecure()); err != nil {
				t.Fatal(err)
			}
			_, err := Pull(ctx, host+"/models/churn:1", Insecure())
			var be *artifact.BlobError
			if !errors.As(err, &be) || be.Blob != `layer "model.bin"` || !errors.Is(err, tt.want) {
				t.Fatalf("Pull = %v, want %v on model.bin", err, tt.want)
			}
		})
	}

	// The disk registry itself re-hashes a blob it is asked about, and
	// reports one changed on disk as absent.
	host, root := serve(t, nil)
	ctx := context.Background()
	if _, err := Push(ctx, a, host+"/models/churn:1", Insecure()); err != nil {
		t.Fatal(err)
	}
	h := strings.TrimPrefix(target, "sha256:")
	p := filepath.Join(root, "sha256", h)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Pull(ctx, host+"/models/churn:1", Insecure()); !errors.Is(err, artifact.ErrBlobMissing) || !strings.Contains(err.Error(), "model.bin") {
		t.Fatalf("Pull of a blob changed on the registry's disk = %v", err)
	}
}

func TestPushDetectsRewrittenManifest(t *testing.T) {
	// A registry that re-indents every manifest it is given.
	host, _ := serve(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
				b, _ := io.ReadAll(r.Body)
				var out bytes.Buffer
				json.Indent(&out, b, "", " ")
				r.Body = io.NopCloser(&out)
				r.ContentLength = int64(out.Len())
			}
			next.ServeHTTP(w, r)
		})
	})
	a, _ := model(t)
	_, err := Push(context.Background(), a, host+"/models/churn:1", Insecure())
	if err == nil || !strings.Contains(err.Error(), "the registry changed the manifest") {
		t.Fatalf("Push to a rewriting registry = %v", err)
	}
}

func TestPlainHTTP(t *testing.T) {
	host, _ := serve(t, nil)
	a, _ := model(t)
	ctx := context.Background()
	if _, err := Push(ctx, a, host+"/models/churn:1"); err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("Push over plain HTTP without Insecure = %v", err)
	}
	if _, err := Pull(ctx, host+"/models/churn:1"); err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("Pull over plain HTTP without Insecure = %v", err)
	}
	for _, ref := range []string{"example.com/models/churn:1", "10.0.0.8:5000/models/churn:1", "localhost.example.com:5000/models/churn:1"} {
		if _, err := Push(ctx, a, ref, Insecure()); err == nil || !strings.Contains(err.Error(), "loopback registries only") {
			t.Errorf("Push %s with Insecure = %v", ref, err)
		}
	}
	for _, tt := range []struct {
		host string
		want bool
	}{{"localhost:5000", true}, {"127.0.0.1", true}, {"127.3.2.1:80", true}, {"[::1]:5000", true}, {"10.0.0.1:5000", false}, {"example.com", false}, {"0.0.0.0:5000", false}} {
		if got := IsLoopback(tt.host); got != tt.want {
			t.Errorf("loopback(%s) = %v", tt.host, got)
		}
	}
}

func TestDockerConfigAuth(t *testing.T) {
	const user, pass = "ml", "s3cret"
	host, _ := serve(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	a, _ := model(t)
	ctx := context.Background()
	writeConfig := func(p string) {
		dir := t.TempDir()
		cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, base64.StdEncoding.EncodeToString([]byte(user+":"+p)))
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_CONFIG", dir)
	}
	writeConfig("wrong")
	if _, err := Push(ctx, a, host+"/models/churn:1", Insecure()); err == nil {
		t.Fatal("Push with wrong credentials succeeded")
	}
	writeConfig(pass)
	if _, err := Push(ctx, a, host+"/models/churn:1", Insecure()); err != nil {
		t.Fatalf("Push with the Docker config's credentials: %v", err)
	}
	if _, err := Pull(ctx, host+"/models/churn:1", Insecure()); err != nil {
		t.Fatalf("Pull with the Docker config's credentials: %v", err)
	}
	if _, err := Pull(ctx, host+"/models/churn:1", Insecure(), WithKeychain(authn.NewMultiKeychain())); err == nil {
		t.Fatal("Pull with an empty keychain succeeded")
	}
}

type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestWithTransport(t *testing.T) {
	host, _ := serve(t, nil)
	a, _ := model(t)
	ct := &countingTransport{next: http.DefaultTransport}
	if _, err := Push(context.Background(), a, host+"/models/churn:1", Insecure(), WithTransport(ct)); err != nil {
		t.Fatal(err)
	}
	if ct.n.Load() == 0 {
		t.Fatal("the custom transport carried no request")
	}
}

func TestPushRefusesTamperedArtifact(t *testing.T) {
	host, _ := serve(t, nil)
	a, _ := model(t)
	bad := &artifact.Artifact{Manifest: a.Manifest, Config: a.Config[:len(a.Config)-1], Blobs: a.Blobs}
	if _, err := Push(context.Background(), bad, host+"/models/churn:1", Insecure()); !errors.Is(err, artifact.ErrBlobTruncated) {
		t.Fatalf("Push of a truncated config = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Push(ctx, a, host+"/models/churn:1", Insecure()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Push with a cancelled context = %v", err)
	}
}

// The lineage layer and the manifest's annotations come back from the
// registry exactly as packed, and readable without fetching a layer.
func TestLineageRoundTrip(t *testing.T) {
	host, _ := serve(t, nil)
	_, files := model(t)
	spec := "sha256:" + strings.Repeat("ab", 32)
	a, err := artifact.Pack(artifact.Input{
		Name: "churn", Version: "1.0.0", Source: "https://github.com/example/ml",
		Revision: "0123456789abcdef0123456789abcdef01234567", Created: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC),
		SpecDigest: spec, Datasets: map[string]string{"customers": "sha256:" + strings.Repeat("cd", 32)},
		SlipwayVersion: "0.1.0", Files: files,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ref := host + "/models/churn:1.0.0"
	if _, err := Push(ctx, a, ref, Insecure()); err != nil {
		t.Fatal(err)
	}

	// The manifest alone, as any OCI client gets it, carries the key
	// facts.
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := ggcr.Get(r)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Annotations map[string]string `json:"annotations"`
		Layers      []struct {
			Digest      string            `json:"digest"`
			MediaType   string            `json:"mediaType"`
			Annotations map[string]string `json:"annotations"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	wantAnn := map[string]string{
		artifact.AnnotationRevision:       "0123456789abcdef0123456789abcdef01234567",
		artifact.AnnotationSource:         "https://github.com/example/ml",
		artifact.AnnotationVersion:        "1.0.0",
		artifact.AnnotationSpecDigest:     spec,
		artifact.AnnotationSlipwayVersion: "0.1.0",
		artifact.AnnotationTask:           "binary",
		artifact.AnnotationMetrics:        `{"accuracy":1,"log_loss":0.31,"roc_auc":0.875}`,
	}
	for k, v := range wantAnn {
		if m.Annotations[k] != v {
			t.Errorf("pulled manifest annotation %s = %q, want %q", k, m.Annotations[k], v)
		}
	}
	metrics, err := artifact.ParseMetrics(m.Annotations[artifact.AnnotationMetrics])
	if err != nil || metrics["roc_auc"] != 0.875 {
		t.Errorf("metrics annotation = %v, %v", metrics, err)
	}
	var lineageDigest string
	for _, l := range m.Layers {
		if l.Annotations[artifact.AnnotationFilepath] == artifact.LineageFile {
			lineageDigest = l.Digest
			if l.MediaType != artifact.MediaTypeDoc || l.Annotations[artifact.AnnotationFileMetadata] == "" || l.Annotations[artifact.AnnotationMediaTypeUntested] != "false" {
				t.Errorf("lineage layer = %+v", l)
			}
		}
	}
	if lineageDigest == "" {
		t.Fatalf("the pulled manifest has no %s layer", artifact.LineageFile)
	}

	// The lineage layer itself is served under its digest.
	resp, err := http.Get("http://" + host + "/v2/models/churn/blobs/" + lineageDigest)
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want, err := a.File(artifact.LineageFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(blob, want) {
		t.Errorf("registry serves lineage.json as %q, want %q", blob, want)
	}

	got, err := Pull(ctx, ref, Insecure())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Manifest, a.Manifest) {
		t.Error("the pulled manifest differs from the pushed one")
	}
	l, err := got.Lineage()
	if err != nil {
		t.Fatal(err)
	}
	wl, _ := a.Lineage()
	if lj, wj := mustJSON(t, l), mustJSON(t, wl); lj != wj {
		t.Errorf("pulled lineage = %s\nwant %s", lj, wj)
	}
	if l.SpecDigest != spec || l.Commit != wantAnn[artifact.AnnotationRevision] || l.Datasets["customers"] == "" || len(l.Gates) != 1 || l.Metrics["test"]["roc_auc"] != 0.875 {
		t.Errorf("pulled lineage = %+v", l)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
