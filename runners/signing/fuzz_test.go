package signing

import (
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature/payload"
)

func FuzzLoadPublicKey(f *testing.F) {
	_, pubPEM := testKeyPair(f)
	f.Add(pubPEM)
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nMAo=\n-----END PUBLIC KEY-----\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, in []byte) {
		pub, err := LoadPublicKey(in)
		if err != nil {
			if !errors.Is(err, ErrKeyFormat) {
				t.Fatalf("error without ErrKeyFormat: %v", err)
			}
			return
		}
		if pub.Curve != elliptic.P256() {
			t.Fatalf("accepted a %s key", pub.Curve.Params().Name)
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatalf("accepted key does not marshal: %v", err)
		}
		again, err := LoadPublicKey(pemOf(PublicKeyPEMType, der))
		if err != nil || !again.Equal(pub) {
			t.Fatalf("accepted key does not round-trip: %v", err)
		}
	})
}

func FuzzLoadPrivateKey(f *testing.F) {
	privPEM, pubPEM := testKeyPair(f)
	f.Add(privPEM, testPassword)
	f.Add(privPEM, []byte("wrong"))
	f.Add(pubPEM, testPassword)
	f.Add([]byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\ne30=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), []byte("x"))
	f.Add([]byte("garbage"), []byte{})
	f.Fuzz(func(t *testing.T, in, password []byte) {
		key, err := LoadPrivateKey(in, password)
		if err != nil {
			if !errors.Is(err, ErrKeyFormat) && !errors.Is(err, ErrWrongPassword) {
				t.Fatalf("error without ErrKeyFormat or ErrWrongPassword: %v", err)
			}
			return
		}
		if key.Curve != elliptic.P256() {
			t.Fatalf("accepted a %s key", key.Curve.Params().Name)
		}
		if _, err := NewSigner(key); err != nil {
			t.Fatalf("accepted key makes no signer: %v", err)
		}
	})
}

func FuzzParsePayload(f *testing.F) {
	f.Add([]byte(goodPayload))
	f.Add([]byte(`{"critical":{"identity":{"docker-reference":"a/b"},"image":{"docker-manifest-digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"type":"cosign container image signature"},"optional":{"k":"v"}}`))
	f.Add([]byte(`{"critical":{"type":"atomic container signature"}}`))
	f.Add([]byte(`{"critical":{},"critical":{}}`))
	f.Add([]byte(`[[[[]]]]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := ParsePayload(in)
		if err != nil {
			if !errors.Is(err, ErrMalformedPayload) && !errors.Is(err, ErrPayloadType) {
				t.Fatalf("error without ErrMalformedPayload or ErrPayloadType: %v", err)
			}
			return
		}
		if p.Critical.Type != payload.CosignSignatureType || p.Critical.Identity.DockerReference == "" {
			t.Fatalf("accepted %+v", p)
		}
		h := mustHash(t, p.Critical.Image.DockerManifestDigest)
		if err := checkDigest(h); err != nil {
			t.Fatalf("accepted digest: %v", err)
		}
		// What parses must survive a round trip through sigstore's encoding.
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := ParsePayload(out)
		if err != nil {
			t.Fatalf("re-encoded payload %s does not parse: %v", out, err)
		}
		if again.Critical != p.Critical || !reflect.DeepEqual(again.Optional, p.Optional) {
			t.Fatalf("round trip changed %+v into %+v", p, again)
		}
	})
}
