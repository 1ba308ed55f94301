package monitor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/slipway-ml/slipway/runners/fetch"
)

// LocateCurrent finds the current data a comparison reads: a file path
// (relative to baseDir), or an http(s) URL fetched through the hardened
// fetcher into cacheDir without a pinned digest (recent data has none
// known in advance). It returns the file's path and the name whose
// extension tells its format (dataset.FormatOf).
func LocateCurrent(ctx context.Context, src, baseDir, cacheDir string, opts ...fetch.Option) (path, name string, err error) {
	if !strings.HasPrefix(src, "https://") && !strings.HasPrefix(src, "http://") {
		if !filepath.IsAbs(src) {
			return filepath.Join(baseDir, src), src, nil
		}
		return src, src, nil
	}
	f, err := fetch.New(cacheDir, append([]fetch.Option{fetch.WithUnpinned(true)}, opts...)...)
	if err != nil {
		return "", "", err
	}
	res, err := f.Resolve(ctx, fetch.Request{Source: src, BaseDir: baseDir})
	if err != nil {
		return "", "", fmt.Errorf("current data: %w", err)
	}
	return res.Path, res.Name, nil
}
