// Package steps holds what each kind of pipeline step does when the local
// runner (package local) or `slipway step` runs it: fetch a dataset, check
// it, split it and fit the features, train, evaluate, and gate the model
// against its thresholds and the current champion.
//
// Steps hand data to each other through the files in their output
// directories:
//
//	raw/<dataset>      data.<format> as fetched, source.json
//	dataset/<dataset>  data.parquet (typed, checked), checks.json
//	features           features.json (fitted transform), split.json, data.parquet (PII handled)
//	model              model.bin, train.json
//	evaluation         evaluation.json
package steps

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway-ml/slipway/backends/output"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/lock"
	"github.com/slipway-ml/slipway/runners/local"
)

// Config is what the steps need from their surroundings.
type Config struct {
	// StateDir is the runner's state directory (.slipway); fetched data
	// is cached under StateDir/data.
	StateDir string
	// Lock is the package's slipway.lock (champions and dataset digests).
	Lock *lock.Lock
	// Getenv reads secrets and settings; default os.Getenv.
	Getenv func(string) string
	// FetchOptions are extra options for the fetcher (tests use them to
	// reach loopback servers).
	FetchOptions []FetchOption
	// StoreDir is the local OCI layout of models. Default StateDir/oci.
	StoreDir string
	// Version is Slipway's version, recorded in packed models.
	Version string
	// Revision is the Git commit the spec comes from, or "".
	Revision string
	// Push publishes packed models (and their signatures) to the spec's
	// artifact.repository.
	Push bool
	// Registry, when set, replaces the repository's registry host (for
	// a local registry in tests and demos).
	Registry string
	// Retrain fires a retraining when a monitor step finds drift; nil
	// makes such a firing fail with the reason.
	Retrain Retrainer
}

// Executors returns the executor of every step kind the local runner runs.
func Executors(c Config) map[ir.Kind]local.Executor {
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	return map[ir.Kind]local.Executor{
		ir.KindFetch:    &fetchStep{c: c},
		ir.KindValidate: &validateStep{c: c},
		ir.KindFeatures: &featuresStep{c: c},
		ir.KindTrain:    &trainStep{c: c},
		ir.KindEvaluate: &evaluateStep{c: c},
		ir.KindPackage:  &packageStep{c: c},
		ir.KindMonitor:  &monitorStep{c: c},
	}
}

// params decodes a step's parameters into T. Parameters are typed when
// the step comes straight from the compiler, and generic JSON when it was
// read back from a plan file.
func params[T any](s *ir.Step) (T, error) {
	var out T
	if p, ok := s.Params.(T); ok {
		return p, nil
	}
	if p, ok := s.Params.(*T); ok && p != nil {
		return *p, nil
	}
	b, err := json.Marshal(s.Params)
	if err != nil {
		return out, fmt.Errorf("step %s: parameters: %w", s.ID, err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("step %s: parameters: %w", s.ID, err)
	}
	return out, nil
}

// input returns the directory of a named input.
func input(sc *local.StepContext, name string) (string, error) {
	d, ok := sc.Inputs[name]
	if !ok {
		return "", fmt.Errorf("step %s has no input %q", sc.Step.ID, name)
	}
	return d, nil
}

// outputDir returns the directory of a named output.
func outputDir(sc *local.StepContext, name string) (string, error) {
	d, ok := sc.Outputs[name]
	if !ok {
		return "", fmt.Errorf("step %s has no output %q", sc.Step.ID, name)
	}
	return d, nil
}

// writeJSON writes v, indented, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return output.WriteFile(path, append(b, '\n'))
}

// readJSON reads a JSON file into v.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// linkOrCopy makes dst the same content as src: a hard link when the file
// system allows, else a copy.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return output.WriteFile(dst, b)
}

// permanent marks an error a retry cannot fix (bad data, a checksum
// mismatch), keeping its message.
func permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

type permanentError struct{ error }

func (e permanentError) Is(target error) bool { return target == local.ErrPermanent }
func (e permanentError) Unwrap() error        { return e.error }
