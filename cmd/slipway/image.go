package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/compiler/version"
	"github.com/slipway-ml/slipway/runners/image"
	"github.com/slipway-ml/slipway/runners/pipeline"
	"github.com/slipway-ml/slipway/runners/signing"
)

func (a *app) imageCommand() *cobra.Command {
	img := &cobra.Command{Use: "image", Short: "Build the Slipway runtime image"}
	var (
		push, layout, binary, platform, key, created, revision, source, lockDir string
	)
	build := &cobra.Command{
		Use:   "build [--push REF] [--layout DIR]",
		Short: "Build the image the remote targets run, without Docker",
		Long: `Build makes the OCI image that the Argo, GitHub Actions and Helm targets run:
the static slipway binary (this one, or --binary) and CA certificates on an
empty base, as ko does. The same binary and --created give the same digest.
--push REF pushes it (auth from the Docker config and the environment) and,
with --key, signs the pushed digest as cosign would; --layout DIR writes it to
an OCI image layout. The binary must be static: build it with CGO_ENABLED=0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				bin []byte
				err error
			)
			if binary != "" {
				bin, err = os.ReadFile(binary)
			} else {
				bin, err = image.CurrentBinary()
			}
			if err != nil {
				return err
			}
			opts := image.Options{Binary: bin, Platform: platform, Version: version.Version, Revision: revision, Source: source}
			if created != "" {
				if opts.Created, err = time.Parse(time.RFC3339, created); err != nil {
					return usagef("--created %q: want an RFC 3339 time", created)
				}
			}
			im, err := image.Build(opts)
			if err != nil {
				return err
			}
			d, err := im.Digest()
			if err != nil {
				return err
			}
			out := map[string]string{"digest": d.String()}
			if layout != "" {
				if err := image.WriteLayout(layout, im, "slipway:"+version.Version); err != nil {
					return err
				}
				out["layout"] = filepath.Clean(layout)
			}
			if push != "" {
				ref, err := image.Push(cmd.Context(), im, push, remote.WithAuthFromKeychain(authn.DefaultKeychain))
				if err != nil {
					return err
				}
				out["pushed"] = ref.String()
				if lockDir != "" {
					// The reference as specs write it: REF without a digest.
					if _, err := pipeline.LockImage(lockDir, push, ref.DigestStr()); err != nil {
						return err
					}
					out["locked"] = filepath.Join(lockDir, "slipway.lock")
				}
				if key != "" {
					if err := a.signRemote(cmd, ref.String(), key); err != nil {
						return err
					}
					out["signed"] = ref.String()
				}
			} else if key != "" || lockDir != "" {
				return usagef("--key and --lock need --push REF")
			}
			if a.json {
				return a.writeJSON(out)
			}
			fmt.Fprintf(a.stdout, "image %s\n", d)
			for _, k := range []string{"layout", "pushed", "signed", "locked"} {
				if v, ok := out[k]; ok {
					fmt.Fprintf(a.stdout, "%s %s\n", k, v)
				}
			}
			return nil
		},
	}
	f := build.Flags()
	f.StringVar(&push, "push", "", "push to this reference (REGISTRY/REPO[:TAG])")
	f.StringVar(&layout, "layout", "", "write to this OCI image layout directory")
	f.StringVar(&binary, "binary", "", "the static slipway binary to put in the image (default: this one)")
	f.StringVar(&platform, "platform", "", "linux/amd64 or linux/arm64 (default: the binary's)")
	f.StringVar(&key, "key", "", "cosign.key to sign the pushed digest with (password from $COSIGN_PASSWORD)")
	f.StringVar(&created, "created", "", "creation time recorded in the image, RFC 3339 (default: the Unix epoch, for reproducible digests)")
	f.StringVar(&revision, "revision", "", "source revision annotation (the Git commit)")
	f.StringVar(&source, "source", "", "source repository annotation")
	f.StringVar(&lockDir, "lock", "", "record the pushed digest in DIR/slipway.lock, so compiled targets run REF@digest")
	img.AddCommand(build)
	return img
}

// signRemote signs a pushed digest reference with a cosign key file.
func (a *app) signRemote(cmd *cobra.Command, ref, keyFile string) error {
	d, err := signing.ParseDigestReference(ref)
	if err != nil {
		return usagef("%v", err)
	}
	signer, err := a.loadSigner(keyFile)
	if err != nil {
		return err
	}
	return signing.SignRemote(cmd.Context(), d, signer, remote.WithAuthFromKeychain(authn.DefaultKeychain))
}

// loadSigner reads a cosign private key, its password from the
// environment or a prompt.
func (a *app) loadSigner(keyFile string) (signature.SignerVerifier, error) {
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	pw, err := a.password(false)
	if err != nil {
		return nil, err
	}
	priv, err := signing.LoadPrivateKey(pem, pw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	return signing.NewSigner(priv)
}
