package registry_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/runners/artifact"
	"github.com/slipway-ml/slipway/runners/artifact/registry"
	"github.com/slipway-ml/slipway/runners/artifact/remote"
)

func model(t *testing.T) *artifact.Artifact {
	t.Helper()
	files, err := artifact.ReadFiles(artifact.Dirs{Model: "../testdata/model", Features: "../testdata/features"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Pack(artifact.Input{Name: "churn", SlipwayVersion: "0.1.0", Files: files})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestBlobsSurviveOnDisk(t *testing.T) {
	root := filepath.Join(t.TempDir(), "registry")
	h, err := registry.NewRegistry(root)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	host := strings.TrimPrefix(srv.URL, "http://")
	a := model(t)
	d, err := remote.Push(context.Background(), a, host+"/models/churn:1", remote.Insecure())
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()

	m, _ := a.ManifestOf()
	blobs := map[string][]byte{m.Config.Digest.String(): a.Config}
	for k, v := range a.Blobs {
		blobs[k] = v
	}
	for dig, want := range blobs {
		got, err := os.ReadFile(filepath.Join(root, "sha256", strings.TrimPrefix(dig, "sha256:")))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("blob %s on disk: %v", dig, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "sha256", strings.TrimPrefix(d, "sha256:"))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the manifest is on disk (%v); pkg/registry keeps manifests in memory", err)
	}

	// A new registry on the same root serves the blobs but has lost the
	// manifest.
	h2, err := registry.NewRegistry(root)
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(h2)
	defer srv2.Close()
	for dig, want := range blobs {
		code, body := get(t, srv2.URL+"/v2/models/churn/blobs/"+dig)
		if code != http.StatusOK || !bytes.Equal(body, want) {
			t.Errorf("blob %s after restart: %d", dig, code)
		}
	}
	if code, _ := get(t, srv2.URL+"/v2/models/churn/manifests/1"); code != http.StatusNotFound {
		t.Errorf("manifest after restart: %d, want 404", code)
	}
	// Pushing again restores the manifest.
	host2 := strings.TrimPrefix(srv2.URL, "http://")
	if _, err := remote.Push(context.Background(), a, host2+"/models/churn:1", remote.Insecure()); err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Pull(context.Background(), host2+"/models/churn@"+d, remote.Insecure()); err != nil {
		t.Fatal(err)
	}
}

func TestManifestSizeLimit(t *testing.T) {
	h, err := registry.NewRegistry(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	big := bytes.Repeat([]byte(" "), artifact.MaxManifestSize+1)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v2/models/churn/manifests/big", bytes.NewReader(big))
	req.Header.Set("Content-Type", artifact.MediaTypeManifest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("PUT of a %d-byte manifest: %d, want 413", len(big), resp.StatusCode)
	}
	if code, _ := get(t, srv.URL+"/v2/models/churn/manifests/big"); code != http.StatusNotFound {
		t.Errorf("the oversized manifest was stored: %d", code)
	}
}

func TestServe(t *testing.T) {
	root := t.TempDir()
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.0.2.1:5000", "example.com:5000", "nonsense"} {
		err := registry.Serve(context.Background(), addr, root)
		if err == nil || (!strings.Contains(err.Error(), "not a loopback address") && !strings.Contains(err.Error(), "registry address")) {
			t.Errorf("Serve(%q) = %v, want a refusal", addr, err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- registry.Serve(ctx, "127.0.0.1:0", root, registry.OnListen(func(a net.Addr) { addrs <- a }))
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not listen")
	}
	a := model(t)
	ref := addr.String() + "/models/churn:1"
	if _, err := remote.Push(ctx, a, ref, remote.Insecure()); err != nil {
		t.Fatal(err)
	}
	got, err := remote.Pull(ctx, ref, remote.Insecure())
	if err != nil || got.Digest() != a.Digest() {
		t.Fatalf("Pull = %v, %v", got, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop")
	}
}
