package steps

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/runners/fetch"
	"github.com/slipway-ml/slipway/runners/local"
)

// FetchOption configures the fetcher the fetch step uses.
type FetchOption = fetch.Option

// Source is a fetched dataset's provenance, in the raw output's
// source.json.
type Source struct {
	// Dataset is the dataset's name.
	Dataset string `json:"dataset"`
	// Source is the source as the spec writes it.
	Source string `json:"source"`
	// SHA256 is the hex digest of what was fetched.
	SHA256 string `json:"sha256"`
	// Size is the size of the data file in bytes.
	Size int64 `json:"size"`
	// Format is the data file's format.
	Format string `json:"format"`
}

type fetchStep struct{ c Config }

func (f *fetchStep) Execute(ctx context.Context, sc *local.StepContext) error {
	p, err := params[ir.FetchParams](sc.Step)
	if err != nil {
		return err
	}
	out, err := outputDir(sc, "raw/"+p.Dataset)
	if err != nil {
		return err
	}
	want := p.SHA256
	if want == "" {
		want = f.c.Lock.DatasetDigest(sc.Pipeline.Name, p.Dataset)
	}
	if want == "" {
		// A local file's digest, taken by the compiler from its content.
		for _, in := range sc.Step.Inputs {
			if in.From == "" && in.Pinned && strings.HasPrefix(in.Digest, "sha256:") {
				want = strings.TrimPrefix(in.Digest, "sha256:")
			}
		}
	}
	opts := append([]fetch.Option{fetch.WithProgress(func(_ string, done, total int64) {
		sc.Progress(done, total, "B")
	})}, f.c.FetchOptions...)
	fetcher, err := fetch.New(filepath.Join(f.c.StateDir, "data"), opts...)
	if err != nil {
		return err
	}
	res, err := fetcher.Fetch(ctx, fetch.Request{Source: p.Source, BaseDir: sc.Dir, SHA256: want})
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		if isPermanentFetch(err) {
			return permanent(err)
		}
		return err
	}
	how := "fetched"
	if res.Cached {
		how = "found in the data cache"
	}
	sc.Logf("%s: %s %d bytes, sha256 %s", p.Source, how, res.Size, res.SHA256)
	if err := linkOrCopy(res.Path, filepath.Join(out, "data."+p.Format)); err != nil {
		return fmt.Errorf("store %s: %w", p.Dataset, err)
	}
	return writeJSON(filepath.Join(out, "source.json"), Source{Dataset: p.Dataset, Source: p.Source, SHA256: res.SHA256, Size: res.Size, Format: p.Format})
}

// isPermanentFetch reports errors that fetching again cannot fix.
func isPermanentFetch(err error) bool {
	s := err.Error()
	for _, w := range []string{"sha256", "checksum", "does not exist", "no such file", "not allowed", "refus", "outside", "symlink", "limit", "archive"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
