package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/backends/helm"
	"github.com/slipway-ml/slipway/compiler/lock"
	"github.com/slipway-ml/slipway/runners/monitor"
	"github.com/slipway-ml/slipway/runners/pii"
	"github.com/slipway-ml/slipway/runners/pipeline"
	"github.com/slipway-ml/slipway/runners/serve"
	"github.com/slipway-ml/slipway/runners/signing"
)

// modelFlags pick and check the model serve and predict use.
type modelFlags struct {
	ref, key, identity, stateDir string
	lockDir, env                 string
	allowUnsigned                bool
}

func (f *modelFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.ref, "model", "", "the model: a pipeline name (its champion in --lock-dir's slipway.lock, else the local store's newest), NAME@sha256:…, or REGISTRY/REPO@sha256:… (required)")
	cmd.Flags().StringVar(&f.key, "key", "", "cosign.pub the model's signature must verify against")
	cmd.Flags().StringVar(&f.identity, "identity", "", "repository the signature must name (default: the reference's)")
	cmd.Flags().StringVar(&f.stateDir, "state-dir", ".slipway", "state directory holding the local model store")
	cmd.Flags().BoolVar(&f.allowUnsigned, "allow-unsigned", false, "DEVELOPMENT ONLY: load a model without verifying its signature")
	cmd.Flags().StringVar(&f.lockDir, "lock-dir", ".", "with a bare pipeline name as --model: the package whose slipway.lock names its champion")
	cmd.Flags().StringVar(&f.env, "env", "", "with a bare pipeline name as --model: the environment whose champion is served (default: the only one, or production)")
}

// champion resolves a bare pipeline name to NAME@DIGEST of its champion in
// the package's slipway.lock: --env's, or the only environment's, or
// production's. Without a lock or a champion it is left as it is (the
// store's newest model of that name).
func (f *modelFlags) champion() (string, error) {
	if strings.ContainsAny(f.ref, "@/:") {
		return f.ref, nil
	}
	path := filepath.Join(f.lockDir, lock.Filename)
	if _, err := os.Stat(path); err != nil {
		if f.env != "" {
			return "", usagef("--env %s: no %s to read the champion from", f.env, path)
		}
		return f.ref, nil
	}
	l, err := pipeline.ReadLockFile(path)
	if err != nil {
		return "", err
	}
	champs := l.Champions[f.ref]
	env := f.env
	if env == "" {
		switch {
		case len(champs) == 1:
			for e := range champs {
				env = e
			}
		case champs["production"].Digest != "":
			env = "production"
		case len(champs) == 0:
			return f.ref, nil
		default:
			return "", usagef("%s has champions in %d environments: name one with --env", f.ref, len(champs))
		}
	}
	c, ok := champs[env]
	if !ok || c.Digest == "" {
		return "", usagef("%s names no champion of %s in %s", path, f.ref, env)
	}
	return f.ref + "@" + c.Digest, nil
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
	ref, err := f.champion()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	art, err := m.Pull(ctx, ref, dir, pub, f.identity)
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
	var (
		mf                modelFlags
		addr              string
		maxBody           int64
		logInputs         bool
		dir, pipelineName string
		window, minRows   int
		interval          time.Duration
		rf                retrainFlags
	)
	pf := &policyFlag{names: []string{"none"}}
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
  GET  /v2/models/NAME/drift   (the last live drift report)
  GET  /metrics                (Prometheus)

Inputs are checked against the model's input schema (400 naming the field);
bodies over the limit get 413; slow clients time out; Ctrl-C or SIGTERM
shuts it down gracefully.

Live drift: the last --drift-window scored records are compared with the
model's training sample every --drift-interval and exported as gauges
(slipway_feature_drift_score, slipway_dataset_drift_share, ...). The method
and thresholds come from the spec's monitoring.drift (--dir), or from
$SLIPWAY_DRIFT (the Helm chart sets it), or Evidently's defaults. With
--trigger, dataset drift fires the spec's retraining once per drift episode.

Request logs are JSON lines; --log-inputs adds the scored records, with the
model's PII fields left out or pseudonymised with the key in $SLIPWAY_PII_KEY.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			if rf.on && dir == "" {
				return usagef("--trigger needs --dir: the spec's monitoring.retraining decides what is fired")
			}
			rf.stateDir = mf.stateDir
			if dir != "" && !cmd.Flags().Changed("lock-dir") {
				mf.lockDir = dir
			}
			drift := serve.DriftOptions{Window: window, MinRows: minRows, Interval: interval}
			var rt *retrainer
			if dir != "" {
				res, p, err := a.compilePipeline(ctx, dir, pipelineName, pf)
				if err != nil {
					return err
				}
				drift.Config = monitor.ConfigFromSpec(p.Monitoring)
				if rf.on {
					if rt, err = newRetrainer(res, p, &rf, a.stderr); err != nil {
						return err
					}
				}
			} else if env := os.Getenv("SLIPWAY_DRIFT"); env != "" {
				cfg, err := driftFromEnv(env)
				if err != nil {
					return usagef("$SLIPWAY_DRIFT: %v", err)
				}
				drift.Config = cfg
			}
			m, mdir, err := mf.load(ctx, a)
			if err != nil {
				return err
			}
			defer os.RemoveAll(mdir)
			logger := slog.New(slog.NewJSONHandler(a.stderr, nil))
			if rt != nil {
				drift.OnReport = func(rep *monitor.Report) {
					if err := rt.observe(ctx, rep); err != nil {
						logger.Error("retraining trigger failed", "error", err.Error())
					}
				}
			}
			o := serve.Options{MaxBodyBytes: maxBody, Logger: logger, LogInputs: logInputs, Drift: drift}
			if k := os.Getenv(pii.KeyEnv); k != "" {
				o.PIIKey = []byte(k)
			}
			srv, err := serve.NewServer(m, o)
			if err != nil {
				return err
			}
			logger.Info("serving", "model", m.Name, "digest", m.Digest, "addr", addr)
			return serve.Serve(ctx, addr, srv)
		},
	}
	mf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (\":8080\": every interface)")
	f.Int64Var(&maxBody, "max-body", serve.DefaultMaxBodyBytes, "largest request body in bytes")
	f.BoolVar(&logInputs, "log-inputs", false, "log the scored records (PII fields left out or pseudonymised)")
	f.StringVar(&dir, "dir", "", "pipeline package whose monitoring section configures drift and retraining")
	f.StringVarP(&pipelineName, "pipeline", "p", "", "pipeline in --dir (default: the only one)")
	f.IntVar(&window, "drift-window", serve.DefaultDriftWindow, "scored records kept for live drift")
	f.IntVar(&minRows, "drift-min-rows", serve.DefaultDriftMinRows, "records needed before the first drift comparison")
	f.DurationVar(&interval, "drift-interval", serve.DefaultDriftInterval, "time between drift comparisons")
	rf.add(cmd)
	return cmd
}

// driftFromEnv reads $SLIPWAY_DRIFT, the Helm chart's monitoring.drift
// values (helm.Drift).
func driftFromEnv(s string) (monitor.Config, error) {
	var d helm.Drift
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return monitor.Config{}, err
	}
	cfg := monitor.Config{Method: d.Method, Share: d.Share, Threshold: d.Threshold}
	for name, t := range d.Features {
		if cfg.Features == nil {
			cfg.Features = map[string]monitor.FeatureConfig{}
		}
		cfg.Features[name] = monitor.FeatureConfig{Threshold: t}
	}
	return cfg, nil
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
