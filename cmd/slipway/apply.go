package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/compiler/gitfs"
	"github.com/slipway-ml/slipway/compiler/plan"
	"github.com/slipway-ml/slipway/runners/apply"
	"github.com/slipway-ml/slipway/runners/argosubmit"
	"github.com/slipway-ml/slipway/runners/gitops"
)

// deliveryFlags say where apply commits rendered charts.
type deliveryFlags struct {
	dir, repo, branch, path string
	push                    bool
}

func (f *deliveryFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "gitops-dir", "", "commit the rendered charts under this folder of the current repository (DIR/<pipeline>)")
	cmd.Flags().StringVar(&f.repo, "gitops-repo", "", "commit and push the rendered charts to this repository (token from $SLIPWAY_GITOPS_TOKEN)")
	cmd.Flags().StringVar(&f.branch, "gitops-branch", "main", "branch of --gitops-repo")
	cmd.Flags().StringVar(&f.path, "gitops-path", "deploy", "folder of --gitops-repo that Slipway owns (PATH/<pipeline>)")
	cmd.Flags().BoolVar(&f.push, "gitops-push", false, "with --gitops-dir, also push the branch to origin")
}

func (a *app) applyCommand() *cobra.Command {
	var (
		dir, base, head, stateDir, registry string
		approve                             []string
		push                                bool
		df                                  deliveryFlags
		executor, argoServer, argoNamespace string
		argoParams                          []string
		argoInsecure, helmInstall           bool
		kubeconfig, kubeContext             string
	)
	cmd := &cobra.Command{
		Use:   "apply [PLAN.json] [--dir DIR] [--base REV]",
		Short: "Carry out a plan: train, gate, sign, promote and deliver",
		Long: `Apply refuses a saved plan whose inputs changed since it was made (make a new
one), or, without a plan file, plans --dir against --base itself. For every
changed pipeline it runs the training side locally (gates against the
champion), packs, signs and (with --push or --registry) pushes the model,
then promotes it through the environments in their promoteAfter order —
environments with approval: true only with --approve ENV — recording each
champion in slipway.lock, and commits the rendered Helm charts to the GitOps
folder or repository that Argo CD or Flux syncs. A lock per pipeline keeps
two applies apart; an apply of a state already applied changes nothing.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := apply.Options{Dir: dir, Base: base, Head: head, StateDir: stateDir, Approve: approve, Push: push, Registry: registry}
			if len(args) == 1 {
				b, err := os.ReadFile(args[0])
				if err != nil {
					return usagef("read plan: %v", err)
				}
				if o.Plan, err = plan.Unmarshal(b); err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
			} else if base == "" {
				return usagef("give a plan file, or --base REV to plan against")
			}
			var err error
			if o.Deliver, err = df.deliverer(cmd); err != nil {
				return err
			}
			if helmInstall {
				o.Helm = &apply.HelmOptions{Kubeconfig: kubeconfig, KubeContext: kubeContext, Atomic: true, Timeout: 5 * time.Minute}
			}
			switch executor {
			case "local":
			case "argo":
				if argoServer == "" {
					return usagef("--executor argo needs --argo-server URL")
				}
				ao := &argosubmit.Options{Server: argoServer, Namespace: argoNamespace, Token: os.Getenv("SLIPWAY_ARGO_TOKEN"),
					Insecure: argoInsecure, Parameters: map[string]string{}}
				for _, kv := range argoParams {
					k, v, ok := strings.Cut(kv, "=")
					if !ok {
						return usagef("--argo-param %q: want NAME=VALUE", kv)
					}
					ao.Parameters[k] = v
				}
				o.Argo = ao
			default:
				return usagef("--executor must be local or argo, not %q", executor)
			}
			if !a.json {
				o.Log = func(format string, args ...any) { fmt.Fprintf(a.stderr, format+"\n", args...) }
			}
			res, err := apply.Apply(cmd.Context(), o)
			var se *plan.StaleError
			if errors.As(err, &se) {
				return findingsErr(a, err)
			}
			if err != nil {
				if res != nil && len(res.Pipelines) > 0 {
					return findingsErr(a, err)
				}
				return err
			}
			if a.json {
				return a.writeJSON(res)
			}
			if res.NoOp {
				fmt.Fprintln(a.stdout, "No changes. Nothing to apply.")
				return nil
			}
			for _, p := range res.Pipelines {
				fmt.Fprintf(a.stdout, "%s: model %s (run %s)\n", p.Name, p.Model, p.RunID)
				for _, pr := range p.Promotions {
					from := pr.From
					if from == "" {
						from = "(none)"
					}
					fmt.Fprintf(a.stdout, "  %s: %s → %s\n", pr.Environment, from, pr.To)
				}
				if len(p.Promotions) == 0 {
					fmt.Fprintln(a.stdout, "  no environment changed: already applied")
				}
				for _, w := range p.Waiting {
					fmt.Fprintf(a.stdout, "  waiting: %s\n", w)
				}
				if p.Delivered {
					fmt.Fprintln(a.stdout, "  delivered the rendered charts")
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "the pipeline package directory")
	cmd.Flags().StringVar(&base, "base", "", "without a plan file: the revision to plan against")
	cmd.Flags().StringVar(&head, "head", "", "without a plan file: the revision to apply (default: the working tree)")
	cmd.Flags().StringVar(&stateDir, "state-dir", ".slipway", "the runner's state directory")
	cmd.Flags().StringSliceVar(&approve, "approve", nil, "environments whose approval is given (repeatable)")
	cmd.Flags().BoolVar(&push, "push", false, "push models and signatures to the spec's repository")
	cmd.Flags().StringVar(&registry, "registry", "", "push to this registry host instead (implies --push)")
	cmd.Flags().BoolVar(&helmInstall, "helm", false, "install each promoted environment's release with Helm's SDK (helm upgrade --install --atomic)")
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig for --helm (default $KUBECONFIG or ~/.kube/config)")
	cmd.Flags().StringVar(&kubeContext, "kube-context", "", "kubeconfig context for --helm (default: the current one)")
	cmd.Flags().StringVar(&executor, "executor", "local", "where the changed pipelines run: local (this machine) or argo")
	cmd.Flags().StringVar(&argoServer, "argo-server", "", "Argo Server URL for --executor argo (token from $SLIPWAY_ARGO_TOKEN)")
	cmd.Flags().StringVar(&argoNamespace, "argo-namespace", "default", "namespace the Workflow is submitted to")
	cmd.Flags().StringArrayVar(&argoParams, "argo-param", nil, "Workflow parameter NAME=VALUE, e.g. repo=https://github.com/acme/ml (repeatable)")
	cmd.Flags().BoolVar(&argoInsecure, "argo-insecure", false, "skip TLS verification of the Argo Server (test servers only)")
	df.add(cmd)
	return cmd
}

func (a *app) rollbackCommand() *cobra.Command {
	var dir, stateDir string
	var df deliveryFlags
	cmd := &cobra.Command{
		Use:   "rollback PIPELINE ENV [--dir DIR]",
		Short: "Restore the previous champion of a pipeline in an environment",
		Long: `Rollback makes the model that served before the current champion the
champion again in slipway.lock, and delivers the charts that serve it, as
apply does.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			deliver, err := df.deliverer(cmd)
			if err != nil {
				return err
			}
			pr, err := apply.Rollback(cmd.Context(), dir, args[0], args[1], stateDir, deliver)
			if err != nil {
				if strings.Contains(err.Error(), "no earlier champion") || strings.Contains(err.Error(), "has no champion") {
					return findingsErr(a, err)
				}
				return err
			}
			if a.json {
				return a.writeJSON(pr)
			}
			fmt.Fprintf(a.stdout, "%s %s: %s → %s\n", args[0], pr.Environment, pr.From, pr.To)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "the pipeline package directory")
	cmd.Flags().StringVar(&stateDir, "state-dir", ".slipway", "the runner's state directory")
	df.add(cmd)
	return cmd
}

// deliverer builds the GitOps deliverer the flags ask for, or nil (then
// the spec's deploy.delivery decides).
func (f *deliveryFlags) deliverer(cmd *cobra.Command) (apply.Deliverer, error) {
	if f.dir != "" && f.repo != "" {
		return nil, usagef("give --gitops-dir or --gitops-repo, not both")
	}
	var t gitops.Target
	switch {
	case f.dir != "":
		abs, err := filepath.Abs(f.dir)
		if err != nil {
			return nil, err
		}
		repo, err := gitfs.Open(abs)
		if err != nil {
			return nil, usagef("--gitops-dir %s is not in a Git repository", f.dir)
		}
		rel, err := repo.Rel(abs)
		if err != nil {
			return nil, err
		}
		if t, err = apply.LocalTarget(abs, rel); err != nil {
			return nil, err
		}
		t.Push = f.push
	case f.repo != "":
		t = gitops.Target{URL: f.repo, Branch: f.branch, Dir: f.path}
	default:
		return nil, nil
	}
	if tok := os.Getenv("SLIPWAY_GITOPS_TOKEN"); tok != "" {
		t.Auth = gitops.TokenAuth(tok)
	}
	return apply.GitOps(t), nil
}
