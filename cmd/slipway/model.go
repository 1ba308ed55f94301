package main

import (
	"context"
	"crypto"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/runners/artifact/registry"
	"github.com/slipway-ml/slipway/runners/models"
	"github.com/slipway-ml/slipway/runners/signing"
)

// storeFlag is the local store flag of the model commands.
type storeFlag struct{ stateDir string }

func (f *storeFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.stateDir, "state-dir", ".slipway", "state directory; the local model store is its oci/ folder")
}

func (f *storeFlag) open() (*models.Models, error) {
	return models.Open(filepath.Join(f.stateDir, "oci"))
}

func (a *app) modelCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "model", Short: "List, inspect, push, pull, sign and verify trained models",
		Long: `Model works on trained models: OCI artifacts in the CNCF ModelPack format, in
the local store (<state-dir>/oci, where slipway run packs them) or in a
registry. A local reference is a pipeline name (its newest model),
NAME@sha256:<hex> or sha256:<hex>; a registry reference is
REGISTRY/REPO@sha256:<hex> (or :TAG where a digest is not required).`}
	cmd.AddCommand(a.modelList(), a.modelInspect(), a.modelPush(), a.modelPull(), a.modelSign(), a.modelVerify())
	return cmd
}

func (a *app) modelList() *cobra.Command {
	var sf storeFlag
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the models in the local store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := sf.open()
			if err != nil {
				return err
			}
			entries, err := m.Store.List()
			if err != nil {
				return err
			}
			if a.json {
				return a.writeJSON(map[string]any{"models": entries})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tDIGEST\tMODEL\tROC_AUC\tSIGNED\tLATEST")
			for _, e := range entries {
				auc := "-"
				if v, ok := e.Metrics["roc_auc"]; ok {
					auc = fmt.Sprintf("%.4f", v)
				} else if v, ok := e.Metrics["rmse"]; ok {
					auc = fmt.Sprintf("rmse %.4g", v)
				}
				latest := ""
				if e.Latest {
					latest = "latest"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", e.Name, short12(e.Digest), e.Model, auc, yesNo(e.Signed), latest)
			}
			return tw.Flush()
		},
	}
	sf.add(cmd)
	return cmd
}

func short12(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// readPublicKey loads a pinned public key, when a path is given.
func readPublicKey(path string) (crypto.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	pub, err := signing.LoadPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}

func (a *app) modelInspect() *cobra.Command {
	var sf storeFlag
	var key, identity string
	cmd := &cobra.Command{
		Use:   "inspect REF [--key cosign.pub]",
		Short: "Show a model's metrics, lineage, files and signature status",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := sf.open()
			if err != nil {
				return err
			}
			pub, err := readPublicKey(key)
			if err != nil {
				return err
			}
			info, err := m.Inspect(cmd.Context(), args[0], pub, identity)
			if err != nil {
				return findingsErr(a, err)
			}
			if a.json {
				return a.writeJSON(info)
			}
			fmt.Fprintf(a.stdout, "model     %s\ndigest    %s\nsignature %s\n", info.Name, info.Digest, info.Signature)
			if info.SignedFor != "" {
				fmt.Fprintf(a.stdout, "signed for %s\n", info.SignedFor)
			}
			if l := info.Lineage; l != nil {
				fmt.Fprintf(a.stdout, "spec      %s\ncommit    %s\nslipway   %s\n", l.SpecDigest, orNone(l.Commit), l.SlipwayVersion)
				for _, k := range slices.Sorted(mapKeys(l.Datasets)) {
					fmt.Fprintf(a.stdout, "dataset   %s %s\n", k, l.Datasets[k])
				}
				for _, split := range slices.Sorted(mapKeys(l.Metrics)) {
					for _, k := range slices.Sorted(mapKeys(l.Metrics[split])) {
						fmt.Fprintf(a.stdout, "metric    %-10s %-22s %.6g\n", split, k, l.Metrics[split][k])
					}
				}
				for _, g := range l.Gates {
					verdict := "pass"
					if !g.Passed {
						verdict = "FAIL"
					}
					fmt.Fprintf(a.stdout, "gate      %-22s %s\n", g.Name, verdict)
				}
			}
			for _, f := range info.Files {
				fmt.Fprintf(a.stdout, "file      %-16s %8d  %s\n", f.Path, f.Size, f.MediaType)
			}
			return nil
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&key, "key", "", "cosign.pub to verify the signature with")
	cmd.Flags().StringVar(&identity, "identity", "", "repository the signature must name (default: the reference's)")
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (a *app) modelPush() *cobra.Command {
	var sf storeFlag
	cmd := &cobra.Command{
		Use:   "push NAME[@DIGEST] REGISTRY/REPO[:TAG]",
		Short: "Push a model from the local store, with its signature, to a registry",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !models.IsRemote(args[1]) {
				return usagef("%s is not a registry reference (REGISTRY/REPO[:TAG])", args[1])
			}
			m, err := sf.open()
			if err != nil {
				return err
			}
			ref, err := m.Push(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if a.json {
				return a.writeJSON(map[string]string{"pushed": ref})
			}
			fmt.Fprintln(a.stdout, ref)
			return nil
		},
	}
	sf.add(cmd)
	return cmd
}

func (a *app) modelPull() *cobra.Command {
	var sf storeFlag
	var out, key, identity string
	cmd := &cobra.Command{
		Use:   "pull REF --out DIR [--key cosign.pub]",
		Short: "Write a model's files to a directory, every blob verified",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out is required")
			}
			m, err := sf.open()
			if err != nil {
				return err
			}
			pub, err := readPublicKey(key)
			if err != nil {
				return err
			}
			art, err := m.Pull(cmd.Context(), args[0], out, pub, identity)
			if err != nil {
				return findingsErr(a, err)
			}
			if a.json {
				return a.writeJSON(map[string]string{"digest": art.Digest(), "out": out})
			}
			fmt.Fprintf(a.stdout, "pulled %s into %s\n", art.Digest(), out)
			return nil
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&out, "out", "", "directory for the model's files (required)")
	cmd.Flags().StringVar(&key, "key", "", "cosign.pub: refuse the model unless its signature verifies")
	cmd.Flags().StringVar(&identity, "identity", "", "repository the signature must name (default: the reference's)")
	return cmd
}

func (a *app) modelSign() *cobra.Command {
	var sf storeFlag
	var key, identity string
	cmd := &cobra.Command{
		Use:   "sign REF --key cosign.key",
		Short: "Sign a model's digest as cosign does (password from $COSIGN_PASSWORD)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if key == "" {
				return usagef("--key is required")
			}
			m, err := sf.open()
			if err != nil {
				return err
			}
			signer, err := a.loadSigner(key)
			if err != nil {
				return err
			}
			digest, err := m.Sign(cmd.Context(), args[0], signer, identity)
			if err != nil {
				return findingsErr(a, err)
			}
			if a.json {
				return a.writeJSON(map[string]string{"signed": digest})
			}
			fmt.Fprintf(a.stdout, "signed %s\n", digest)
			return nil
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&key, "key", "", "cosign.key (required)")
	cmd.Flags().StringVar(&identity, "identity", "", "repository the signature names (default: the reference's; required for the local store)")
	return cmd
}

func (a *app) modelVerify() *cobra.Command {
	var sf storeFlag
	var key, identity string
	cmd := &cobra.Command{
		Use:   "verify REF --key cosign.pub",
		Short: "Verify a model's signature: exit 0 only for a good signature on that exact digest",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if key == "" {
				return usagef("--key is required: verification is against a pinned public key only")
			}
			m, err := sf.open()
			if err != nil {
				return err
			}
			pub, err := readPublicKey(key)
			if err != nil {
				return err
			}
			v, err := m.Verify(cmd.Context(), args[0], pub, identity)
			if err != nil {
				return findingsErr(a, err)
			}
			if a.json {
				return a.writeJSON(map[string]any{"verified": true, "digest": v.Digest.String(), "identity": v.Identity, "signatures": len(v.Signatures)})
			}
			fmt.Fprintf(a.stdout, "verified %s: signed for %s by the key in %s (%d signature(s); no transparency log consulted)\n",
				v.Digest, v.Identity, key, len(v.Signatures))
			return nil
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&key, "key", "", "cosign.pub (required)")
	cmd.Flags().StringVar(&identity, "identity", "", "repository the signature must name (default: the reference's)")
	return cmd
}

func (a *app) registryCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "registry", Short: "Run an OCI registry for demos and tests"}
	var addr, root string
	serve := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:5000] [--root DIR]",
		Short: "Serve an in-process OCI registry on loopback, blobs on disk",
		Long: `Serve runs go-containerregistry's registry on a loopback address, with
blobs stored under --root. Manifests and tags are kept in memory only, so
they are gone when it stops. It refuses a non-loopback address.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			return registry.Serve(ctx, addr, root, registry.OnListen(func(l net.Addr) {
				fmt.Fprintf(a.stdout, "serving an OCI registry on http://%s (blobs in %s)\n", l, root)
			}))
		},
	}
	serve.Flags().StringVar(&addr, "addr", "127.0.0.1:5000", "loopback address to listen on")
	serve.Flags().StringVar(&root, "root", filepath.Join(".slipway", "registry"), "directory for the blobs")
	cmd.AddCommand(serve)
	return cmd
}

// signalContext is cancelled by Ctrl-C or SIGTERM.
func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}
