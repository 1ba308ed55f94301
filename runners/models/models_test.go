package models_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/runners/artifact/registry"
	"github.com/slipway-ml/slipway/runners/dataset"
	"github.com/slipway-ml/slipway/runners/models"
	"github.com/slipway-ml/slipway/runners/pipeline"
	"github.com/slipway-ml/slipway/runners/signing"
	"github.com/slipway-ml/slipway/runners/train"
	"github.com/slipway-ml/slipway/runners/train/features"
)

// keys writes a cosign key pair and returns the key file's path and the
// public key.
func keys(t *testing.T, dir string) (string, any) {
	t.Helper()
	priv, pub, err := signing.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	kp, _, err := signing.WriteKeyPair(dir, priv, pub)
	if err != nil {
		t.Fatal(err)
	}
	p, err := signing.LoadPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return kp, p
}

// predict loads a model's files from dir and scores the churn data.
func predict(t *testing.T, dir string) []float64 {
	t.Helper()
	fb, err := os.ReadFile(filepath.Join(dir, "features.json"))
	if err != nil {
		t.Fatal(err)
	}
	fp := new(features.Pipeline)
	if err := fp.UnmarshalJSON(fb); err != nil {
		t.Fatal(err)
	}
	mb, err := os.ReadFile(filepath.Join(dir, "model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := train.LoadModel("gbdt", mb)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := dataset.ReadFile(filepath.Join("..", "..", "examples", "churn", "data", "churn.csv"), "csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	x, err := fp.Transform(tbl)
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRoundTrip runs the churn pipeline, which packs and signs the model
// and pushes both to an in-process registry; the model pulled back from
// the registry verifies against the key and predicts exactly as the one
// in the local store.
func TestRoundTrip(t *testing.T) {
	h, err := registry.NewRegistry(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	dir := filepath.Join(t.TempDir(), "churn")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "examples", "churn"))); err != nil {
		t.Fatal(err)
	}
	keyFile, pub := keys(t, t.TempDir())
	env := map[string]string{"COSIGN_KEY": keyFile, "COSIGN_PASSWORD": "pw"}
	res, ds := compiler.Compile(context.Background(), compiler.Options{FS: os.DirFS(dir), Dir: ".", Root: dir})
	if res == nil {
		t.Fatal(ds)
	}
	state := t.TempDir()
	out, err := pipeline.Run(context.Background(), pipeline.Options{Compiled: res, StateDir: state, Registry: host,
		Getenv: func(k string) string { return env[k] }})
	if err != nil || out.Err() != nil {
		t.Fatalf("run: %v %v", err, out.Err())
	}
	pubd := out.Published
	if pubd == nil || !pubd.Signed || pubd.Pushed != host+"/acme/models/churn@"+pubd.Digest {
		t.Fatalf("published: %+v", pubd)
	}
	m, err := models.Open(filepath.Join(state, "oci"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := m.Verify(ctx, pubd.Pushed, pub, "")
	if err != nil {
		t.Fatalf("verify the pushed model: %v", err)
	}
	if v.Identity != host+"/acme/models/churn" || v.Digest.String() != pubd.Digest {
		t.Errorf("verified %s for %s", v.Digest, v.Identity)
	}
	// The local copy holds the same signature.
	if _, err := m.Verify(ctx, "churn", pub, ""); err != nil {
		t.Errorf("verify the local model: %v", err)
	}
	remoteDir, localDir := t.TempDir(), t.TempDir()
	if _, err := m.Pull(ctx, pubd.Pushed, remoteDir, pub, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Pull(ctx, "churn", localDir, nil, ""); err != nil {
		t.Fatal(err)
	}
	a, b := predict(t, remoteDir), predict(t, localDir)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d: pulled model predicts %v, local %v", i, a[i], b[i])
		}
	}

	// Refusals: another key, another identity, a tag, an unsigned model.
	_, other := keys(t, t.TempDir())
	if _, err := m.Verify(ctx, pubd.Pushed, other, ""); !errors.Is(err, signing.ErrBadSignature) {
		t.Errorf("another key: %v", err)
	}
	if _, err := m.Verify(ctx, pubd.Pushed, pub, "example.com/other"); !errors.Is(err, signing.ErrIdentityMismatch) {
		t.Errorf("another identity: %v", err)
	}
	if _, err := m.Verify(ctx, host+"/acme/models/churn:latest", pub, ""); err == nil || !strings.Contains(err.Error(), "not a tag") {
		t.Errorf("a tag: %v", err)
	}
	// A copy pushed to another repository carries the signature, which
	// names the first repository: refused for the new one.
	copied, err := m.Push(ctx, "churn", host+"/acme/elsewhere:v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(ctx, copied, pub, ""); !errors.Is(err, signing.ErrIdentityMismatch) {
		t.Errorf("a signature for another repository: %v", err)
	}
	if _, err := m.Verify(ctx, copied, pub, host+"/acme/models/churn"); err != nil {
		t.Errorf("the copy, for the repository it was signed for: %v", err)
	}
	info, err := m.Inspect(ctx, pubd.Pushed, pub, "")
	if err != nil || info.Signature != "verified" || info.Lineage == nil || info.Lineage.Metrics["test"]["roc_auc"] < 0.85 {
		t.Errorf("inspect: %+v %v", info, err)
	}
}
