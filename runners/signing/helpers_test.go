package signing

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore/pkg/signature"
)

// newKey returns a fresh P-256 key and a signer for it.
func newKey(t testing.TB) (*ecdsa.PrivateKey, signature.SignerVerifier) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	return priv, s
}

// blobTamper rewrites the bodies of blob GETs whose digest it has been told
// about; everything else passes through to the registry.
type blobTamper struct {
	next http.Handler
	mu   sync.Mutex
	fns  map[string]func([]byte) []byte
}

func (b *blobTamper) set(h v1.Hash, fn func([]byte) []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fns[h.String()] = fn
}

func (b *blobTamper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	var fn func([]byte) []byte
	if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
		fn = b.fns[r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]]
	}
	b.mu.Unlock()
	if fn == nil {
		b.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	b.next.ServeHTTP(rec, r)
	body := fn(rec.Body.Bytes())
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// newRegistry starts go-containerregistry's in-process registry and
// returns its host:port and the blob tamperer in front of it.
func newRegistry(t testing.TB) (string, *blobTamper) {
	t.Helper()
	bt := &blobTamper{next: registry.New(registry.Logger(log.New(io.Discard, "", 0))), fns: map[string]func([]byte) []byte{}}
	srv := httptest.NewServer(bt)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), bt
}

// pushRandom pushes a small random image to host/repo:latest and returns
// its digest reference.
func pushRandom(t testing.TB, host, repo string) name.Digest {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(host + "/" + repo + ":latest")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewDigest(host + "/" + repo + "@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// rawLayer builds a signature layer from payload bytes and a raw
// signature, without any of Sign's checks.
func rawLayer(payload, sig []byte) mutate.Addendum {
	return mutate.Addendum{
		Layer:       static.NewLayer(payload, types.MediaType(SimpleSigningMediaType)),
		MediaType:   types.MediaType(SimpleSigningMediaType),
		Annotations: map[string]string{SignatureAnnotation: base64.StdEncoding.EncodeToString(sig)},
	}
}

// signASN1 signs sha256(payload) with priv in ASN.1 DER.
func signASN1(t testing.TB, priv *ecdsa.PrivateKey, payload []byte) []byte {
	t.Helper()
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// imageOf appends the layers to an empty signature image.
func imageOf(t testing.TB, layers ...mutate.Addendum) v1.Image {
	t.Helper()
	img, err := mutate.Append(EmptySignatures(), layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// swappedImage serves other bytes for one layer while its manifest keeps
// the original digest and size.
type swappedImage struct {
	v1.Image
	digest v1.Hash
	data   []byte
}

func (s swappedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := s.Image.LayerByDigest(h)
	if err != nil || h != s.digest {
		return l, err
	}
	return swappedLayer{Layer: l, data: s.data}, nil
}

type swappedLayer struct {
	v1.Layer
	data []byte
}

func (s swappedLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(s.data)), nil
}

// firstLayer returns the digest and blob of the image's first layer.
func firstLayer(t testing.TB, img v1.Image) (v1.Hash, []byte) {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) == 0 {
		t.Fatal("signature image has no layers")
	}
	l, err := img.LayerByDigest(m.Layers[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return m.Layers[0].Digest, b
}
