package check

import (
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Source is a dataset source URL, classified.
type Source struct {
	// Getter is the go-getter getter that fetches it: file, https, git, s3
	// or gcs.
	Getter string
	// Local reports a file in or below the package directory, or a file://
	// URL: read from disk, no checksum required.
	Local bool
}

// forcedGetters are the go-getter "getter::" prefixes Slipway allows.
var forcedGetters = map[string]bool{"git": true, "s3": true, "gcs": true, "file": true, "https": true}

// ParseSource classifies a go-getter source URL, rejecting schemes and forms
// that Slipway does not fetch (plain http, ftp, ssh agents, relative paths
// that leave the package).
func ParseSource(src string) (Source, error) {
	if strings.TrimSpace(src) != src || src == "" {
		return Source{}, fmt.Errorf("source %q has leading or trailing space", src)
	}
	forced := ""
	if i := strings.Index(src, "::"); i > 0 && !strings.Contains(src[:i], "/") {
		forced = src[:i]
		if !forcedGetters[forced] {
			return Source{}, fmt.Errorf("unsupported getter %q: use one of file, https, git, s3, gcs", forced+"::")
		}
		src = src[i+2:]
	}
	if !strings.Contains(src, "://") {
		if forced != "" && forced != "file" {
			return Source{}, fmt.Errorf("%s source %q needs a URL with a scheme", forced, src)
		}
		if path.IsAbs(src) {
			return Source{Getter: "file", Local: true}, nil
		}
		clean := path.Clean(src)
		if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
			return Source{}, fmt.Errorf("local source %q must name a file inside the pipeline directory", src)
		}
		return Source{Getter: "file", Local: true}, nil
	}
	u, err := url.Parse(src)
	if err != nil {
		return Source{}, fmt.Errorf("source is not a valid URL: %v", err)
	}
	switch u.Scheme {
	case "file":
		if u.Path == "" {
			return Source{}, fmt.Errorf("file URL %q has no path", src)
		}
		return Source{Getter: "file", Local: true}, nil
	case "https":
		if u.Host == "" {
			return Source{}, fmt.Errorf("URL %q has no host", src)
		}
		g := "https"
		if forced == "git" {
			g = "git"
		}
		return Source{Getter: g}, nil
	case "s3", "gs", "gcs":
		if u.Host == "" {
			return Source{}, fmt.Errorf("URL %q has no bucket", src)
		}
		if u.Scheme == "s3" {
			return Source{Getter: "s3"}, nil
		}
		return Source{Getter: "gcs"}, nil
	case "http":
		return Source{}, fmt.Errorf("plain http is not allowed: use https")
	case "":
		return Source{}, fmt.Errorf("URL %q has no scheme", src)
	}
	return Source{}, fmt.Errorf("unsupported URL scheme %q: use file, https, git::https, s3 or gcs", u.Scheme)
}
