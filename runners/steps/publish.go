package steps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/slipway-ml/slipway/runners/artifact/remote"
	"github.com/slipway-ml/slipway/runners/signing"
)

// errNoKey means the signing key's secret is not set.
var errNoKey = errors.New("no signing key")

// signerVerifier signs and tells its public key.
type signerVerifier interface {
	signature.Signer
	PublicKeyOf() any
}

type keySigner struct{ signature.SignerVerifier }

func (k keySigner) PublicKeyOf() any {
	pub, _ := k.PublicKey()
	return pub
}

// storeDir is the local OCI layout of trained models.
func (c Config) storeDir() string {
	if c.StoreDir != "" {
		return c.StoreDir
	}
	return filepath.Join(c.StateDir, "oci")
}

// signer loads the cosign key the spec's signing secret names: the
// secret's value is the key's PEM or the path of cosign.key, its password
// the password secret's value or $COSIGN_PASSWORD.
func (c Config) signer(keySecret, passwordSecret string) (signerVerifier, error) {
	val := c.Getenv(keySecret)
	if val == "" {
		val = c.Getenv("SLIPWAY_SIGNING_KEY")
	}
	if val == "" {
		return nil, fmt.Errorf("%w: artifact.signing.key names the secret %s, which is not set; set it to the path of cosign.key or its PEM (slipway keys generate --out DIR)", errNoKey, keySecret)
	}
	pem := []byte(val)
	if !strings.HasPrefix(strings.TrimSpace(val), "-----BEGIN") {
		b, err := os.ReadFile(val)
		if err != nil {
			return nil, fmt.Errorf("signing key (secret %s): %w", keySecret, err)
		}
		pem = b
	}
	var pw string
	for _, n := range []string{passwordSecret, "SLIPWAY_SIGNING_PASSWORD", "COSIGN_PASSWORD"} {
		if n != "" && c.Getenv(n) != "" {
			pw = c.Getenv(n)
			break
		}
	}
	priv, err := signing.LoadPrivateKey(pem, []byte(pw))
	if err != nil {
		return nil, fmt.Errorf("signing key (secret %s): %w", keySecret, err)
	}
	sv, err := signing.NewSigner(priv)
	if err != nil {
		return nil, err
	}
	return keySigner{sv}, nil
}

// pushRef is where a digest is pushed: the spec's repository, its host
// replaced by Config.Registry when set.
func (c Config) pushRef(repository, digest string) (string, error) {
	repo, err := Repository(repository, c.Registry)
	if err != nil {
		return "", err
	}
	return repo + "@" + digest, nil
}

// Repository is where models of the spec's repository are pushed: the
// repository itself, or, with registry set, the same path on that
// registry host (a local registry in tests and demos).
func Repository(repository, registry string) (string, error) {
	if repository == "" {
		return "", errors.New("push: the spec names no artifact.repository")
	}
	if registry == "" {
		return repository, nil
	}
	_, path, ok := strings.Cut(repository, "/")
	if !ok {
		return "", fmt.Errorf("push: repository %q has no path", repository)
	}
	return strings.TrimSuffix(registry, "/") + "/" + path, nil
}

// RemoteOptions are the artifact push options for a reference: plain HTTP
// for a loopback registry.
func (c Config) RemoteOptions(ref string) []remote.Option {
	if remote.IsLoopback(ref) {
		return []remote.Option{remote.Insecure()}
	}
	return nil
}

// pushImage pushes an image (a signature) to a tag.
func pushImage(ctx context.Context, img v1.Image, ref string, insecure bool) error {
	var opts []name.Option
	if insecure && remote.IsLoopback(ref) {
		opts = append(opts, name.Insecure)
	}
	tag, err := name.NewTag(ref, opts...)
	if err != nil {
		return err
	}
	return ggcr.Write(tag, img, ggcr.WithContext(ctx), ggcr.WithAuthFromKeychain(authn.DefaultKeychain))
}
