package signing

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/term"
)

// PEM block types of cosign key files.
const (
	// PrivateKeyPEMType is the block type that cosign writes to cosign.key.
	PrivateKeyPEMType = "ENCRYPTED SIGSTORE PRIVATE KEY"
	// LegacyPrivateKeyPEMType is the block type of cosign.key files written
	// by cosign before v2.
	LegacyPrivateKeyPEMType = "ENCRYPTED COSIGN PRIVATE KEY"
	// PublicKeyPEMType is the block type of cosign.pub (PKIX).
	PublicKeyPEMType = "PUBLIC KEY"
)

// Default file names of a cosign key pair.
const (
	PrivateKeyFile = "cosign.key"
	PublicKeyFile  = "cosign.pub"
)

// PasswordEnv is the environment variable that holds the private key's
// password, as in cosign.
const PasswordEnv = "COSIGN_PASSWORD"

// GenerateKeyPair makes an ECDSA P-256 key pair in cosign's formats: privPEM
// is the key encrypted with password (scrypt and NaCl secretbox) in an
// ENCRYPTED SIGSTORE PRIVATE KEY block, pubPEM the PKIX PUBLIC KEY block.
// An empty password is refused.
func GenerateKeyPair(password []byte) (privPEM, pubPEM []byte, err error) {
	if len(password) == 0 {
		return nil, nil, errors.New("generate key pair: the password is empty; cosign keys are stored encrypted, so set a password (" + PasswordEnv + ")")
	}
	pw := bytes.Clone(password)
	privPEM, pubPEM, err = cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc(pw))
	if err != nil {
		return nil, nil, fmt.Errorf("generate key pair: %w", err)
	}
	return privPEM, pubPEM, nil
}

// envelope is the JSON body of an encrypted cosign key
// (go-securesystemslib's encrypted format).
type envelope struct {
	KDF struct {
		Name   string `json:"name"`
		Params struct {
			N int `json:"N"`
			R int `json:"r"`
			P int `json:"p"`
		} `json:"params"`
		Salt []byte `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

// checkEnvelope rejects encrypted bodies that go-securesystemslib would
// refuse for reasons other than the password, so that a decryption failure
// afterwards means a wrong password.
func checkEnvelope(body []byte) error {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("encrypted key body is not the expected JSON: %w", err)
	}
	if env.KDF.Name != "scrypt" {
		return fmt.Errorf("key derivation %q, want scrypt", env.KDF.Name)
	}
	p := env.KDF.Params
	switch {
	case p.R == 8 && p.P == 1 && (p.N == 1<<15 || p.N == 1<<16 || p.N == 1<<17):
	default:
		return fmt.Errorf("scrypt parameters N=%d r=%d p=%d are not among those cosign writes", p.N, p.R, p.P)
	}
	if env.Cipher.Name != "nacl/secretbox" {
		return fmt.Errorf("cipher %q, want nacl/secretbox", env.Cipher.Name)
	}
	if len(env.Cipher.Nonce) != 24 {
		return fmt.Errorf("cipher nonce is %d bytes, want 24", len(env.Cipher.Nonce))
	}
	if len(env.Ciphertext) == 0 {
		return errors.New("ciphertext is empty")
	}
	return nil
}

// LoadPrivateKey decrypts a cosign private key (an ENCRYPTED SIGSTORE or the
// older ENCRYPTED COSIGN PRIVATE KEY block) with password. The key must be
// ECDSA P-256. A wrong password gives ErrWrongPassword; anything that is not
// an encrypted cosign key gives ErrKeyFormat with what was found.
func LoadPrivateKey(pemBytes, password []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found; expected an %s block (cosign.key)", ErrKeyFormat, PrivateKeyPEMType)
	}
	switch block.Type {
	case PrivateKeyPEMType, LegacyPrivateKeyPEMType:
	case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
		return nil, fmt.Errorf("%w: found an unencrypted %s block; cosign keys are encrypted: convert it with `cosign import-key-pair`", ErrKeyFormat, block.Type)
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%w: found a PKCS#8 ENCRYPTED PRIVATE KEY block; convert it with `cosign import-key-pair`", ErrKeyFormat)
	case PublicKeyPEMType:
		return nil, fmt.Errorf("%w: found a PUBLIC KEY block; signing needs the private key (cosign.key)", ErrKeyFormat)
	default:
		return nil, fmt.Errorf("%w: found a %q PEM block; expected %s", ErrKeyFormat, block.Type, PrivateKeyPEMType)
	}
	if err := checkEnvelope(block.Bytes); err != nil {
		return nil, fmt.Errorf("%w: %s block: %w", ErrKeyFormat, block.Type, err)
	}
	der, err := encrypted.Decrypt(block.Bytes, password)
	if err != nil {
		return nil, fmt.Errorf("%w (or the key file was altered): %w", ErrWrongPassword, err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: decrypted key is not PKCS#8: %w", ErrKeyFormat, err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: found %s private key, want ECDSA P-256", ErrKeyFormat, describeKey(publicOf(key)))
	}
	return ec, nil
}

// LoadPublicKey parses a PKIX PUBLIC KEY PEM block (cosign.pub) holding an
// ECDSA P-256 key. Anything else gives ErrKeyFormat with what was found.
func LoadPublicKey(pemBytes []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found; expected a %s block (cosign.pub)", ErrKeyFormat, PublicKeyPEMType)
	}
	switch block.Type {
	case PublicKeyPEMType:
	case "CERTIFICATE":
		return nil, fmt.Errorf("%w: found a CERTIFICATE block; pass the public key (cosign.pub)", ErrKeyFormat)
	case PrivateKeyPEMType, LegacyPrivateKeyPEMType, "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%w: found a private key (%s block); pass the public key (cosign.pub)", ErrKeyFormat, block.Type)
	default:
		return nil, fmt.Errorf("%w: found a %q PEM block; expected %s", ErrKeyFormat, block.Type, PublicKeyPEMType)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: PUBLIC KEY block: %w", ErrKeyFormat, err)
	}
	return p256PublicKey(key)
}

// p256PublicKey accepts only ECDSA P-256 public keys.
func p256PublicKey(key crypto.PublicKey) (*ecdsa.PublicKey, error) {
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok || ec == nil || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: found %s public key, want ECDSA P-256", ErrKeyFormat, describeKey(key))
	}
	return ec, nil
}

func publicOf(key any) crypto.PublicKey {
	if k, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		return k.Public()
	}
	return key
}

// describeKey names a key's algorithm and size for error messages.
func describeKey(key crypto.PublicKey) string {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return "an empty ECDSA"
		}
		return "an ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return "an empty RSA"
		}
		return fmt.Sprintf("an RSA %d-bit", k.N.BitLen())
	case ed25519.PublicKey:
		return "an Ed25519"
	case nil:
		return "no"
	default:
		return fmt.Sprintf("a %T", key)
	}
}

// NewSigner returns a signer that makes ASN.1 DER ECDSA signatures over the
// SHA-256 of a message, as cosign does.
func NewSigner(priv *ecdsa.PrivateKey) (signature.SignerVerifier, error) {
	if priv == nil || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("new signer: %w: want an ECDSA P-256 private key", ErrKeyFormat)
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("new signer: %w", err)
	}
	return sv, nil
}

// PasswordFromEnv returns the value of COSIGN_PASSWORD and whether it is set.
func PasswordFromEnv() ([]byte, bool) {
	v, ok := os.LookupEnv(PasswordEnv)
	if !ok {
		return nil, false
	}
	return []byte(v), true
}

// ReadPassword writes prompt to out and reads a password from the terminal
// in without echoing it. It fails when in is not a terminal.
func ReadPassword(prompt string, in *os.File, out io.Writer) ([]byte, error) {
	if in == nil || !term.IsTerminal(int(in.Fd())) {
		return nil, fmt.Errorf("read password: input is not a terminal; set %s instead", PasswordEnv)
	}
	if _, err := io.WriteString(out, prompt); err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	pw, err := term.ReadPassword(int(in.Fd()))
	_, _ = io.WriteString(out, "\n")
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	return pw, nil
}

// WriteKeyPair writes privPEM to dir/cosign.key (mode 0600) and pubPEM to
// dir/cosign.pub (mode 0644). Each file is written to a temporary file and
// then linked into place, so no file is ever half-written, and an existing
// key file is never replaced. It returns the two paths.
func WriteKeyPair(dir string, privPEM, pubPEM []byte) (keyPath, pubPath string, err error) {
	keyPath = filepath.Join(dir, PrivateKeyFile)
	pubPath = filepath.Join(dir, PublicKeyFile)
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("write key pair: %s already exists; remove it or choose another directory", p)
		}
	}
	if err := writeNew(keyPath, privPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("write key pair: %w", err)
	}
	if err := writeNew(pubPath, pubPEM, 0o644); err != nil {
		_ = os.Remove(keyPath)
		return "", "", fmt.Errorf("write key pair: %w", err)
	}
	return keyPath, pubPath, nil
}

// writeNew writes data to a temporary file next to path and links it to
// path, failing if path exists.
func writeNew(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err := os.Link(name, path); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}
