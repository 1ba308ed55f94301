// Package signing signs and verifies OCI artifacts in cosign's key-based
// format: an ECDSA P-256 signature over a simple-signing payload, stored as
// a layer of the image tagged sha256-<hex>.sig in the artifact's repository.
//
// Keys are cosign's too: cosign.key is an ENCRYPTED SIGSTORE PRIVATE KEY PEM
// block and cosign.pub a PKIX PUBLIC KEY block, so keys and signatures made
// here verify with `cosign verify --key cosign.pub --insecure-ignore-tlog`
// and the other way round.
//
// Verification is by pinned public key only. No transparency log (Rekor),
// certificate authority (Fulcio) or timestamp authority is consulted.
package signing

import (
	"errors"
	"fmt"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Media types and annotation keys of cosign's signature image.
const (
	// SimpleSigningMediaType is the media type of a signature layer; its blob
	// is the simple-signing payload.
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// SignatureAnnotation is the layer annotation holding the standard base64
	// encoding of the ASN.1 DER ECDSA signature over the payload.
	SignatureAnnotation = "dev.cosignproject.cosign/signature"
	// SignatureTagSuffix is the suffix of the tag that holds the signatures
	// of a manifest: sha256-<hex>.sig.
	SignatureTagSuffix = "sig"
)

// Limits on what Verify reads from a signature image.
const (
	// MaxPayloadSize is the largest signature payload read, in bytes.
	MaxPayloadSize = 1 << 20
	// MaxSignatureLayers is the most layers a signature image may have.
	MaxSignatureLayers = 1000
)

// Errors returned by Verify and VerifyRemote, one per way a signature can
// fail; test for them with errors.Is.
var (
	// ErrNoSignature: the signature image is missing or holds no signature layer.
	ErrNoSignature = errors.New("no signature")
	// ErrBadSignature: the signature does not verify with the pinned key
	// (made with another key, over other bytes, not ASN.1 DER, or damaged).
	ErrBadSignature = errors.New("signature does not verify with the pinned key")
	// ErrDigestMismatch: the payload signs another manifest digest.
	ErrDigestMismatch = errors.New("signature is for another manifest digest")
	// ErrIdentityMismatch: the payload names another repository.
	ErrIdentityMismatch = errors.New("signature is for another repository")
	// ErrPayloadType: the payload's critical.type is not a cosign container
	// image signature.
	ErrPayloadType = errors.New("payload is not a cosign container image signature")
	// ErrMalformedPayload: the payload is not the simple-signing JSON document.
	ErrMalformedPayload = errors.New("malformed signature payload")
	// ErrBlobMismatch: a layer's bytes do not hash to the digest (or size)
	// that the signature manifest records for it.
	ErrBlobMismatch = errors.New("signature layer bytes do not match their digest")
)

// Errors returned when loading keys.
var (
	// ErrWrongPassword: the password does not decrypt the private key (or the
	// encrypted key was altered).
	ErrWrongPassword = errors.New("wrong password for the private key")
	// ErrKeyFormat: the PEM data is not a key of the expected kind.
	ErrKeyFormat = errors.New("unsupported key")
)

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// checkDigest accepts only sha256 digests in canonical form, the only kind
// that cosign's tag scheme and payloads use.
func checkDigest(h v1.Hash) error {
	if h.Algorithm != "sha256" || !sha256Hex.MatchString(h.Hex) {
		return fmt.Errorf("manifest digest %q: want sha256:<64 lower-case hex digits>", h.String())
	}
	return nil
}

// SignatureTag returns the tag that holds the signatures of the manifest with
// the given digest: "sha256-<hex>.sig".
func SignatureTag(digest v1.Hash) string {
	return digest.Algorithm + "-" + digest.Hex + "." + SignatureTagSuffix
}
