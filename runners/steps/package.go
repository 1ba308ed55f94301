package steps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/runners/artifact"
	"github.com/slipway-ml/slipway/runners/artifact/remote"
	"github.com/slipway-ml/slipway/runners/artifact/store"
	"github.com/slipway-ml/slipway/runners/dataset"
	"github.com/slipway-ml/slipway/runners/local"
	"github.com/slipway-ml/slipway/runners/report"
	"github.com/slipway-ml/slipway/runners/signing"
)

// Package is the package step's output, package.json.
type Package struct {
	// Name is the model's name in the local store (the pipeline's).
	Name string `json:"name"`
	// Digest is the artifact's manifest digest.
	Digest string `json:"digest"`
}

// Published is what the package step's check did, in the run
// directory's package.json.
type Published struct {
	Package
	// Signed reports a signature made or found for the digest with the
	// configured key.
	Signed bool `json:"signed"`
	// Pushed is the digest reference pushed to, or "".
	Pushed string `json:"pushed,omitempty"`
	// Note says why the model was not signed or pushed.
	Note string `json:"note,omitempty"`
}

type packageStep struct{ c Config }

// Execute packs the model as a ModelPack OCI artifact into the local
// store. The pack is reproducible: the same model, evaluation and lineage
// give the same digest. Signing and pushing are in Check, because they
// depend on keys and flags rather than on the step's inputs.
func (s *packageStep) Execute(ctx context.Context, sc *local.StepContext) error {
	for _, in := range []string{"model", "features", "evaluation"} {
		if _, err := input(sc, in); err != nil {
			return err
		}
	}
	out, err := outputDir(sc, "package")
	if err != nil {
		return err
	}
	// The model's own report: deterministic, without run ids or times.
	stage := filepath.Join(out, "report")
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return err
	}
	rep := &report.Report{APIVersion: report.APIVersion, Pipeline: sc.Pipeline.Name, Status: report.StatusSucceeded}
	rep.Lineage = report.Lineage{SpecDigest: sc.Pipeline.SpecDigest, SlipwayVersion: s.c.Version, Datasets: []report.DatasetLineage{}}
	FillReport(rep, Dirs{Model: sc.Inputs["model"], Evaluation: sc.Inputs["evaluation"], Run: sc.RunDir})
	if err := report.Write(stage, rep); err != nil {
		return err
	}
	if b, err := os.ReadFile(filepath.Join(sc.RunDir, "gates.json")); err == nil {
		if err := os.WriteFile(filepath.Join(stage, "gates.json"), b, 0o644); err != nil {
			return err
		}
	}
	files, err := artifact.ReadFiles(artifact.Dirs{Model: sc.Inputs["model"], Features: sc.Inputs["features"],
		Evaluation: sc.Inputs["evaluation"], Run: stage})
	if err != nil {
		return err
	}
	ref, pp, err := referenceSample(sc, files)
	if err != nil {
		return permanent(err)
	}
	files = append(files, artifact.File{Path: artifact.ReferenceFile, Data: ref})
	in := artifact.Input{Name: sc.Pipeline.Name, PII: pp, Version: s.c.Version, SpecDigest: sc.Pipeline.SpecDigest,
		SlipwayVersion: s.c.Version, Files: files, Created: sourceDateEpoch(), Revision: s.c.Revision}
	if sp := sc.Pipeline.Spec; sp != nil {
		in.Description = sp.Description
		if sp.Owner != "" {
			in.Authors = []string{sp.Owner}
		}
	}
	in.Datasets = map[string]string{}
	for _, st := range sc.Pipeline.Steps {
		if st.Kind != ir.KindFetch {
			continue
		}
		for _, i := range st.Inputs {
			if i.From == "" {
				in.Datasets[strings.TrimPrefix(st.Name, "fetch-")] = i.Digest
			}
		}
	}
	art, err := artifact.Pack(in)
	if err != nil {
		return permanent(err)
	}
	st, err := store.Open(s.c.storeDir())
	if err != nil {
		return err
	}
	digest, err := st.Put(sc.Pipeline.Name, art)
	if err != nil {
		return err
	}
	sc.Logf("packed %s as %s into %s", sc.Pipeline.Name, digest, st.Dir())
	if err := os.RemoveAll(stage); err != nil {
		return err
	}
	return writeJSON(filepath.Join(out, "package.json"), Package{Name: sc.Pipeline.Name, Digest: digest})
}

// Check signs the packed model when the signing key is at hand, and
// pushes it (with its signature) when the run asks for it.
func (s *packageStep) Check(ctx context.Context, sc *local.StepContext) error {
	p, err := params[ir.PackageParams](sc.Step)
	if err != nil {
		return err
	}
	var pkg Package
	if err := readJSON(filepath.Join(sc.Outputs["package"], "package.json"), &pkg); err != nil {
		return err
	}
	pub := Published{Package: pkg}
	st, err := store.Open(s.c.storeDir())
	if err != nil {
		return err
	}
	art, err := st.Get(pkg.Name + "@" + pkg.Digest)
	if err != nil {
		return fmt.Errorf("package: the local store lost %s: %w", pkg.Digest, err)
	}
	h, err := v1.NewHash(pkg.Digest)
	if err != nil {
		return err
	}
	identity := p.Repository
	ref := ""
	if s.c.Push {
		if ref, err = s.c.pushRef(p.Repository, pkg.Digest); err != nil {
			return permanent(err)
		}
		identity = strings.SplitN(ref, "@", 2)[0]
	}
	if p.Signing != nil {
		signer, err := s.c.signer(p.Signing.Key, p.Signing.PasswordSecret)
		switch {
		case errors.Is(err, errNoKey):
			pub.Note = err.Error()
			sc.Logf("NOT SIGNED: %v", err)
		case err != nil:
			return permanent(err)
		default:
			if err := s.signLocal(st, h, identity, signer); err != nil {
				return err
			}
			pub.Signed = true
			sc.Logf("signed %s for %s", pkg.Digest, identity)
		}
	}
	if s.c.Push {
		opts := s.c.RemoteOptions(ref)
		if _, err := remote.Push(ctx, art, ref, opts...); err != nil {
			return err
		}
		pub.Pushed = ref
		sc.Logf("pushed %s", ref)
		if run := s.c.Getenv("SLIPWAY_RUN_NAME"); run != "" {
			// Tag the model with the run that made it, for apply to find.
			tagRef := strings.SplitN(ref, "@", 2)[0] + ":run-" + run
			if _, err := remote.Push(ctx, art, tagRef, opts...); err != nil {
				return fmt.Errorf("tag %s: %w", tagRef, err)
			}
			sc.Logf("tagged %s", tagRef)
		}
		if pub.Signed {
			tag, err := store.SignatureTag(pkg.Digest)
			if err != nil {
				return err
			}
			sig, err := st.Image(tag)
			if err != nil {
				return err
			}
			if err := pushImage(ctx, sig, strings.SplitN(ref, "@", 2)[0]+":"+tag, true); err != nil {
				return fmt.Errorf("push signature: %w", err)
			}
		}
	}
	return writeJSON(filepath.Join(sc.RunDir, "package.json"), pub)
}

// signLocal adds a signature for digest to the local store, unless the
// key has signed it for identity already.
func (s *packageStep) signLocal(st *store.Store, h v1.Hash, identity string, signer signerVerifier) error {
	tag := signing.SignatureTag(h)
	existing, err := st.Image(tag)
	if err == nil {
		if _, verr := signing.Verify(existing, h, identity, signer.PublicKeyOf()); verr == nil {
			return nil
		}
		img, err := signing.Append(existing, signer, identity, h)
		if err != nil {
			return err
		}
		return st.Tag(tag, img)
	}
	img, err := signing.Sign(signer, identity, h)
	if err != nil {
		return err
	}
	return st.Tag(tag, img)
}

// sourceDateEpoch is the creation time packs record: $SOURCE_DATE_EPOCH
// (the reproducible-builds convention) or the Unix epoch, never the clock.
func sourceDateEpoch() time.Time {
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Unix(0, 0).UTC()
}

// referenceSample makes the model's reference sample (training rows of
// its inputs, artifact.ReferenceFile) from the features step's data and
// split, and finds the pipeline's PII policy for schema.json.
func referenceSample(sc *local.StepContext, files []artifact.File) ([]byte, *artifact.PII, error) {
	dir := sc.Inputs["features"]
	var fj []byte
	for _, f := range files {
		if f.Path == "features.json" {
			fj = f.Data
		}
	}
	schema, err := artifact.SchemaFromFeatures(fj)
	if err != nil {
		return nil, nil, fmt.Errorf("reference sample: %w", err)
	}
	var sp Split
	if err := readJSON(filepath.Join(dir, "split.json"), &sp); err != nil {
		return nil, nil, fmt.Errorf("reference sample: %w", err)
	}
	t, err := dataset.ReadFile(filepath.Join(dir, "data.parquet"), "parquet", nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reference sample: %w", err)
	}
	ref, err := artifact.Reference(t, schema, sp.Train, 0)
	if err != nil {
		return nil, nil, err
	}
	var pp *artifact.PII
	for _, st := range sc.Pipeline.Steps {
		if st.Kind != ir.KindFeatures {
			continue
		}
		fp, err := params[ir.FeaturesParams](st)
		if err != nil {
			return nil, nil, err
		}
		if cols := piiColumns(sc.Pipeline, fp.Dataset); len(cols) > 0 {
			pp = &artifact.PII{Action: fp.PII.Action, Columns: cols}
		}
	}
	return ref, pp, nil
}
