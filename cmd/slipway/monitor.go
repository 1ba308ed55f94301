package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/artifact"
	"github.com/slipway-ml/slipway/runners/dataset"
	"github.com/slipway-ml/slipway/runners/monitor"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// compilePipeline compiles the package in dir (printing its diagnostics
// when it is invalid) and picks the named pipeline, or its only one.
func (a *app) compilePipeline(ctx context.Context, dir, name string, pf *policyFlag) (*compiler.Result, *spec.Pipeline, error) {
	res, ds, err := a.compileDir(ctx, dir, pf)
	if err != nil {
		return nil, nil, err
	}
	if res == nil {
		a.printDiagnostics(ds)
		return nil, nil, findingsError{"invalid"}
	}
	p, err := pickPipeline(res.Spec, name)
	if err != nil {
		return nil, nil, err
	}
	return res, p, nil
}

// pickPipeline returns the named pipeline of a spec, or its only one.
func pickPipeline(s *spec.Spec, name string) (*spec.Pipeline, error) {
	if name != "" {
		p, ok := s.Pipelines[name]
		if !ok {
			return nil, usagef("no pipeline %q in the package", name)
		}
		return p, nil
	}
	if len(s.Pipelines) != 1 {
		return nil, usagef("the package has %d pipelines: name one with --pipeline", len(s.Pipelines))
	}
	for _, p := range s.Pipelines {
		return p, nil
	}
	return nil, usagef("the package has no pipeline")
}

func (a *app) monitorCommand() *cobra.Command {
	var (
		reference, current, out, dir, pipelineName, method string
		threshold, share                                   float64
		exclude                                            []string
		rf                                                 retrainFlags
		key, identity                                      string
	)
	pf := &policyFlag{names: []string{"none"}}
	cmd := &cobra.Command{
		Use:   "monitor --reference FILE|MODEL --current FILE|URL [--dir DIR] [--out DIR] [--trigger]",
		Short: "Compare current data with a reference: drift per feature and for the dataset",
		Long: `Monitor computes the drift of every feature of --current against --reference
(CSV, JSON Lines or Parquet, by extension; or a model, whose artifact carries
a sample of its training rows) with Evidently's methods and
defaults: PSI, Kolmogorov-Smirnov, Wasserstein, Jensen-Shannon, chi-squared
or z. With --dir, the pipeline's monitoring.drift section chooses the method,
thresholds and the share of drifted features that makes the dataset drift,
and its label and PII columns are left out. --out writes drift.json and a
self-contained drift.html.

With --trigger (and --dir), dataset drift fires the retraining the spec
declares (monitoring.retraining.via): a repository_dispatch event to GitHub,
a submission of the compiled Argo Workflow, or a local run. It fires once
per drift episode (until a run finds no drift), never twice within
monitoring.retraining.cooldown; the episode is kept in --trigger-state, so
a monitor run on a schedule does not fire again while drift persists.

Exit codes: 0 no dataset drift, 1 dataset drift (or bad input), 2 usage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if reference == "" || current == "" {
				return usagef("--reference and --current are required")
			}
			cfg := monitor.Config{Reference: filepath.Base(reference), Current: filepath.Base(current)}
			var rt *retrainer
			if rf.on && dir == "" {
				return usagef("--trigger needs --dir: the spec's monitoring.retraining decides what is fired")
			}
			if dir != "" {
				res, p, err := a.compilePipeline(cmd.Context(), dir, pipelineName, pf)
				if err != nil {
					return err
				}
				if p.Monitoring != nil {
					cfg = monitor.ConfigFromSpec(p.Monitoring)
					cfg.Reference, cfg.Current = filepath.Base(reference), filepath.Base(current)
				}
				cfg.Exclude = append(cfg.Exclude, p.Features.Label)
				for _, ds := range p.Datasets {
					for name, c := range ds.Columns {
						if c.PII {
							cfg.Exclude = append(cfg.Exclude, name)
						}
					}
				}
				if rf.on {
					log := a.stdout
					if a.json {
						log = a.stderr
					}
					if rt, err = newRetrainer(res, p, &rf, log); err != nil {
						return err
					}
				}
			}
			if method != "" {
				cfg.Method = method
			}
			if threshold != 0 {
				cfg.Threshold = threshold
			}
			if share != 0 {
				cfg.Share = share
			}
			cfg.Exclude = append(cfg.Exclude, exclude...)
			ref, err := a.readReference(cmd.Context(), reference, rf.stateDir, key, identity)
			if err != nil {
				return err
			}
			// Current data from a URL is fetched with the hardened fetcher
			// into the data cache.
			curPath, curName, err := monitor.LocateCurrent(cmd.Context(), current, ".", filepath.Join(rf.stateDir, "data"))
			if err != nil {
				return findingsErr(a, err)
			}
			if _, err := os.Stat(curPath); err != nil {
				return findingsErr(a, fmt.Errorf("read %s: %w", current, err))
			}
			cur, err := dataset.ReadFile(curPath, dataset.FormatOf(curName), nil)
			if err != nil {
				return findingsErr(a, err)
			}
			rep, err := monitor.Compare(ref, cur, cfg)
			if err != nil {
				return findingsErr(a, err)
			}
			if out != "" {
				if err := monitor.Write(out, rep); err != nil {
					return err
				}
			}
			if a.json {
				_ = a.writeJSON(rep)
			} else {
				drifted := 0
				for _, f := range rep.Features {
					mark := "ok     "
					if f.Drifted {
						mark, drifted = "DRIFTED", drifted+1
					}
					fmt.Fprintf(a.stdout, "  %s %-32s %-12s %.4g (threshold %.4g)\n", mark, f.Feature, f.Method, f.Statistic, f.Threshold)
				}
				verdict := "no dataset drift"
				if rep.Drifted {
					verdict = "DATASET DRIFT"
				}
				fmt.Fprintf(a.stdout, "%s: %d of %d features drifted (%.0f%%; the dataset drifts at %.0f%%)\n",
					verdict, drifted, len(rep.Features), 100*rep.ShareDrifted, 100*rep.Share)
				if out != "" {
					fmt.Fprintf(a.stdout, "report: %s\n", filepath.Join(out, monitor.HTMLFile))
				}
			}
			if rt != nil {
				if err := rt.observe(cmd.Context(), rep); err != nil {
					return err
				}
			}
			if rep.Drifted {
				return findingsError{"drift"}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&reference, "reference", "", "reference data: a file (CSV, JSONL or Parquet), or a model (a local store name, NAME@sha256:…, REGISTRY/REPO@sha256:…) whose training sample is used")
	f.StringVar(&current, "current", "", "current data, e.g. recent inputs (CSV, JSONL or Parquet): a file or an https:// URL")
	f.StringVar(&out, "out", "", "directory for drift.json and drift.html")
	f.StringVar(&dir, "dir", "", "pipeline package whose monitoring.drift section configures the comparison")
	f.StringVarP(&pipelineName, "pipeline", "p", "", "pipeline in --dir (default: the only one)")
	f.StringVar(&method, "method", "", "psi, ks, wasserstein, jsd, chisquare or z (default: the spec's, or Evidently's choice per feature)")
	f.Float64Var(&threshold, "threshold", 0, "drift threshold of the method (default: the spec's or the method's)")
	f.Float64Var(&share, "share", 0, "share of drifted features that makes the dataset drift (default: the spec's, or 0.5)")
	f.StringSliceVar(&exclude, "exclude", nil, "columns to leave out")
	f.StringVar(&key, "key", "", "with a model REF as --reference: cosign.pub its signature must verify against")
	f.StringVar(&identity, "identity", "", "with --key: repository the signature must name (default: the reference's)")
	f.StringVar(&rf.stateDir, "state-dir", ".slipway", "state directory: the local model store, drift episode state")
	rf.add(cmd)
	return cmd
}

// readData reads a data file, its format from its extension.
func readData(path string) (*table.Table, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return dataset.ReadFile(path, dataset.FormatOf(path), nil)
}

// readReference reads the reference data: a file, or else a model whose
// artifact carries its training sample (artifact.ReferenceFile), pulled
// from the local store or a registry and, with a key, verified.
func (a *app) readReference(ctx context.Context, ref, stateDir, key, identity string) (*table.Table, error) {
	if _, err := os.Stat(ref); err == nil {
		t, err := readData(ref)
		if err != nil {
			return nil, findingsErr(a, err)
		}
		return t, nil
	}
	m, err := (&storeFlag{stateDir: stateDir}).open()
	if err != nil {
		return nil, err
	}
	pub, err := readPublicKey(key)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "slipway-reference-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	art, err := m.Pull(ctx, ref, dir, pub, identity)
	if err != nil {
		return nil, findingsErr(a, fmt.Errorf("--reference %s: no such file, and as a model: %w", ref, err))
	}
	path := filepath.Join(dir, artifact.ReferenceFile)
	if _, err := os.Stat(path); err != nil {
		return nil, findingsErr(a, fmt.Errorf("--reference %s: the model %s carries no training sample (%s); give the training data as a file", ref, art.Digest(), artifact.ReferenceFile))
	}
	t, err := readData(path)
	if err != nil {
		return nil, findingsErr(a, fmt.Errorf("--reference %s: %w", ref, err))
	}
	return t, nil
}
