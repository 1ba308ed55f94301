package fetch

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	getter "github.com/hashicorp/go-getter"

	"github.com/slipway-ml/slipway/runners/fetch/internal/source"
)

// userAgent identifies the Fetcher to servers.
const userAgent = "slipway-fetch"

// watchInterval is how often the size of a download in progress is
// checked, for getters that do not report progress.
const watchInterval = 100 * time.Millisecond

// download fetches the remote src into dst with go-getter. want, when not
// empty, is passed to go-getter as its checksum; the caller verifies again.
func (f *Fetcher) download(parent context.Context, src *source.Source, want string, dst string) error {
	gsrc, err := withChecksum(src.GetterSrc, want)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	stop := f.watchSize(dst, cancel)
	defer stop()
	client := &getter.Client{
		Ctx:              ctx,
		Src:              gsrc,
		Dst:              dst,
		Mode:             getter.ClientModeFile,
		Getters:          f.getters(),
		Decompressors:    map[string]getter.Decompressor{},
		Detectors:        []getter.Detector{},
		DisableSymlinks:  true,
		Umask:            0o077,
		ProgressListener: &tracker{source: src.Raw, max: f.cfg.maxBytes, progress: f.cfg.progress},
	}
	err = client.Get()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
		return cause
	}
	var ce *getter.ChecksumError
	if errors.As(err, &ce) {
		return &MismatchError{Expected: hex.EncodeToString(ce.Expected), Actual: hex.EncodeToString(ce.Actual)}
	}
	if err != nil {
		return err
	}
	fi, err := os.Stat(dst)
	if err != nil {
		return fmt.Errorf("downloaded file: %w", err)
	}
	if fi.Size() > f.cfg.maxBytes {
		return &limitError{what: "response", limit: f.cfg.maxBytes}
	}
	return nil
}

// getters returns a fresh go-getter allow-list holding only the remote
// getters this Fetcher allows. Getters are made per fetch because go-getter
// ties each one to the client that uses it.
func (f *Fetcher) getters() map[string]getter.Getter {
	m := map[string]getter.Getter{}
	for _, s := range f.cfg.schemes {
		switch s {
		case SchemeHTTPS:
			m["https"] = &getter.HttpGetter{
				Netrc:                 false,
				Client:                f.client,
				Header:                http.Header{"User-Agent": {userAgent}},
				DoNotCheckHeadFirst:   true,
				ReadTimeout:           f.cfg.timeout,
				MaxBytes:              f.cfg.maxBytes + 1,
				XTerraformGetDisabled: true,
			}
		case SchemeS3:
			m["s3"] = &getter.S3Getter{Timeout: f.cfg.timeout}
		case SchemeGCS:
			m["gcs"] = &getter.GCSGetter{Timeout: f.cfg.timeout, FileSizeLimit: f.cfg.maxBytes + 1}
		}
	}
	return m
}

// withChecksum adds go-getter's checksum parameter for want to src.
func withChecksum(src, want string) (string, error) {
	if want == "" {
		return src, nil
	}
	forced, rest := source.SplitForced(src)
	u, err := url.Parse(rest)
	if err != nil {
		return "", fmt.Errorf("source is not a valid URL: %v", err)
	}
	q := u.Query()
	q.Set("checksum", "sha256:"+want)
	u.RawQuery = q.Encode()
	if forced != "" {
		return forced + "::" + u.String(), nil
	}
	return u.String(), nil
}

// watchSize cancels the download when the file at p grows past the size
// limit; this bounds getters that neither report progress nor limit size.
// The returned function stops the watch.
func (f *Fetcher) watchSize(p string, cancel context.CancelCauseFunc) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(watchInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if fi, err := os.Stat(p); err == nil && fi.Size() > f.cfg.maxBytes {
					cancel(&limitError{what: "download", limit: f.cfg.maxBytes})
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// tracker is the go-getter progress listener: it enforces the size limit
// on every body it is given and reports progress.
type tracker struct {
	source   string
	max      int64
	progress Progress
}

// TrackProgress wraps a download stream.
func (t *tracker) TrackProgress(_ string, current, total int64, stream io.ReadCloser) io.ReadCloser {
	if total < 0 {
		total = -1
	}
	return &limitedBody{r: stream, c: stream, done: current, total: total, max: t.max, what: "response", source: t.source, progress: t.progress}
}

// limitedBody reads r, failing once more than max bytes (or a declared
// total over max) would be read, and reports progress.
type limitedBody struct {
	r        io.Reader
	c        io.Closer
	done     int64
	total    int64
	max      int64
	what     string
	source   string
	progress Progress
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.total > b.max {
		return 0, &limitError{what: b.what, limit: b.max}
	}
	n, err := b.r.Read(p)
	b.done += int64(n)
	if b.done > b.max {
		return 0, &limitError{what: b.what, limit: b.max}
	}
	if b.progress != nil && n > 0 {
		b.progress(b.source, b.done, b.total)
	}
	return n, err
}

// Close closes the underlying stream.
func (b *limitedBody) Close() error {
	if b.c == nil {
		return nil
	}
	return b.c.Close()
}
