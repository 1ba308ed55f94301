// Package models is the library under `slipway model`: it lists, inspects,
// pushes, pulls, signs and verifies trained models, whether they are in
// the local store (an OCI layout, .slipway/oci) or in a registry.
//
// A reference names a model in one of two places:
//
//   - the local store: "churn" (the newest model of pipeline churn),
//     "churn@sha256:<hex>", or "sha256:<hex>";
//   - a registry: "registry/repo@sha256:<hex>" (or ":tag" where a digest is
//     not required), anything with a "/" before its "@" or ":".
//
// Verification is by digest only, against a pinned public key: the
// signature's payload must name exactly that digest, the expected
// repository and cosign's signature type, and every blob is re-hashed as it
// is read, from a registry or from the local layout.
package models

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/slipway-ml/slipway/runners/artifact"
	"github.com/slipway-ml/slipway/runners/artifact/remote"
	"github.com/slipway-ml/slipway/runners/artifact/store"
	"github.com/slipway-ml/slipway/runners/signing"
)

// Models works on one local store and any registry.
type Models struct {
	// Store is the local store.
	Store *store.Store
}

// Open opens the local store in dir (.slipway/oci).
func Open(dir string) (*Models, error) {
	st, err := store.Open(dir)
	if err != nil {
		return nil, err
	}
	return &Models{Store: st}, nil
}

// IsRemote reports whether ref names a model in a registry.
func IsRemote(ref string) bool {
	repo, _, _ := strings.Cut(ref, "@")
	return strings.Contains(repo, "/")
}

// remoteOptions are the artifact options for a registry reference: plain
// HTTP to a loopback registry.
func remoteOptions(ref string) []remote.Option {
	if remote.IsLoopback(ref) {
		return []remote.Option{remote.Insecure()}
	}
	return nil
}

func nameOptions(ref string) []name.Option {
	if remote.IsLoopback(ref) {
		return []name.Option{name.Insecure}
	}
	return nil
}

// Get reads a model, every blob re-hashed.
func (m *Models) Get(ctx context.Context, ref string) (*artifact.Artifact, error) {
	if IsRemote(ref) {
		return remote.Pull(ctx, ref, remoteOptions(ref)...)
	}
	return m.Store.Get(ref)
}

// Info is what inspect shows.
type Info struct {
	// Ref is the reference asked for; Digest the model's digest.
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
	// Name is the pipeline's name.
	Name string `json:"name"`
	// Lineage is the model's lineage (spec, Git commit, data, parameters,
	// metrics, gates).
	Lineage *artifact.Lineage `json:"lineage"`
	// Files lists the artifact's files with their media types.
	Files []FileInfo `json:"files"`
	// Annotations are the manifest's annotations.
	Annotations map[string]string `json:"annotations"`
	// Signature is the signature status: "verified", "signed (not
	// verified: give --key)", "unsigned", or why it failed.
	Signature string `json:"signature"`
	// SignedFor is the repository a verified signature names.
	SignedFor string `json:"signedFor,omitempty"`
}

// FileInfo is one file of an artifact.
type FileInfo struct {
	Path      string `json:"path"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
}

// Inspect describes a model and its signature status; with pub, the
// signature is verified.
func (m *Models) Inspect(ctx context.Context, ref string, pub crypto.PublicKey, identity string) (*Info, error) {
	art, err := m.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	info := &Info{Ref: ref, Digest: art.Digest()}
	mf, err := art.ManifestOf()
	if err != nil {
		return nil, err
	}
	info.Annotations = mf.Annotations
	info.Name = mf.Annotations["org.opencontainers.image.title"]
	for _, l := range mf.Layers {
		info.Files = append(info.Files, FileInfo{Path: l.Annotations["org.cncf.model.filepath"], MediaType: string(l.MediaType), Size: l.Size})
	}
	if info.Lineage, err = art.Lineage(); err != nil {
		return nil, err
	}
	sigImg, err := m.signatures(ctx, ref, info.Digest)
	switch {
	case errors.Is(err, signing.ErrNoSignature):
		info.Signature = "unsigned"
	case err != nil:
		return nil, err
	case pub == nil:
		info.Signature = "signed (not verified: give --key)"
	default:
		v, err := verifyAny(sigImg, info.Digest, identityFor(ref, identity), pub)
		if err != nil {
			info.Signature = "INVALID: " + err.Error()
		} else {
			info.Signature, info.SignedFor = "verified", v.Identity
		}
	}
	return info, nil
}

// signatures reads the signature image of a digest, from the registry of
// a remote reference or from the local store.
func (m *Models) signatures(ctx context.Context, ref, digest string) (v1.Image, error) {
	h, err := v1.NewHash(digest)
	if err != nil {
		return nil, err
	}
	if IsRemote(ref) {
		d, err := name.NewDigest(repoOf(ref)+"@"+digest, nameOptions(ref)...)
		if err != nil {
			return nil, err
		}
		tag, err := signing.SignatureRef(d)
		if err != nil {
			return nil, err
		}
		img, err := ggcr.Image(tag, ggcr.WithContext(ctx), ggcr.WithAuthFromKeychain(authn.DefaultKeychain))
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			return nil, signing.ErrNoSignature
		}
		return img, err
	}
	img, err := m.Store.Image(signing.SignatureTag(h))
	if errors.Is(err, store.ErrNoTag) {
		return nil, signing.ErrNoSignature
	}
	return img, err
}

// Verify checks a model's signature against a pinned public key: by
// digest only (a remote reference must name a digest; a local name is
// resolved to the digest the store holds), every blob re-hashed.
// identity is the repository the signature must name: for a remote
// reference, the reference's repository unless given; for the local store,
// when empty, any repository a signature names (the result says which).
func (m *Models) Verify(ctx context.Context, ref string, pub crypto.PublicKey, identity string) (*signing.Verified, error) {
	if IsRemote(ref) && !strings.Contains(ref, "@sha256:") {
		return nil, fmt.Errorf("verify %s: give a digest (REPO@sha256:...), not a tag: a tag can move", ref)
	}
	art, err := m.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := art.Verify(); err != nil {
		return nil, err
	}
	sigImg, err := m.signatures(ctx, ref, art.Digest())
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", ref, err)
	}
	return verifyAny(sigImg, art.Digest(), identityFor(ref, identity), pub)
}

// identityFor is the repository a signature must name.
func identityFor(ref, identity string) string {
	if identity != "" || !IsRemote(ref) {
		return identity
	}
	return repoOf(ref)
}

// repoOf strips the digest or tag from a registry reference.
func repoOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// verifyAny verifies against identity, or, when identity is empty, against
// each repository the signature payloads name.
func verifyAny(sigImg v1.Image, digest, identity string, pub crypto.PublicKey) (*signing.Verified, error) {
	h, err := v1.NewHash(digest)
	if err != nil {
		return nil, err
	}
	if identity != "" {
		return signing.Verify(sigImg, h, identity, pub)
	}
	layers, err := sigImg.Layers()
	if err != nil {
		return nil, err
	}
	var firstErr error
	seen := map[string]bool{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			continue
		}
		b := make([]byte, 0, 512)
		buf := make([]byte, 4096)
		for {
			n, err := rc.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil || len(b) > 1<<20 {
				break
			}
		}
		_ = rc.Close()
		p, err := signing.ParsePayload(b)
		if err != nil || seen[p.Critical.Identity.DockerReference] {
			continue
		}
		seen[p.Critical.Identity.DockerReference] = true
		v, err := signing.Verify(sigImg, h, p.Critical.Identity.DockerReference, pub)
		if err == nil {
			return v, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = signing.ErrNoSignature
	}
	return nil, firstErr
}

// Sign signs a model with a cosign key: in the registry of a remote
// reference (which must name a digest), or in the local store for the
// repository identity.
func (m *Models) Sign(ctx context.Context, ref string, signer signature.Signer, identity string) (string, error) {
	if IsRemote(ref) {
		d, err := signing.ParseDigestReference(ref, nameOptions(ref)...)
		if err != nil {
			return "", err
		}
		if identity == "" {
			identity = d.Context().Name()
		}
		return d.DigestStr(), signing.SignRemoteAs(ctx, d, identity, signer, ggcr.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	if identity == "" {
		return "", errors.New("sign: a model in the local store is signed for a repository: give --identity REGISTRY/REPO")
	}
	art, err := m.Store.Get(ref)
	if err != nil {
		return "", err
	}
	h, err := v1.NewHash(art.Digest())
	if err != nil {
		return "", err
	}
	tag := signing.SignatureTag(h)
	img, err := m.Store.Image(tag)
	if err != nil {
		img = signing.EmptySignatures()
	}
	if img, err = signing.Append(img, signer, identity, h); err != nil {
		return "", err
	}
	return art.Digest(), m.Store.Tag(tag, img)
}

// Push copies a model from the local store (and its signature, when it
// has one) to a registry repository; it returns the pushed digest
// reference.
func (m *Models) Push(ctx context.Context, ref, dst string) (string, error) {
	art, err := m.Store.Get(ref)
	if err != nil {
		return "", err
	}
	if _, err := remote.Push(ctx, art, dst, remoteOptions(dst)...); err != nil {
		return "", err
	}
	h, err := v1.NewHash(art.Digest())
	if err != nil {
		return "", err
	}
	tag := signing.SignatureTag(h)
	if sig, err := m.Store.Image(tag); err == nil {
		t, err := name.NewTag(repoOf(dst)+":"+tag, nameOptions(dst)...)
		if err != nil {
			return "", err
		}
		if err := ggcr.Write(t, sig, ggcr.WithContext(ctx), ggcr.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
			return "", fmt.Errorf("push signature: %w", err)
		}
	}
	return repoOf(dst) + "@" + art.Digest(), nil
}

// Pull reads a model, verifies every blob, and writes its files to dir.
// With pub, the signature must verify first.
func (m *Models) Pull(ctx context.Context, ref, dir string, pub crypto.PublicKey, identity string) (*artifact.Artifact, error) {
	if pub != nil {
		if _, err := m.Verify(ctx, ref, pub, identity); err != nil {
			return nil, err
		}
	}
	art, err := m.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := artifact.Unpack(art, dir); err != nil {
		return nil, err
	}
	return art, nil
}
