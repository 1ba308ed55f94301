package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// Verified describes a successful verification.
type Verified struct {
	// Digest is the manifest digest that the signatures cover.
	Digest v1.Hash
	// Identity is the repository ("registry/repo") the signatures name.
	Identity string
	// Payload is the payload of the first signature that verified.
	Payload payload.SimpleContainerImage
	// Signatures lists, in manifest order, the digests of the signature
	// layers that verified with the pinned key.
	Signatures []v1.Hash
	// Rejected lists the signature layers that did not verify, and why.
	Rejected []*LayerError
}

// String summarises the result; it says that no transparency log was used.
func (v *Verified) String() string {
	return fmt.Sprintf("%s@%s: %d of %d signatures verified with the pinned key (no transparency log consulted)",
		v.Identity, v.Digest, len(v.Signatures), len(v.Signatures)+len(v.Rejected))
}

// LayerError says why one signature layer did not verify. Err wraps one of
// the package's sentinel errors.
type LayerError struct {
	// Index is the layer's position in the signature manifest.
	Index int
	// Digest is the layer's digest as the manifest records it.
	Digest v1.Hash
	// Err is the reason.
	Err error
}

// Error implements error.
func (e *LayerError) Error() string {
	return fmt.Sprintf("signature layer %d (%s): %v", e.Index, e.Digest, e.Err)
}

// Unwrap returns the reason.
func (e *LayerError) Unwrap() error { return e.Err }

// Verify checks the signature image sigImg for the manifest digest in the
// repository identity ("registry/repo") against the pinned ECDSA P-256
// public key pub. For each simple-signing layer it re-hashes the blob
// against the manifest (ErrBlobMismatch), verifies the ASN.1 DER signature
// over the blob's SHA-256 (ErrBadSignature; IEEE-P1363 r||s signatures are
// refused), then parses the payload strictly (ErrPayloadType,
// ErrMalformedPayload) and compares its digest (ErrDigestMismatch) and
// identity (ErrIdentityMismatch). It succeeds when at least one layer
// verifies; otherwise the error wraps every layer's reason, or
// ErrNoSignature when there is no signature layer.
func Verify(sigImg v1.Image, digest v1.Hash, identity string, pub crypto.PublicKey) (*Verified, error) {
	return verify(sigImg, digest, identity, pub, digest.String())
}

// verify implements Verify; label names the signed artifact in errors.
func verify(sigImg v1.Image, digest v1.Hash, identity string, pub crypto.PublicKey, label string) (*Verified, error) {
	key, err := p256PublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", label, err)
	}
	if err := checkDigest(digest); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if identity == "" {
		return nil, fmt.Errorf("verify %s: identity is empty; want the repository, registry/repo", label)
	}
	if sigImg == nil {
		return nil, fmt.Errorf("verify %s: %w: no signature image", label, ErrNoSignature)
	}
	m, err := sigImg.Manifest()
	if err != nil {
		return nil, fmt.Errorf("verify %s: read the signature manifest: %w", label, err)
	}
	if len(m.Layers) > MaxSignatureLayers {
		return nil, fmt.Errorf("verify %s: the signature manifest has %d layers, more than the %d allowed", label, len(m.Layers), MaxSignatureLayers)
	}
	v := &Verified{Digest: digest, Identity: identity}
	var errs []error
	for i, desc := range m.Layers {
		if string(desc.MediaType) != SimpleSigningMediaType {
			continue
		}
		p, err := verifyLayer(sigImg, desc, digest, identity, key)
		if err != nil {
			le := &LayerError{Index: i, Digest: desc.Digest, Err: err}
			v.Rejected = append(v.Rejected, le)
			errs = append(errs, le)
			continue
		}
		if len(v.Signatures) == 0 {
			v.Payload = p
		}
		v.Signatures = append(v.Signatures, desc.Digest)
	}
	switch {
	case len(v.Signatures) > 0:
		return v, nil
	case len(errs) == 0:
		return nil, fmt.Errorf("verify %s: %w: the signature manifest has no %s layer", label, ErrNoSignature, SimpleSigningMediaType)
	default:
		return nil, fmt.Errorf("verify %s: none of the %d signatures verifies: %w", label, len(errs), errors.Join(errs...))
	}
}

// verifyLayer checks one signature layer, blob first, then signature, then
// the claims of the (now authenticated) payload.
func verifyLayer(sigImg v1.Image, desc v1.Descriptor, digest v1.Hash, identity string, key *ecdsa.PublicKey) (payload.SimpleContainerImage, error) {
	var p payload.SimpleContainerImage
	b, err := readBlob(sigImg, desc)
	if err != nil {
		return p, err
	}
	enc, ok := desc.Annotations[SignatureAnnotation]
	if !ok {
		return p, fmt.Errorf("%w: the layer has no %s annotation", ErrBadSignature, SignatureAnnotation)
	}
	sig, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return p, fmt.Errorf("%w: the %s annotation is not standard base64: %w", ErrBadSignature, SignatureAnnotation, err)
	}
	sum := sha256.Sum256(b)
	if err := verifyASN1(key, sum[:], sig); err != nil {
		return p, err
	}
	p, err = ParsePayload(b)
	if err != nil {
		return p, err
	}
	if got := p.Critical.Image.DockerManifestDigest; got != digest.String() {
		return p, fmt.Errorf("%w: the payload signs %s, want %s", ErrDigestMismatch, got, digest)
	}
	if got := p.Critical.Identity.DockerReference; got != identity {
		return p, fmt.Errorf("%w: the payload names %q, want %q", ErrIdentityMismatch, got, identity)
	}
	return p, nil
}

// readBlob reads a layer's blob and checks it against the size and sha256
// digest the manifest records.
func readBlob(sigImg v1.Image, desc v1.Descriptor) ([]byte, error) {
	if desc.Size < 0 || desc.Size > MaxPayloadSize {
		return nil, fmt.Errorf("%w: the manifest records a %d-byte payload; the limit is %d bytes", ErrMalformedPayload, desc.Size, MaxPayloadSize)
	}
	if desc.Digest.Algorithm != "sha256" {
		return nil, fmt.Errorf("%w: the layer digest uses %q, want sha256", ErrBlobMismatch, desc.Digest.Algorithm)
	}
	layer, err := sigImg.LayerByDigest(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("find the layer: %w", err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		if isIntegrityError(err) {
			return nil, fmt.Errorf("%w: %w", ErrBlobMismatch, err)
		}
		return nil, fmt.Errorf("open the layer: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(rc, MaxPayloadSize+1))
	rc.Close()
	if err != nil {
		if isIntegrityError(err) {
			return nil, fmt.Errorf("%w: %w", ErrBlobMismatch, err)
		}
		return nil, fmt.Errorf("read the layer: %w", err)
	}
	if int64(len(b)) != desc.Size {
		return nil, fmt.Errorf("%w: the layer holds %d bytes, the manifest records %d", ErrBlobMismatch, len(b), desc.Size)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != desc.Digest.Hex {
		return nil, fmt.Errorf("%w: the layer hashes to sha256:%s, the manifest records %s", ErrBlobMismatch, got, desc.Digest)
	}
	return b, nil
}

// isIntegrityError reports whether err is go-containerregistry's report
// that a blob fetched from a registry does not match its descriptor: its
// remote layers check the Content-Length before reading and the size and
// digest while reading, and these errors have no exported type.
func isIntegrityError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "error verifying") || strings.Contains(msg, "does not match expected size")
}

// ecdsaSig is the ASN.1 structure of an ECDSA signature.
type ecdsaSig struct {
	R, S *big.Int
}

// verifyASN1 verifies an ASN.1 DER ECDSA signature over hash. It refuses
// IEEE-P1363 r||s signatures, which sigstore's verifier would accept.
func verifyASN1(pub *ecdsa.PublicKey, hash, sig []byte) error {
	var parsed ecdsaSig
	rest, err := asn1.Unmarshal(sig, &parsed)
	if err != nil || len(rest) != 0 {
		if len(sig) == 64 {
			return fmt.Errorf("%w: the signature is 64 bytes of IEEE-P1363 r||s, not ASN.1 DER as cosign writes", ErrBadSignature)
		}
		return fmt.Errorf("%w: the signature (%d bytes) is not ASN.1 DER", ErrBadSignature, len(sig))
	}
	if !ecdsa.VerifyASN1(pub, hash, sig) {
		return fmt.Errorf("%w: ECDSA verification failed (another key, or the payload was changed)", ErrBadSignature)
	}
	return nil
}
