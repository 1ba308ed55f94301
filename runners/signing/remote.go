package signing

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/sigstore/sigstore/pkg/signature"
)

// ParseDigestReference parses s as a digest reference
// (registry/repo@sha256:<hex>). Tags are refused: a tag can move between
// signing and verifying, so both happen by digest only.
func ParseDigestReference(s string, opts ...name.Option) (name.Digest, error) {
	ref, err := name.ParseReference(s, opts...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("parse reference %q: %w", s, err)
	}
	d, ok := ref.(name.Digest)
	if !ok {
		return name.Digest{}, fmt.Errorf("reference %q is a tag; sign and verify by digest (registry/repo@sha256:<hex>)", s)
	}
	h, err := v1.NewHash(d.DigestStr())
	if err == nil {
		err = checkDigest(h)
	}
	if err != nil {
		return name.Digest{}, fmt.Errorf("reference %q: %w", s, err)
	}
	return d, nil
}

// digestOf returns the manifest digest of ref, refusing a reference without one.
func digestOf(ref name.Digest) (v1.Hash, error) {
	if ref.DigestStr() == "" {
		return v1.Hash{}, fmt.Errorf("reference %q has no digest; sign and verify by digest (registry/repo@sha256:<hex>)", ref.String())
	}
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reference %q: %w", ref.String(), err)
	}
	if err := checkDigest(h); err != nil {
		return v1.Hash{}, fmt.Errorf("reference %q: %w", ref.String(), err)
	}
	return h, nil
}

// SignatureRef returns the tag that holds the signatures of ref:
// registry/repo:sha256-<hex>.sig.
func SignatureRef(ref name.Digest) (name.Tag, error) {
	h, err := digestOf(ref)
	if err != nil {
		return name.Tag{}, err
	}
	return ref.Context().Tag(SignatureTag(h)), nil
}

// SignRemote signs the manifest ref in its registry with identity
// ref.Context().Name(); see SignRemoteAs.
func SignRemote(ctx context.Context, ref name.Digest, signer signature.Signer, opts ...remote.Option) error {
	return SignRemoteAs(ctx, ref, ref.Context().Name(), signer, opts...)
}

// SignRemoteAs signs the manifest ref, which must exist in the registry, for
// the repository identity: it reads the signature image at
// sha256-<hex>.sig in ref's repository (if any), appends a signature layer
// and writes it back. Two signers writing at once may lose one signature,
// as with cosign.
func SignRemoteAs(ctx context.Context, ref name.Digest, identity string, signer signature.Signer, opts ...remote.Option) error {
	digest, err := digestOf(ref)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	ropts := append([]remote.Option{remote.WithContext(ctx)}, opts...)
	desc, err := remote.Head(ref, ropts...)
	if err != nil {
		return fmt.Errorf("sign %s: look up the manifest: %w", ref, err)
	}
	if desc.Digest != digest {
		return fmt.Errorf("sign %s: the registry serves manifest %s for it", ref, desc.Digest)
	}
	tag := ref.Context().Tag(SignatureTag(digest))
	base, err := remote.Image(tag, ropts...)
	switch {
	case isNotFound(err):
		base = EmptySignatures()
	case err != nil:
		return fmt.Errorf("sign %s: read the existing signatures at %s: %w", ref, tag, err)
	}
	img, err := Append(base, signer, identity, digest)
	if err != nil {
		return err
	}
	if err := remote.Write(tag, img, ropts...); err != nil {
		return fmt.Errorf("sign %s: write the signatures to %s: %w", ref, tag, err)
	}
	return nil
}

// VerifyRemote verifies the signatures of the manifest ref stored in its
// registry against pub, with identity ref.Context().Name(); see
// VerifyRemoteAs.
func VerifyRemote(ctx context.Context, ref name.Digest, pub crypto.PublicKey, opts ...remote.Option) (*Verified, error) {
	return VerifyRemoteAs(ctx, ref, ref.Context().Name(), pub, opts...)
}

// VerifyRemoteAs reads the signature image at sha256-<hex>.sig in ref's
// repository and verifies it with Verify for ref's digest and identity.
// A missing signature image gives ErrNoSignature.
func VerifyRemoteAs(ctx context.Context, ref name.Digest, identity string, pub crypto.PublicKey, opts ...remote.Option) (*Verified, error) {
	digest, err := digestOf(ref)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	ropts := append([]remote.Option{remote.WithContext(ctx)}, opts...)
	tag := ref.Context().Tag(SignatureTag(digest))
	sigImg, err := remote.Image(tag, ropts...)
	if isNotFound(err) {
		return nil, fmt.Errorf("verify %s: %w: %s does not exist", ref, ErrNoSignature, tag)
	}
	if err != nil {
		return nil, fmt.Errorf("verify %s: read the signatures at %s: %w", ref, tag, err)
	}
	return verify(sigImg, digest, identity, pub, ref.String())
}

// isNotFound reports whether err is a registry's "no such manifest".
func isNotFound(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	if terr.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range terr.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return false
}
