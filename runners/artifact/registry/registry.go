// Package registry runs an OCI distribution registry in process, for
// local development and tests: go-containerregistry's pkg/registry with
// its blobs on disk.
//
// What survives a restart: only blobs, kept under root as
// root/sha256/<hex> by registry.NewDiskBlobHandler (shared by every
// repository; a blob's content is re-hashed when it is stat'ed, not when
// it is served). What lives in memory and is lost when the process ends:
// every manifest and tag (pkg/registry's manifests map, keyed by
// repository, then by tag and digest), the referrers derived from them,
// and each upload in progress (PATCHed chunks are buffered in memory until
// the upload is committed, so a blob is held in memory once while it is
// uploaded). An upload whose digest check fails may leave an upload-*
// temporary file in root. The registry has no authentication: anyone who
// can reach its address can push and pull, which is why Serve listens on
// loopback addresses only unless AllowNonLoopback is given.
package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/slipway-ml/slipway/runners/artifact"
)

// Option configures NewRegistry and Serve.
type Option func(*options)

type options struct {
	allowNonLoopback bool
	logger           *log.Logger
	onListen         func(net.Addr)
}

// AllowNonLoopback lets Serve listen on an address other than a loopback
// one. Default: refused, since the registry has no authentication.
func AllowNonLoopback() Option { return func(o *options) { o.allowNonLoopback = true } }

// WithLogger logs every request to l. Default: requests are not logged.
func WithLogger(l *log.Logger) Option { return func(o *options) { o.logger = l } }

// OnListen is called with the listening address once Serve listens (for
// an address with port 0). Default: nothing is called.
func OnListen(f func(net.Addr)) Option { return func(o *options) { o.onListen = f } }

func makeOptions(opts []Option) *options {
	o := &options{logger: log.New(io.Discard, "", 0)}
	for _, opt := range opts {
		opt(o)
	}
	if o.logger == nil {
		o.logger = log.New(io.Discard, "", 0)
	}
	return o
}

// NewRegistry returns the registry's HTTP handler, keeping blobs under
// root (created when missing). Manifest uploads larger than
// artifact.MaxManifestSize are refused with 413.
func NewRegistry(root string, opts ...Option) (http.Handler, error) {
	o := makeOptions(opts)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("registry root: %w", err)
	}
	h := ggcrregistry.New(
		ggcrregistry.WithBlobHandler(ggcrregistry.NewDiskBlobHandler(root)),
		ggcrregistry.Logger(o.logger),
	)
	return limitManifests(h), nil
}

// limitManifests reads a manifest upload whole, refusing one larger than
// artifact.MaxManifestSize (pkg/registry reads the body unbounded and
// ignores read errors).
func limitManifests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			b, err := io.ReadAll(io.LimitReader(r.Body, artifact.MaxManifestSize+1))
			r.Body.Close()
			switch {
			case err != nil:
				writeError(w, http.StatusBadRequest, "MANIFEST_INVALID", "read manifest: "+err.Error())
				return
			case len(b) > artifact.MaxManifestSize:
				writeError(w, http.StatusRequestEntityTooLarge, "SIZE_INVALID", fmt.Sprintf("manifest larger than %d bytes", artifact.MaxManifestSize))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.ContentLength = int64(len(b))
		}
		next.ServeHTTP(w, r)
	})
}

// writeError answers with an OCI distribution error.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`, code, msg)
}

// Serve runs the registry on addr (host:port) with blobs under root
// until ctx is done, then shuts it down gracefully and returns nil. addr
// must be a loopback address (localhost, 127.0.0.0/8, [::1]) unless
// AllowNonLoopback is given.
func Serve(ctx context.Context, addr, root string, opts ...Option) error {
	o := makeOptions(opts)
	if !o.allowNonLoopback {
		if err := checkLoopback(addr); err != nil {
			return err
		}
	}
	h, err := NewRegistry(root, opts...)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	if ta, ok := l.Addr().(*net.TCPAddr); ok && !o.allowNonLoopback && !ta.IP.IsLoopback() {
		l.Close()
		return fmt.Errorf("registry: %s listens on %s, which is not a loopback address", addr, ta)
	}
	if o.onListen != nil {
		o.onListen(l.Addr())
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, ErrorLog: o.logger}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return fmt.Errorf("registry: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("registry: shut down: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("registry: %w", err)
	}
	return nil
}

// checkLoopback checks that addr's host is a loopback address or
// "localhost".
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("registry address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	if host == "" {
		host = "every interface"
	}
	return fmt.Errorf("registry address %q: %s is not a loopback address; the registry has no authentication, so it listens on 127.0.0.1 or localhost unless explicitly allowed", addr, host)
}
