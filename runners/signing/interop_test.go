//go:build interop

package signing

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// The interop tests run the real cosign (v3.1.2, built by `make interop`
// into bin/cosign and named by $COSIGN) against keys and signatures made
// here, and the other way round, on an in-process registry.

const interopPassword = "interop-password"

type cosignResult struct {
	code           int
	stdout, stderr string
}

// cosign runs the cosign binary in dir with a minimal environment, so that
// no user configuration, credential or network service is involved.
func cosign(t *testing.T, dir string, args ...string) cosignResult {
	t.Helper()
	bin := os.Getenv("COSIGN")
	if bin == "" {
		t.Fatal("COSIGN must name the cosign binary; `make interop` builds it into bin/cosign")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"DOCKER_CONFIG=" + filepath.Join(dir, "docker"),
		"TUF_ROOT=" + filepath.Join(dir, "tuf"),
		"COSIGN_PASSWORD=" + interopPassword,
		"COSIGN_YES=true",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cosignResult{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run cosign %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("cosign %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	return res
}

func cosignVerify(t *testing.T, dir, pubPath string, ref name.Digest) cosignResult {
	t.Helper()
	return cosign(t, dir, "verify", "--key", pubPath, "--insecure-ignore-tlog=true", "--allow-http-registry", ref.String())
}

// verifiedPayloads parses the JSON list that cosign verify prints.
func verifiedPayloads(t *testing.T, stdout string) []payload.SimpleContainerImage {
	t.Helper()
	var out []payload.SimpleContainerImage
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); err != nil {
		t.Fatalf("cosign verify output is not a JSON list of payloads: %v\n%s", err, stdout)
	}
	return out
}

func TestCosignInterop(t *testing.T) {
	ctx := context.Background()
	host, _ := newRegistry(t)

	// Our key pair, written as cosign writes it.
	ourDir := t.TempDir()
	privPEM, pubPEM, err := GenerateKeyPair([]byte(interopPassword))
	if err != nil {
		t.Fatal(err)
	}
	ourKey, ourPub, err := WriteKeyPair(ourDir, privPEM, pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := LoadPrivateKey(privPEM, []byte(interopPassword))
	if err != nil {
		t.Fatal(err)
	}
	ourSigner, err := NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}

	// cosign's key pair, read with our loaders.
	cosignDir := t.TempDir()
	if r := cosign(t, cosignDir, "generate-key-pair"); r.code != 0 {
		t.Fatalf("cosign generate-key-pair: exit %d", r.code)
	}
	cosignKeyPEM, err := os.ReadFile(filepath.Join(cosignDir, "cosign.key"))
	if err != nil {
		t.Fatal(err)
	}
	cosignPubPEM, err := os.ReadFile(filepath.Join(cosignDir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	cosignPriv, err := LoadPrivateKey(cosignKeyPEM, []byte(interopPassword))
	if err != nil {
		t.Fatalf("LoadPrivateKey(cosign.key from cosign): %v", err)
	}
	cosignPub, err := LoadPublicKey(cosignPubPEM)
	if err != nil {
		t.Fatalf("LoadPublicKey(cosign.pub from cosign): %v", err)
	}
	if !cosignPriv.PublicKey.Equal(cosignPub) {
		t.Fatal("cosign's key files do not match once loaded")
	}
	if _, err := LoadPrivateKey(cosignKeyPEM, []byte("wrong")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("cosign.key with a wrong password: err = %v, want ErrWrongPassword", err)
	}

	signedByUs := pushRandom(t, host, "slipway/model")
	signedByCosign := pushRandom(t, host, "slipway/model")

	t.Run("cosign verifies our signature", func(t *testing.T) {
		if err := SignRemote(ctx, signedByUs, ourSigner); err != nil {
			t.Fatal(err)
		}
		r := cosignVerify(t, ourDir, ourPub, signedByUs)
		if r.code != 0 {
			t.Fatalf("cosign verify: exit %d", r.code)
		}
		for _, want := range []string{"The cosign claims were validated", "The signatures were verified against the specified public key"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("cosign verify did not report %q", want)
			}
		}
		ps := verifiedPayloads(t, r.stdout)
		if len(ps) != 1 || ps[0].Critical.Image.DockerManifestDigest != signedByUs.DigestStr() ||
			ps[0].Critical.Identity.DockerReference != signedByUs.Context().Name() || ps[0].Critical.Type != payload.CosignSignatureType {
			t.Fatalf("cosign verified %+v, want one payload for %s", ps, signedByUs)
		}
	})

	t.Run("we verify cosign's signature with our key", func(t *testing.T) {
		r := cosign(t, ourDir, "sign", "--key", ourKey, "--tlog-upload=false", "--use-signing-config=false",
			"--new-bundle-format=false", "--allow-http-registry", "--yes", signedByCosign.String())
		if r.code != 0 {
			t.Fatalf("cosign sign: exit %d", r.code)
		}
		v, err := VerifyRemote(ctx, signedByCosign, &priv.PublicKey)
		if err != nil {
			t.Fatalf("VerifyRemote of cosign's signature: %v", err)
		}
		if len(v.Signatures) != 1 || v.Payload.Critical.Identity.DockerReference != signedByCosign.Context().Name() {
			t.Fatalf("Verified = %+v", v)
		}
	})

	t.Run("signatures from both tools accumulate", func(t *testing.T) {
		// cosign appends its signature (with its own key) to ours.
		r := cosign(t, cosignDir, "sign", "--key", filepath.Join(cosignDir, "cosign.key"), "--tlog-upload=false",
			"--use-signing-config=false", "--new-bundle-format=false", "--allow-http-registry", "--yes", signedByUs.String())
		if r.code != 0 {
			t.Fatalf("cosign sign: exit %d", r.code)
		}
		for _, k := range []struct {
			name string
			pub  *ecdsa.PublicKey
		}{{"our key", &priv.PublicKey}, {"cosign's key", cosignPub}} {
			v, err := VerifyRemote(ctx, signedByUs, k.pub)
			if err != nil {
				t.Fatalf("%s: VerifyRemote: %v", k.name, err)
			}
			if len(v.Signatures) != 1 || len(v.Rejected) != 1 {
				t.Fatalf("%s: %d verified, %d rejected; want 1 and 1", k.name, len(v.Signatures), len(v.Rejected))
			}
		}
		for _, pub := range []string{ourPub, filepath.Join(cosignDir, "cosign.pub")} {
			r := cosignVerify(t, ourDir, pub, signedByUs)
			if r.code != 0 {
				t.Fatalf("cosign verify --key %s: exit %d", pub, r.code)
			}
			if ps := verifiedPayloads(t, r.stdout); len(ps) != 1 {
				t.Fatalf("cosign verify --key %s verified %d signatures, want 1", pub, len(ps))
			}
		}
		// We append to cosign's signature image in turn, with cosign's key.
		cosignSigner, err := NewSigner(cosignPriv)
		if err != nil {
			t.Fatal(err)
		}
		if err := SignRemote(ctx, signedByCosign, cosignSigner); err != nil {
			t.Fatal(err)
		}
		if r := cosignVerify(t, cosignDir, filepath.Join(cosignDir, "cosign.pub"), signedByCosign); r.code != 0 {
			t.Fatalf("cosign verify of our appended signature: exit %d", r.code)
		}
		if r := cosignVerify(t, ourDir, ourPub, signedByCosign); r.code != 0 {
			t.Fatalf("cosign verify of its own first signature after our append: exit %d", r.code)
		}
	})

	t.Run("cosign and we refuse tampered signatures", func(t *testing.T) {
		sigFor := func(ref name.Digest, img v1.Image) {
			t.Helper()
			tag, err := SignatureRef(ref)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(tag, img); err != nil {
				t.Fatal(err)
			}
		}
		otherDigest := pushRandom(t, host, "slipway/tamper")
		img, err := Sign(ourSigner, otherDigest.Context().Name(), mustHash(t, signedByUs.DigestStr()))
		if err != nil {
			t.Fatal(err)
		}
		sigFor(otherDigest, img)

		changedPayload := pushRandom(t, host, "slipway/tamper")
		good, err := NewPayload(changedPayload.Context().Name(), mustHash(t, changedPayload.DigestStr()))
		if err != nil {
			t.Fatal(err)
		}
		changed := bytes.Replace(good, []byte(`"optional":null`), []byte(`"optional":{"x":"y"}`), 1)
		sigFor(changedPayload, imageOf(t, rawLayer(changed, signASN1(t, priv, good))))

		unsigned := pushRandom(t, host, "slipway/tamper")

		tests := []struct {
			name     string
			ref      name.Digest
			pub      string
			ourErr   error
			code     int // cosign's exit code: 12 no matching signatures, 10 no signatures found
			cosignIn string
		}{
			{"signature for another digest", otherDigest, ourPub, ErrDigestMismatch, 12, "invalid or missing digest in claim"},
			{"changed payload", changedPayload, ourPub, ErrBadSignature, 12, "invalid signature"},
			{"another key", signedByCosign, filepath.Join(t.TempDir(), "other.pub"), ErrBadSignature, 12, "invalid signature"},
			{"no signature", unsigned, ourPub, ErrNoSignature, 10, "no signatures found"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				pub := &priv.PublicKey
				if tt.name == "another key" {
					other, err := ecdsa.GenerateKey(priv.Curve, rand.Reader)
					if err != nil {
						t.Fatal(err)
					}
					der, err := cryptoutils.MarshalPublicKeyToPEM(&other.PublicKey)
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(tt.pub, der, 0o644); err != nil {
						t.Fatal(err)
					}
					pub = &other.PublicKey
				}
				if _, err := VerifyRemote(ctx, tt.ref, pub); !errors.Is(err, tt.ourErr) {
					t.Errorf("VerifyRemote: err = %v, want %v", err, tt.ourErr)
				}
				r := cosignVerify(t, ourDir, tt.pub, tt.ref)
				if r.code != tt.code {
					t.Fatalf("cosign verify: exit %d, want %d", r.code, tt.code)
				}
				if !strings.Contains(r.stderr, tt.cosignIn) {
					t.Errorf("cosign verify failed without saying %q", tt.cosignIn)
				}
			})
		}
	})

	// cosign v3.1.2 checks only the signature and the digest claim; our
	// verifier is stricter on these three points, by design.
	t.Run("cosign accepts, we refuse", func(t *testing.T) {
		p1363 := func(p []byte) []byte {
			sum := sha256.Sum256(p)
			r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
			if err != nil {
				t.Fatal(err)
			}
			sig := make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
			return sig
		}
		tests := []struct {
			name    string
			payload func(identity string, digest v1.Hash) []byte
			sign    func([]byte) []byte
			ourErr  error
			message string
		}{
			{
				name: "another identity",
				payload: func(_ string, d v1.Hash) []byte {
					p, err := NewPayload(host+"/someone/else", d)
					if err != nil {
						t.Fatal(err)
					}
					return p
				},
				ourErr: ErrIdentityMismatch, message: "someone/else",
			},
			{
				name: "another payload type",
				payload: func(id string, d v1.Hash) []byte {
					p, err := NewPayload(id, d)
					if err != nil {
						t.Fatal(err)
					}
					return bytes.Replace(p, []byte(payload.CosignSignatureType), []byte("atomic container signature"), 1)
				},
				ourErr: ErrPayloadType, message: "atomic container signature",
			},
			{
				name: "IEEE-P1363 signature",
				payload: func(id string, d v1.Hash) []byte {
					p, err := NewPayload(id, d)
					if err != nil {
						t.Fatal(err)
					}
					return p
				},
				sign:   p1363,
				ourErr: ErrBadSignature, message: "IEEE-P1363",
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ref := pushRandom(t, host, "slipway/strict")
				p := tt.payload(ref.Context().Name(), mustHash(t, ref.DigestStr()))
				sig := signASN1(t, priv, p)
				if tt.sign != nil {
					sig = tt.sign(p)
				}
				tag, err := SignatureRef(ref)
				if err != nil {
					t.Fatal(err)
				}
				if err := remote.Write(tag, imageOf(t, rawLayer(p, sig))); err != nil {
					t.Fatal(err)
				}
				_, err = VerifyRemote(ctx, ref, &priv.PublicKey)
				if !errors.Is(err, tt.ourErr) || !strings.Contains(err.Error(), tt.message) {
					t.Errorf("VerifyRemote: err = %v, want %v saying %q", err, tt.ourErr, tt.message)
				}
				if res := cosignVerify(t, ourDir, ourPub, ref); res.code != 0 {
					t.Errorf("cosign verify: exit %d; cosign v3.1.2 was expected to accept this", res.code)
				}
			})
		}
	})
}
