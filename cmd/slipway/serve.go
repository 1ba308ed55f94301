package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/runners/serve"
	"github.com/slipway-ml/slipway/runners/signing"
)

// modelFlags pick and check the model serve and predict use.
type modelFlags struct {
	ref, key, identity, stateDir string
	allowUnsigned                bool
}

func (f *modelFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.ref, "model", "", "the model: a local store name (its newest model), NAME@sha256:…, or REGISTRY/REPO@sha256:… (required)")
	cmd.Flags().StringVar(&f.key, "key", "", "cosign.pub the model's signature must verify against")
	cmd.Flags().StringVar(&f.identity, "identity", "", "repository the signature must name (default: the reference's)")
	cmd.Flags().StringVar(&f.stateDir, "state-dir", ".slipway", "state directory holding the local model store")
	cmd.Flags().BoolVar(&f.allowUnsigned, "allow-unsigned", false, "DEVELOPMENT ONLY: load a model without verifying its signature")
}

// load verifies (unless allowed not to), pulls and loads the model.
func (f *modelFlags) load(ctx context.Context, a *app) (*serve.Model, string, error) {
	if f.ref == "" {
		return nil, "", usagef("--model is required")
	}
	if f.key == "" && !f.allowUnsigned {
		return nil, "", usagef("--key cosign.pub is required: models are served only with a verified signature (--allow-unsigned for development)")
	}
	m, err := (&storeFlag{stateDir: f.stateDir}).open()
	if err != nil {
		return nil, "", err
	}
	pub, err := readPublicKey(f.key)
	if err != nil {
		return nil, "", err
	}
	if pub == nil {
		fmt.Fprintln(a.stderr, "slipway: WARNING: --allow-unsigned: the model's signature is NOT verified; never do this in production")
	}
	dir, err := os.MkdirTemp("", "slipway-model-")
	if err != nil {
		return nil, "", err
	}
	art, err := m.Pull(ctx, f.ref, dir, pub, f.identity)
	if err != nil {
		_ = os.RemoveAll(dir)
		if errors.Is(err, signing.ErrNoSignature) {
			return nil, "", findingsErr(a, fmt.Errorf("refusing to load %s: it is not signed", f.ref))
		}
		return nil, "", findingsErr(a, fmt.Errorf("refusing to load %s: %w", f.ref, err))
	}
	sm, err := serve.Load(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	name := f.ref
	if i := strings.IndexAny(name, "@"); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	sm.Name, sm.Digest = name, art.Digest()
	return sm, dir, nil
}

func (a *app) serveCommand() *cobra.Command {
	var mf modelFlags
	var addr string
	var maxBody int64
	cmd := &cobra.Command{
		Use:   "serve --model REF --key cosign.pub [--addr HOST:PORT]",
		Short: "Serve a model over HTTP: Open Inference Protocol v2, /predict and Prometheus metrics",
		Long: `Serve pulls the model, verifies its signature against the pinned key (it
refuses an unsigned or badly signed model unless started with
--allow-unsigned, which it logs loudly), loads the weights and the fitted
feature transform, and serves:

  GET  /v2/health/live, /v2/health/ready, /v2/models/NAME, /v2/models/NAME/ready
  POST /v2/models/NAME/infer   (Open Inference Protocol v2, one input per column)
  POST /predict                (one JSON record or a list)
  GET  /metrics                (Prometheus)

Inputs are checked against the model's input schema (400 naming the field);
bodies over the limit get 413; slow clients time out; Ctrl-C or SIGTERM
shuts it down gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			m, dir, err := mf.load(ctx, a)
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			logger := slog.New(slog.NewJSONHandler(a.stderr, nil))
			logger.Info("serving", "model", m.Name, "digest", m.Digest, "addr", addr)
			return serve.Serve(ctx, addr, serve.NewHandler(m, serve.Options{MaxBodyBytes: maxBody, Logger: logger}))
		},
	}
	mf.add(cmd)
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().Int64Var(&maxBody, "max-body", serve.DefaultMaxBodyBytes, "largest request body in bytes")
	return cmd
}

func (a *app) predictCommand() *cobra.Command {
	var mf modelFlags
	cmd := &cobra.Command{
		Use:   "predict --model REF --key cosign.pub FILE",
		Short: "Score a file of records (CSV, JSON Lines or Parquet) with a model",
		Long: `Predict loads the model as serve does (signature verified) and scores every
row of FILE, printing one score per line (-o json: the scores and the model's
digest). Columns not among the model's inputs are ignored.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, dir, err := mf.load(cmd.Context(), a)
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			t, err := readData(args[0])
			if err != nil {
				return findingsErr(a, err)
			}
			rows := make([]map[string]any, t.Rows())
			for i := range rows {
				rows[i] = map[string]any{}
			}
			for _, in := range m.Inputs {
				c := t.Column(in.Name)
				if c == nil {
					return findingsErr(a, fmt.Errorf("%s has no column %q, an input of the model", args[0], in.Name))
				}
				for i := range rows {
					switch {
					case c.IsNull(i):
						rows[i][in.Name] = nil
					case c.Numeric():
						rows[i][in.Name] = c.Number(i)
					default:
						v, _ := c.Text(i)
						rows[i][in.Name] = v
					}
				}
			}
			p, err := m.Predict(rows)
			if err != nil {
				return findingsErr(a, err)
			}
			if a.json {
				return a.writeJSON(map[string]any{"model": m.Digest, "predictions": p})
			}
			for _, v := range p {
				fmt.Fprintf(a.stdout, "%.6g\n", v)
			}
			return nil
		},
	}
	mf.add(cmd)
	return cmd
}
