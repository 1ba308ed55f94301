package signing

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

var (
	testKeyOnce          sync.Once
	testPrivPEM, testPub []byte
	testKeyErr           error
	testPassword         = []byte("correct horse battery staple")
)

// testKeyPair generates one encrypted key pair per test binary, since each
// generation runs scrypt.
func testKeyPair(t testing.TB) (privPEM, pubPEM []byte) {
	t.Helper()
	testKeyOnce.Do(func() { testPrivPEM, testPub, testKeyErr = GenerateKeyPair(testPassword) })
	if testKeyErr != nil {
		t.Fatal(testKeyErr)
	}
	return testPrivPEM, testPub
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestKeyRoundTrip(t *testing.T) {
	privPEM, pubPEM := testKeyPair(t)
	if b, _ := pem.Decode(privPEM); b == nil || b.Type != PrivateKeyPEMType {
		t.Fatalf("private key PEM type: %q", privPEM)
	}
	if b, _ := pem.Decode(pubPEM); b == nil || b.Type != PublicKeyPEMType {
		t.Fatalf("public key PEM type: %q", pubPEM)
	}
	priv, err := LoadPrivateKey(privPEM, testPassword)
	if err != nil {
		t.Fatalf("LoadPrivateKey: %v", err)
	}
	pub, err := LoadPublicKey(pubPEM)
	if err != nil {
		t.Fatalf("LoadPublicKey: %v", err)
	}
	if !priv.PublicKey.Equal(pub) {
		t.Fatal("the private key does not match the public key")
	}
	signer, err := NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	img, err := Sign(signer, "r.example/app", mustHash(t, digestA))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(img, mustHash(t, digestA), "r.example/app", pub); err != nil {
		t.Fatalf("Verify with the loaded public key: %v", err)
	}

	// Keys written by cosign before v2 carry the older block type.
	block, _ := pem.Decode(privPEM)
	legacy := pemOf(LegacyPrivateKeyPEMType, block.Bytes)
	if k, err := LoadPrivateKey(legacy, testPassword); err != nil || !k.Equal(priv) {
		t.Fatalf("legacy block type: %v", err)
	}
}

func TestGenerateKeyPairRefusesEmptyPassword(t *testing.T) {
	for _, pw := range [][]byte{nil, {}} {
		if _, _, err := GenerateKeyPair(pw); err == nil || !strings.Contains(err.Error(), "password is empty") {
			t.Errorf("GenerateKeyPair(%q): err = %v", pw, err)
		}
	}
}

func TestLoadPrivateKeyErrors(t *testing.T) {
	privPEM, pubPEM := testKeyPair(t)
	block, _ := pem.Decode(privPEM)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(block.Bytes)
	// The ciphertext is the last base64 field; change one character of it.
	i := bytes.LastIndex(flipped, []byte(`"`)) - 2
	if flipped[i] == 'A' {
		flipped[i] = 'B'
	} else {
		flipped[i] = 'A'
	}

	tests := []struct {
		name     string
		pem      []byte
		password []byte
		want     error
		message  string
	}{
		{"wrong password", privPEM, []byte("wrong"), ErrWrongPassword, "wrong password"},
		{"empty password", privPEM, nil, ErrWrongPassword, "wrong password"},
		{"altered ciphertext", pemOf(PrivateKeyPEMType, flipped), testPassword, ErrWrongPassword, "altered"},
		{"plain PKCS#8 key", pemOf("PRIVATE KEY", pkcs8), testPassword, ErrKeyFormat, "unencrypted PRIVATE KEY"},
		{"plain SEC 1 key", pemOf("EC PRIVATE KEY", sec1), testPassword, ErrKeyFormat, "unencrypted EC PRIVATE KEY"},
		{"public key", pubPEM, testPassword, ErrKeyFormat, "found a PUBLIC KEY block"},
		{"garbage", []byte("not a key at all"), testPassword, ErrKeyFormat, "no PEM block found"},
		{"other block", pemOf("CERTIFICATE", []byte{1}), testPassword, ErrKeyFormat, `found a "CERTIFICATE" PEM block`},
		{"body not JSON", pemOf(PrivateKeyPEMType, []byte("xx")), testPassword, ErrKeyFormat, "not the expected JSON"},
		{"costly scrypt", pemOf(PrivateKeyPEMType, bytes.Replace(block.Bytes, []byte(`"N":`), []byte(`"N":1048576,"x":`), 1)), testPassword, ErrKeyFormat, "scrypt parameters N=1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadPrivateKey(tt.pem, tt.password)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %v, want %v saying %q", err, tt.want, tt.message)
			}
		})
	}
}

func TestLoadPrivateKeyRefusesOtherAlgorithms(t *testing.T) {
	// Encrypt a P-384 key in cosign's envelope.
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	body, err := encrypted.Encrypt(der, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadPrivateKey(pemOf(PrivateKeyPEMType, body), testPassword)
	if !errors.Is(err, ErrKeyFormat) || !strings.Contains(err.Error(), "found an ECDSA P-384 private key, want ECDSA P-256") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadPublicKeyErrors(t *testing.T) {
	privPEM, _ := testKeyPair(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkix := func(k any) []byte {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pemOf("PUBLIC KEY", der)
	}
	tests := []struct {
		name    string
		pem     []byte
		message string
	}{
		{"RSA", pkix(&rsaKey.PublicKey), "found an RSA 2048-bit public key, want ECDSA P-256"},
		{"P-384", pkix(&p384.PublicKey), "found an ECDSA P-384 public key"},
		{"Ed25519", pkix(edPub), "found an Ed25519 public key"},
		{"private key", privPEM, "found a private key (ENCRYPTED SIGSTORE PRIVATE KEY block)"},
		{"certificate", pemOf("CERTIFICATE", []byte{1}), "found a CERTIFICATE block"},
		{"PKCS#1", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), `found a "RSA PUBLIC KEY" PEM block`},
		{"bad DER", pemOf("PUBLIC KEY", []byte{0x30, 0x01}), "PUBLIC KEY block:"},
		{"garbage", []byte("hello"), "no PEM block found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadPublicKey(tt.pem)
			if !errors.Is(err, ErrKeyFormat) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %v, want ErrKeyFormat saying %q", err, tt.message)
			}
		})
	}
}

func TestNewSignerRefusesOtherCurves(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*ecdsa.PrivateKey{nil, p384} {
		if _, err := NewSigner(k); !errors.Is(err, ErrKeyFormat) {
			t.Errorf("NewSigner: err = %v, want ErrKeyFormat", err)
		}
	}
}

func TestWriteKeyPair(t *testing.T) {
	privPEM, pubPEM := testKeyPair(t)
	dir := t.TempDir()
	keyPath, pubPath, err := WriteKeyPair(dir, privPEM, pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{keyPath, privPEM, 0o600}, {pubPath, pubPEM, 0o644}} {
		got, err := os.ReadFile(f.path)
		if err != nil || !bytes.Equal(got, f.data) {
			t.Errorf("%s: %v, content matches: %v", f.path, err, bytes.Equal(got, f.data))
		}
		if st, err := os.Stat(f.path); err != nil || st.Mode().Perm() != f.mode {
			t.Errorf("%s: mode %v, want %v", f.path, st.Mode().Perm(), f.mode)
		}
	}
	if filepath.Base(keyPath) != "cosign.key" || filepath.Base(pubPath) != "cosign.pub" {
		t.Errorf("paths %s %s", keyPath, pubPath)
	}
	if _, _, err := WriteKeyPair(dir, []byte("x"), []byte("y")); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second WriteKeyPair: err = %v", err)
	}
	if got, _ := os.ReadFile(keyPath); !bytes.Equal(got, privPEM) {
		t.Fatal("an existing key was overwritten")
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 2 {
		t.Fatalf("directory holds %d entries (%v), want the two key files only", len(entries), err)
	}
}

func TestPasswordFromEnv(t *testing.T) {
	t.Setenv(PasswordEnv, "s3cret")
	if pw, ok := PasswordFromEnv(); !ok || string(pw) != "s3cret" {
		t.Errorf("PasswordFromEnv = %q, %v", pw, ok)
	}
	t.Setenv(PasswordEnv, "")
	if pw, ok := PasswordFromEnv(); !ok || len(pw) != 0 {
		t.Errorf("empty: PasswordFromEnv = %q, %v", pw, ok)
	}
	os.Unsetenv(PasswordEnv)
	if _, ok := PasswordFromEnv(); ok {
		t.Error("unset: PasswordFromEnv reports set")
	}
}

func TestReadPasswordNeedsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "in")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	if _, err := ReadPassword("Password: ", f, &out); err == nil || !strings.Contains(err.Error(), "not a terminal; set COSIGN_PASSWORD") {
		t.Fatalf("err = %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("prompt written to a non-terminal session: %q", out.String())
	}
}
