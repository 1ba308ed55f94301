package fetch

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/slipway-ml/slipway/runners/fetch/internal/source"
)

// Default limits of a Fetcher.
const (
	// DefaultMaxBytes is the largest file a Fetcher accepts: 4 GiB.
	DefaultMaxBytes int64 = 4 << 30
	// DefaultMaxFiles is the most entries (directories included) an
	// archive may hold.
	DefaultMaxFiles = 100
	// DefaultTimeout is the most one Fetch may take.
	DefaultTimeout = time.Hour
)

// Scheme names a kind of source a Fetcher may fetch.
const (
	SchemeFile  = source.File
	SchemeHTTPS = source.HTTPS
	SchemeGit   = source.Git
	SchemeS3    = source.S3
	SchemeGCS   = source.GCS
)

// allSchemes lists every scheme, in the order used in messages.
var allSchemes = source.Kinds

// Option configures a Fetcher.
type Option func(*config) error

// Progress reports how many bytes of source have been read so far. total
// is the expected size, or -1 when the source does not say.
type Progress func(source string, done, total int64)

// config holds the settings New applies.
type config struct {
	maxBytes   int64
	maxFiles   int
	timeout    time.Duration
	schemes    []string
	private    bool
	unpinned   bool
	httpClient *http.Client
	tlsConfig  *tls.Config
	progress   Progress
	localDirs  []string
	getenv     func(string) string
}

// WithMaxBytes limits every file the Fetcher reads to n bytes: a download,
// a local file, an archive and the file extracted from it. Default
// DefaultMaxBytes (4 GiB).
func WithMaxBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("max bytes must be positive, got %d", n)
		}
		c.maxBytes = n
		return nil
	}
}

// WithMaxFiles limits how many entries, directories included, an archive
// may hold. Default DefaultMaxFiles (100).
func WithMaxFiles(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("max files must be positive, got %d", n)
		}
		c.maxFiles = n
		return nil
	}
}

// WithTimeout bounds one Fetch, download and extraction included; 0 means
// no bound other than the caller's context. Default DefaultTimeout (1 hour).
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("timeout must not be negative, got %s", d)
		}
		c.timeout = d
		return nil
	}
}

// WithSchemes allows only the named kinds of source: SchemeFile,
// SchemeHTTPS, SchemeGit, SchemeS3, SchemeGCS. Default: all of them.
func WithSchemes(schemes ...string) Option {
	return func(c *config) error {
		if len(schemes) == 0 {
			return fmt.Errorf("no schemes allowed: name at least one of %v", allSchemes)
		}
		for _, s := range schemes {
			if !slices.Contains(allSchemes, s) {
				return fmt.Errorf("unknown scheme %q: use one of %v", s, allSchemes)
			}
		}
		c.schemes = slices.Clone(schemes)
		return nil
	}
}

// WithPrivateNetworks lets https sources reach loopback, private,
// link-local and other non-public addresses. Default false: such addresses
// are refused after DNS resolution, so a source cannot make the Fetcher
// reach internal services.
func WithPrivateNetworks(allow bool) Option {
	return func(c *config) error {
		c.private = allow
		return nil
	}
}

// WithUnpinned lets Fetch read remote sources (https, git, s3, gcs) that
// have no SHA256. Default false: such a source is refused, since its
// content could change from one run to the next.
func WithUnpinned(allow bool) Option {
	return func(c *config) error {
		c.unpinned = allow
		return nil
	}
}

// WithHTTPClient takes the TLS settings of client for https sources. Its
// transport must be an *http.Transport; the Fetcher clones it and installs
// its own dialer (which enforces WithPrivateNetworks), redirect policy (https
// only) and no proxy. Default: a transport with the system roots.
func WithHTTPClient(client *http.Client) Option {
	return func(c *config) error {
		if client == nil {
			return fmt.Errorf("http client is nil")
		}
		if client.Transport != nil {
			if _, ok := client.Transport.(*http.Transport); !ok {
				return fmt.Errorf("http client transport is %T, want *http.Transport", client.Transport)
			}
		}
		c.httpClient = client
		return nil
	}
}

// WithTLSConfig sets the TLS configuration for https sources, for example
// a private root CA. It takes precedence over the one of WithHTTPClient.
// Default: the system roots.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *config) error {
		if cfg == nil {
			return fmt.Errorf("tls config is nil")
		}
		c.tlsConfig = cfg.Clone()
		return nil
	}
}

// WithProgress calls p as bytes of a source are read, for a progress bar.
// It may be called from several goroutines when fetches run concurrently.
// Default: none.
func WithProgress(p Progress) Option {
	return func(c *config) error {
		c.progress = p
		return nil
	}
}

// WithLocalDirs allows absolute local paths and file:// URLs inside dirs,
// besides the request's BaseDir. Default: only BaseDir.
func WithLocalDirs(dirs ...string) Option {
	return func(c *config) error {
		for _, d := range dirs {
			if d == "" {
				return fmt.Errorf("local directory is empty")
			}
		}
		c.localDirs = slices.Clone(dirs)
		return nil
	}
}
