package signing

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore/pkg/signature"
)

// EmptySignatures returns a signature image with no signatures: the empty
// image of go-containerregistry with the OCI manifest and config media
// types, the base that cosign builds its signature images on.
func EmptySignatures() v1.Image {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	return mutate.ConfigMediaType(img, types.OCIConfigJSON)
}

// Sign returns a new signature image for the manifest digest in the
// repository identity ("registry/repo"): one simple-signing layer whose blob
// is the payload (see NewPayload) and whose SignatureAnnotation holds the
// signer's ASN.1 DER ECDSA P-256 signature over the payload's SHA-256.
// To keep the signatures already stored for the digest, use Append.
func Sign(signer signature.Signer, identity string, digest v1.Hash) (v1.Image, error) {
	return Append(EmptySignatures(), signer, identity, digest)
}

// Append returns sigImg with one more signature layer for digest in
// identity, keeping the layers it already has, as cosign keeps every
// signature of a manifest.
func Append(sigImg v1.Image, signer signature.Signer, identity string, digest v1.Hash) (v1.Image, error) {
	p, err := NewPayload(identity, digest)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", digest, err)
	}
	layer, err := signatureLayer(signer, p)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", digest, err)
	}
	img, err := appendLayer(sigImg, layer)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", digest, err)
	}
	return img, nil
}

// appendLayer adds a signature layer to sigImg.
func appendLayer(sigImg v1.Image, layer mutate.Addendum) (v1.Image, error) {
	if sigImg == nil {
		sigImg = EmptySignatures()
	}
	m, err := sigImg.Manifest()
	if err != nil {
		return nil, fmt.Errorf("read the existing signature manifest: %w", err)
	}
	if len(m.Layers) >= MaxSignatureLayers {
		return nil, fmt.Errorf("the signature image already holds %d signatures, the most allowed", len(m.Layers))
	}
	img, err := mutate.Append(sigImg, layer)
	if err != nil {
		return nil, fmt.Errorf("append the signature layer: %w", err)
	}
	return img, nil
}

// signatureLayer signs payload and returns it as a signature layer. The
// signature must be ASN.1 DER and verify with the signer's own ECDSA P-256
// public key over the payload's SHA-256, so a misconfigured signer is caught
// here rather than by whoever verifies.
func signatureLayer(signer signature.Signer, payload []byte) (mutate.Addendum, error) {
	if signer == nil {
		return mutate.Addendum{}, fmt.Errorf("no signer")
	}
	pk, err := signer.PublicKey()
	if err != nil {
		return mutate.Addendum{}, fmt.Errorf("signer's public key: %w", err)
	}
	pub, err := p256PublicKey(pk)
	if err != nil {
		return mutate.Addendum{}, fmt.Errorf("signer: %w", err)
	}
	sig, err := signer.SignMessage(bytes.NewReader(payload))
	if err != nil {
		return mutate.Addendum{}, fmt.Errorf("sign the payload: %w", err)
	}
	sum := sha256.Sum256(payload)
	if err := verifyASN1(pub, sum[:], sig); err != nil {
		return mutate.Addendum{}, fmt.Errorf("the signer's signature does not verify with its own key: %w", err)
	}
	return mutate.Addendum{
		Layer:     static.NewLayer(payload, types.MediaType(SimpleSigningMediaType)),
		MediaType: types.MediaType(SimpleSigningMediaType),
		Annotations: map[string]string{
			SignatureAnnotation: base64.StdEncoding.EncodeToString(sig),
		},
	}, nil
}
