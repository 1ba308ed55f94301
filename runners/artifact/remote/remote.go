// Package remote pushes model artifacts to an OCI registry and pulls them
// back, keeping the manifest's bytes exactly as packed: blobs are
// uploaded one by one (remote.WriteLayer with static layers) and the
// manifest is put as raw bytes with its media type (remote.Put), so the
// digest the registry stores is the artifact's digest, which Push checks.
//
// Credentials come from the Docker config file ($DOCKER_CONFIG/config.json
// or ~/.docker/config.json, with its credential helpers) and the other
// places authn.DefaultKeychain reads, unless WithKeychain says otherwise.
// Plain HTTP is refused unless Insecure is given, and Insecure is allowed
// for loopback registries only.
package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway-ml/slipway/runners/artifact"
)

// Option configures Push and Pull.
type Option func(*options)

type options struct {
	insecure  bool
	transport http.RoundTripper
	keychain  authn.Keychain
}

// Insecure allows plain HTTP to a registry on a loopback address
// (localhost, 127.0.0.0/8, ::1), such as one started by `slipway
// registry`. Default: HTTPS only. A reference to another host is refused.
func Insecure() Option { return func(o *options) { o.insecure = true } }

// WithTransport sets the HTTP transport (for a custom TLS configuration
// or a proxy). Default: go-containerregistry's remote.DefaultTransport.
func WithTransport(t http.RoundTripper) Option { return func(o *options) { o.transport = t } }

// WithKeychain sets where credentials come from. Default:
// authn.DefaultKeychain (the Docker config file and its helpers).
func WithKeychain(k authn.Keychain) Option { return func(o *options) { o.keychain = k } }

func makeOptions(opts []Option) *options {
	o := &options{transport: ggcr.DefaultTransport, keychain: authn.DefaultKeychain}
	for _, opt := range opts {
		opt(o)
	}
	if o.transport == nil {
		o.transport = ggcr.DefaultTransport
	}
	if o.keychain == nil {
		o.keychain = authn.DefaultKeychain
	}
	return o
}

// parse parses a reference, allowing plain HTTP for loopback registries
// when Insecure was given.
func (o *options) parse(ref string) (name.Reference, error) {
	var nopts []name.Option
	if o.insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return nil, fmt.Errorf("reference %q: %w", ref, err)
	}
	if o.insecure && !IsLoopback(r.Context().RegistryStr()) {
		return nil, fmt.Errorf("reference %q: plain HTTP (insecure) is allowed for loopback registries only, not %s", ref, r.Context().RegistryStr())
	}
	return r, nil
}

// remoteOptions are the go-containerregistry options for a call.
func (o *options) remoteOptions(ctx context.Context) []ggcr.Option {
	return []ggcr.Option{
		ggcr.WithContext(ctx),
		ggcr.WithAuthFromKeychain(o.keychain),
		ggcr.WithTransport(&guard{next: o.transport, insecure: o.insecure}),
	}
}

// IsLoopback reports whether a reference's registry (or a bare
// host[:port]) is a loopback address: plain HTTP is allowed there only.
func IsLoopback(ref string) bool {
	registry, _, _ := strings.Cut(ref, "/")
	host := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard refuses plain-HTTP requests, but to a loopback host when insecure
// was asked for (this also covers redirects).
type guard struct {
	next     http.RoundTripper
	insecure bool
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" && !(g.insecure && req.URL.Scheme == "http" && IsLoopback(req.URL.Host)) {
		return nil, fmt.Errorf("refusing %s %s over plain %s: use HTTPS, or Insecure for a loopback registry", req.Method, req.URL.Redacted(), req.URL.Scheme)
	}
	return g.next.RoundTrip(req)
}

// rawManifest puts the manifest's exact bytes with its media type.
type rawManifest struct{ b []byte }

func (r rawManifest) RawManifest() ([]byte, error)        { return r.b, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return artifact.MediaTypeManifest, nil }

// Push uploads the artifact to ref (registry/repository:tag, or
// registry/repository@sha256:<hex> equal to the artifact's digest) and
// returns its digest. It verifies the artifact first, uploads the config
// and layers, puts the manifest bytes unchanged, and checks that the
// registry reports the artifact's digest for ref.
func Push(ctx context.Context, a *artifact.Artifact, ref string, opts ...Option) (string, error) {
	o := makeOptions(opts)
	if err := a.Verify(); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	r, err := o.parse(ref)
	if err != nil {
		return "", fmt.Errorf("push: %w", err)
	}
	digest := a.Digest()
	if d, ok := r.(name.Digest); ok && d.DigestStr() != digest {
		return "", fmt.Errorf("push %s: the reference names digest %s, but the artifact is %s", ref, d.DigestStr(), digest)
	}
	m, _ := a.ManifestOf()
	ropts := o.remoteOptions(ctx)
	repo := r.Context()
	if err := ggcr.WriteLayer(repo, static.NewLayer(a.Config, artifact.MediaTypeConfig), ropts...); err != nil {
		return "", fmt.Errorf("push %s: config: %w", ref, err)
	}
	done := map[v1.Hash]bool{}
	for _, l := range m.Layers {
		if done[l.Digest] {
			continue
		}
		done[l.Digest] = true
		if err := ggcr.WriteLayer(repo, static.NewLayer(a.Blobs[l.Digest.String()], l.MediaType), ropts...); err != nil {
			return "", fmt.Errorf("push %s: layer %q: %w", ref, l.Annotations[artifact.AnnotationFilepath], err)
		}
	}
	if err := ggcr.Put(r, rawManifest{a.Manifest}, ropts...); err != nil {
		return "", fmt.Errorf("push %s: manifest: %w", ref, err)
	}
	got, err := ggcr.Head(r, ropts...)
	if err != nil {
		return "", fmt.Errorf("push %s: check the pushed manifest: %w", ref, err)
	}
	if got.Digest.String() != digest || got.Size != int64(len(a.Manifest)) {
		return "", fmt.Errorf("push %s: the registry reports manifest %s (%d bytes), but the artifact is %s (%d bytes): the registry changed the manifest", ref, got.Digest, got.Size, digest, len(a.Manifest))
	}
	return digest, nil
}

// Pull downloads the artifact ref names. It refuses anything that is not
// a Slipway ModelPack artifact (an error matching
// artifact.ErrNotModelPack), re-hashes the manifest, the config and every
// layer (a *artifact.BlobError for one that does not match), and, for a
// reference by digest, checks the manifest has that digest.
func Pull(ctx context.Context, ref string, opts ...Option) (*artifact.Artifact, error) {
	o := makeOptions(opts)
	r, err := o.parse(ref)
	if err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	ropts := o.remoteOptions(ctx)
	desc, err := ggcr.Get(r, ropts...)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	if desc.MediaType != artifact.MediaTypeManifest {
		return nil, fmt.Errorf("pull %s: %w: manifest mediaType is %q, want %q", ref, artifact.ErrNotModelPack, desc.MediaType, artifact.MediaTypeManifest)
	}
	if d, ok := r.(name.Digest); ok {
		if got := artifact.Digest(desc.Manifest); got != d.DigestStr() {
			return nil, fmt.Errorf("pull %s: %w", ref, &artifact.BlobError{Blob: "manifest", Digest: d.DigestStr(), Err: artifact.ErrBlobDigest, Detail: "its content hashes to " + got})
		}
	}
	repo := r.Context()
	a, err := artifact.Load(desc.Manifest, func(d v1.Descriptor) ([]byte, error) {
		l, err := ggcr.Layer(repo.Digest(d.Digest.String()), ropts...)
		if err != nil {
			return nil, notFound(err)
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, notFound(err)
		}
		defer rc.Close()
		b, err := artifact.ReadBlob(rc, d)
		if err != nil && artifact.CheckBlob(b, d, "") == nil {
			return nil, notFound(err)
		}
		// A read error with bytes that do not match the descriptor
		// (the registry's own check failed) is left to Load, which
		// names the blob.
		return b, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	return a, nil
}

// notFound turns a registry's 404 for a blob into artifact.ErrBlobMissing.
func notFound(err error) error {
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		return artifact.ErrBlobMissing
	}
	return err
}
