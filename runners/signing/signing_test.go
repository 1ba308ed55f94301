package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore/pkg/signature"
)

func mustHash(t testing.TB, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var (
	digestA = "sha256:" + strings.Repeat("a", 64)
	digestB = "sha256:" + strings.Repeat("b", 64)
)

func TestSignatureTag(t *testing.T) {
	got := SignatureTag(mustHash(t, digestA))
	if want := "sha256-" + strings.Repeat("a", 64) + ".sig"; got != want {
		t.Fatalf("SignatureTag = %q, want %q", got, want)
	}
}

func TestSignVerifyRemote(t *testing.T) {
	ctx := context.Background()
	host, _ := newRegistry(t)
	ref := pushRandom(t, host, "slipway/model")
	priv, signer := newKey(t)

	if err := SignRemote(ctx, ref, signer); err != nil {
		t.Fatalf("SignRemote: %v", err)
	}
	v, err := VerifyRemote(ctx, ref, &priv.PublicKey)
	if err != nil {
		t.Fatalf("VerifyRemote: %v", err)
	}
	if v.Digest.String() != ref.DigestStr() || v.Identity != host+"/slipway/model" {
		t.Errorf("Verified = %s, %q; want %s, %q", v.Digest, v.Identity, ref.DigestStr(), host+"/slipway/model")
	}
	if len(v.Signatures) != 1 || len(v.Rejected) != 0 {
		t.Errorf("Verified has %d signatures and %d rejected, want 1 and 0", len(v.Signatures), len(v.Rejected))
	}
	if v.Payload.Critical.Identity.DockerReference != host+"/slipway/model" {
		t.Errorf("payload identity %q", v.Payload.Critical.Identity.DockerReference)
	}
	if s := v.String(); !strings.Contains(s, "1 of 1 signatures") || !strings.Contains(s, "no transparency log") {
		t.Errorf("String() = %q", s)
	}

	// The stored image has cosign's layout.
	tag, err := SignatureRef(ref)
	if err != nil {
		t.Fatal(err)
	}
	if want := host + "/slipway/model:sha256-" + strings.TrimPrefix(ref.DigestStr(), "sha256:") + ".sig"; tag.String() != want {
		t.Fatalf("signature tag %s, want %s", tag, want)
	}
	img, err := remote.Image(tag)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types %s / %s, want %s / %s", m.MediaType, m.Config.MediaType, types.OCIManifestSchema1, types.OCIConfigJSON)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != SimpleSigningMediaType {
		t.Fatalf("layers %+v, want one %s layer", m.Layers, SimpleSigningMediaType)
	}
	_, blob := firstLayer(t, img)
	want := `{"critical":{"identity":{"docker-reference":"` + host + `/slipway/model"},"image":{"docker-manifest-digest":"` + ref.DigestStr() + `"},"type":"cosign container image signature"},"optional":null}`
	if string(blob) != want {
		t.Errorf("payload\n got %s\nwant %s", blob, want)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Layers[0].Annotations[SignatureAnnotation])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(blob)
	if !ecdsa.VerifyASN1(&priv.PublicKey, sum[:], sig) {
		t.Error("the annotation is not an ASN.1 signature over sha256(payload)")
	}
}

func TestAppendKeepsEarlierSignatures(t *testing.T) {
	ctx := context.Background()
	host, _ := newRegistry(t)
	ref := pushRandom(t, host, "team/churn")
	priv1, signer1 := newKey(t)
	priv2, signer2 := newKey(t)
	for _, s := range []signature.Signer{signer1, signer2} {
		if err := SignRemote(ctx, ref, s); err != nil {
			t.Fatalf("SignRemote: %v", err)
		}
	}
	for i, pub := range []*ecdsa.PublicKey{&priv1.PublicKey, &priv2.PublicKey} {
		v, err := VerifyRemote(ctx, ref, pub)
		if err != nil {
			t.Fatalf("key %d: VerifyRemote: %v", i+1, err)
		}
		if len(v.Signatures) != 1 || len(v.Rejected) != 1 {
			t.Fatalf("key %d: %d verified, %d rejected; want 1 and 1", i+1, len(v.Signatures), len(v.Rejected))
		}
		if v.Rejected[0].Index != 1-i || !errors.Is(v.Rejected[0], ErrBadSignature) {
			t.Errorf("key %d: rejected %v, want layer %d with ErrBadSignature", i+1, v.Rejected[0], 1-i)
		}
	}
	_, priv3 := newKey(t)
	pub3, _ := priv3.PublicKey()
	if _, err := VerifyRemote(ctx, ref, pub3); !errors.Is(err, ErrBadSignature) {
		t.Errorf("a third key: err = %v, want ErrBadSignature", err)
	}
}

func TestSignRemoteRefusesUnknownManifest(t *testing.T) {
	host, _ := newRegistry(t)
	pushRandom(t, host, "repo")
	_, signer := newKey(t)
	ref, err := name.NewDigest(host + "/repo@" + digestA)
	if err != nil {
		t.Fatal(err)
	}
	if err := SignRemote(context.Background(), ref, signer); err == nil || !strings.Contains(err.Error(), "look up the manifest") {
		t.Fatalf("SignRemote of a missing manifest: err = %v", err)
	}
}

func TestVerifyRemoteFailures(t *testing.T) {
	ctx := context.Background()
	host, tamper := newRegistry(t)
	priv, signer := newKey(t)

	unsigned := pushRandom(t, host, "unsigned")
	if _, err := VerifyRemote(ctx, unsigned, &priv.PublicKey); !errors.Is(err, ErrNoSignature) {
		t.Errorf("unsigned: err = %v, want ErrNoSignature", err)
	}

	tests := []struct {
		name string
		edit func([]byte) []byte
	}{
		{"changed blob", func(b []byte) []byte { return bytes.Replace(b, []byte("cosign"), []byte("COSIGN"), 1) }},
		{"truncated blob", func(b []byte) []byte { return b[:len(b)/2] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := pushRandom(t, host, "tamper")
			if err := SignRemote(ctx, ref, signer); err != nil {
				t.Fatal(err)
			}
			tag, _ := SignatureRef(ref)
			img, err := remote.Image(tag)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := firstLayer(t, img)
			tamper.set(d, tt.edit)
			_, err = VerifyRemote(ctx, ref, &priv.PublicKey)
			if !errors.Is(err, ErrBlobMismatch) {
				t.Fatalf("err = %v, want ErrBlobMismatch", err)
			}
		})
	}
}

func TestVerifyRemoteRefusesOtherDigestsSignature(t *testing.T) {
	ctx := context.Background()
	host, _ := newRegistry(t)
	priv, signer := newKey(t)
	a := pushRandom(t, host, "repo")
	b := pushRandom(t, host, "repo")
	// A valid signature for b, copied to a's signature tag.
	img, err := Sign(signer, b.Context().Name(), mustHash(t, b.DigestStr()))
	if err != nil {
		t.Fatal(err)
	}
	tagA, _ := SignatureRef(a)
	if err := remote.Write(tagA, img); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyRemote(ctx, a, &priv.PublicKey); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("err = %v, want ErrDigestMismatch", err)
	}
}

func TestVerify(t *testing.T) {
	priv, signer := newKey(t)
	otherPriv, otherSigner := newKey(t)
	const identity = "registry.example/team/model"
	digest := mustHash(t, digestA)
	good, err := NewPayload(identity, digest)
	if err != nil {
		t.Fatal(err)
	}

	signed := func(id string, d v1.Hash, s signature.Signer) v1.Image {
		img, err := Sign(s, id, d)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	swapped := func(edit func([]byte) []byte) v1.Image {
		img := signed(identity, digest, signer)
		d, blob := firstLayer(t, img)
		return swappedImage{Image: img, digest: d, data: edit(bytes.Clone(blob))}
	}
	p1363 := func() []byte {
		sum := sha256.Sum256(good)
		r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}()
	wrongType := []byte(strings.Replace(string(good), "cosign container image signature", "atomic container signature", 1))
	changed := []byte(strings.Replace(string(good), "team/model", "team/other", 1))

	tests := []struct {
		name    string
		img     v1.Image
		want    error
		message string
	}{
		{"good", signed(identity, digest, signer), nil, ""},
		{"good after a bad one", imageOf(t, rawLayer(good, signASN1(t, otherPriv, good)), rawLayer(good, signASN1(t, priv, good))), nil, ""},
		{"no signature image", nil, ErrNoSignature, "no signature image"},
		{"no layers", EmptySignatures(), ErrNoSignature, "no application/vnd.dev.cosign.simplesigning.v1+json layer"},
		{"changed payload", imageOf(t, rawLayer(changed, signASN1(t, priv, good))), ErrBadSignature, "ECDSA verification failed"},
		{"another key", signed(identity, digest, otherSigner), ErrBadSignature, "ECDSA verification failed"},
		{"another digest", signed(identity, mustHash(t, digestB), signer), ErrDigestMismatch, "the payload signs " + digestB},
		{"another identity", signed("registry.example/team/other", digest, signer), ErrIdentityMismatch, `names "registry.example/team/other"`},
		{"wrong type", imageOf(t, rawLayer(wrongType, signASN1(t, priv, wrongType))), ErrPayloadType, `"atomic container signature"`},
		{"malformed payload", imageOf(t, rawLayer([]byte("not json"), signASN1(t, priv, []byte("not json")))), ErrMalformedPayload, "not a JSON document"},
		{"IEEE-P1363 signature", imageOf(t, rawLayer(good, p1363)), ErrBadSignature, "IEEE-P1363"},
		{"no signature annotation", func() v1.Image {
			l := rawLayer(good, nil)
			l.Annotations = nil
			return imageOf(t, l)
		}(), ErrBadSignature, "no dev.cosignproject.cosign/signature annotation"},
		{"signature not base64", func() v1.Image {
			l := rawLayer(good, nil)
			l.Annotations[SignatureAnnotation] = "%%%"
			return imageOf(t, l)
		}(), ErrBadSignature, "not standard base64"},
		{"changed blob", swapped(func(b []byte) []byte { b[10] ^= 1; return b }), ErrBlobMismatch, "hashes to"},
		{"truncated blob", swapped(func(b []byte) []byte { return b[:len(b)-1] }), ErrBlobMismatch, "holds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Verify(tt.img, digest, identity, &priv.PublicKey)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if len(v.Signatures) != 1 || v.Payload.Critical.Image.DockerManifestDigest != digestA {
					t.Fatalf("Verified = %+v", v)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("err = %q, want it to say %q", err, tt.message)
			}
			for _, other := range []error{ErrNoSignature, ErrBadSignature, ErrDigestMismatch, ErrIdentityMismatch, ErrPayloadType, ErrMalformedPayload, ErrBlobMismatch} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("err = %v also matches %v", err, other)
				}
			}
			if tt.want != ErrNoSignature {
				var le *LayerError
				if !errors.As(err, &le) || le.Index != 0 {
					t.Errorf("err = %v, want a *LayerError for layer 0", err)
				}
			}
		})
	}

	// sigstore's own verifier accepts the P1363 form; Verify must not.
	sv, err := signature.LoadECDSAVerifier(&priv.PublicKey, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := sv.VerifySignature(bytes.NewReader(p1363), bytes.NewReader(good)); err != nil {
		t.Fatalf("the P1363 test signature is not even valid: %v", err)
	}
}

func TestVerifyArguments(t *testing.T) {
	priv, signer := newKey(t)
	img, err := Sign(signer, "r.example/app", mustHash(t, digestA))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		digest   v1.Hash
		identity string
		pub      crypto.PublicKey
		message  string
	}{
		{"rsa key", mustHash(t, digestA), "r.example/app", "not a key", "found a string public key, want ECDSA P-256"},
		{"nil key", mustHash(t, digestA), "r.example/app", nil, "found no public key"},
		{"sha512 digest", v1.Hash{Algorithm: "sha512", Hex: strings.Repeat("a", 128)}, "r.example/app", &priv.PublicKey, "want sha256"},
		{"upper-case digest", v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("A", 64)}, "r.example/app", &priv.PublicKey, "want sha256"},
		{"empty identity", mustHash(t, digestA), "", &priv.PublicKey, "identity is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(img, tt.digest, tt.identity, tt.pub)
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %v, want it to say %q", err, tt.message)
			}
		})
	}
}

func TestSignRefusesBadSigners(t *testing.T) {
	_, signer := newKey(t)
	tests := []struct {
		name     string
		signer   signature.Signer
		identity string
		digest   v1.Hash
		message  string
	}{
		{"no signer", nil, "r.example/app", mustHash(t, digestA), "no signer"},
		{"P1363 signer", p1363Signer{signer}, "r.example/app", mustHash(t, digestA), "IEEE-P1363"},
		{"bad identity", signer, "r.example/app:tag", mustHash(t, digestA), "not a repository name"},
		{"empty identity", signer, "", mustHash(t, digestA), "identity is empty"},
		{"bad digest", signer, "r.example/app", v1.Hash{Algorithm: "sha256", Hex: "abc"}, "want sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Sign(tt.signer, tt.identity, tt.digest); err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %v, want it to say %q", err, tt.message)
			}
		})
	}
}

// p1363Signer converts its inner signer's ASN.1 signatures to r||s.
type p1363Signer struct{ signature.SignerVerifier }

func (p p1363Signer) SignMessage(m io.Reader, opts ...signature.SignOption) ([]byte, error) {
	der, err := p.SignerVerifier.SignMessage(m, opts...)
	if err != nil {
		return nil, err
	}
	var s ecdsaSig
	if _, err := asn1.Unmarshal(der, &s); err != nil {
		return nil, err
	}
	out := make([]byte, 64)
	s.R.FillBytes(out[:32])
	s.S.FillBytes(out[32:])
	return out, nil
}

func TestParseDigestReference(t *testing.T) {
	tests := []struct {
		in, want, message string
	}{
		{in: "r.example/app@" + digestA, want: "r.example/app@" + digestA},
		{in: "r.example/app:v1", message: "is a tag"},
		{in: "r.example/app", message: "is a tag"},
		{in: "r.example/app@sha256:abc", message: "parse reference"},
		{in: "Bad Ref", message: "parse reference"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDigestReference(tt.in)
			if tt.message != "" {
				if err == nil || !strings.Contains(err.Error(), tt.message) {
					t.Fatalf("err = %v, want it to say %q", err, tt.message)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("got %v, %v; want %s", got, err, tt.want)
			}
		})
	}
	var zero name.Digest
	if _, err := VerifyRemote(context.Background(), zero, nil); err == nil || !strings.Contains(err.Error(), "has no digest") {
		t.Errorf("VerifyRemote of an empty reference: err = %v", err)
	}
}
