// Package source parses the dataset source strings of a pipeline into what
// each kind of getter needs, with the compiler's check.ParseSource as the
// first gate, and refuses the forms the fetcher does not take
// (credentials in URLs, go-getter checksum and subdirectory parameters, git
// paths that leave the repository).
package source

import (
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/slipway-ml/slipway/compiler/check"
)

// Kinds of source.
const (
	File  = "file"
	HTTPS = "https"
	Git   = "git"
	S3    = "s3"
	GCS   = "gcs"
)

// Kinds lists every kind of source.
var Kinds = []string{File, HTTPS, Git, S3, GCS}

// Source is a dataset source, classified and turned into what its getter
// needs.
type Source struct {
	// Raw is the source as written; messages quote it.
	Raw string
	// Kind is one of File, HTTPS, Git, S3 and GCS.
	Kind string
	// Local is, for a file source, its slash path: relative to the base
	// directory as written, or absolute and cleaned.
	Local string
	// Abs reports an absolute local path.
	Abs bool
	// GetterSrc is, for a remote source, the go-getter source string
	// ("s3::https://…"), without checksum.
	GetterSrc string
	// Name is the base name of the file at the source.
	Name string
	// Archive is the go-getter decompressor key of an archive, or "".
	Archive string
	// GitRepo, gitRef and gitPath are, for a git source, the repository's
	// https URL, the ref ("" for the default branch) and the file's slash
	// path in the repository.
	GitRepo, GitRef, GitPath string
}

// ArchiveKinds are the archive types recognised, the keys of go-getter's
// LimitedDecompressors, longest first so that "tar.gz" wins over "gz".
var ArchiveKinds = []string{
	"tar.bz2", "tar.zst", "tar.gz", "tar.xz",
	"tbz2", "tzst", "bz2", "tar", "tgz", "txz", "zip", "zst", "gz", "xz",
}

// credentialParams are query parameters that carry secrets; a source URL
// must not hold them.
var credentialParams = []string{"aws_access_key_id", "aws_access_key_secret", "aws_access_token", "sshkey"}

// secretParams are query parameters whose values messages hide: go-getter's
// credential parameters and the signatures of pre-signed cloud URLs.
var secretParams = append(slices.Clone(credentialParams),
	"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token",
	"X-Goog-Signature", "X-Goog-Credential", "Signature", "sig", "token")

// Redact returns src for messages: as written, unless it holds a
// password or a secret query parameter, which are replaced by "redacted".
func Redact(src string) string {
	forced, rest := SplitForced(src)
	u, err := url.Parse(rest)
	if err != nil || u.Scheme == "" {
		return src
	}
	changed := false
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "redacted")
		changed = true
	}
	q := u.Query()
	for _, p := range secretParams {
		if q.Has(p) {
			q.Set(p, "redacted")
			changed = true
		}
	}
	if !changed {
		return src
	}
	u.RawQuery = q.Encode()
	if forced != "" {
		return forced + "::" + u.String()
	}
	return u.String()
}

// awsRegion is the form of an AWS region name.
var awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$`)

// Parse classifies src with the compiler's rules, then builds what
// its getter needs. getenv supplies AWS_REGION for s3:// URLs without a
// region parameter.
func Parse(src string, getenv func(string) string) (*Source, error) {
	cs, err := check.ParseSource(src)
	if err != nil {
		return nil, err
	}
	forced, rest := SplitForced(src)
	if cs.Local {
		return parseLocal(src, rest)
	}
	u, err := url.Parse(rest)
	if err != nil {
		return nil, fmt.Errorf("source is not a valid URL: %v", err)
	}
	s := &Source{Raw: src}
	switch {
	case forced == "git":
		return parseGit(s, rest)
	case forced == "s3" || forced == "" && u.Scheme == "s3":
		s.Kind = S3
	case forced == "gcs" || forced == "" && (u.Scheme == "gs" || u.Scheme == "gcs"):
		s.Kind = GCS
	case (forced == "" || forced == "https") && u.Scheme == "https":
		s.Kind = HTTPS
	default:
		return nil, fmt.Errorf("getter %q does not take a %s URL", forced+"::", u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("source URL holds credentials: remove %q and use the ambient credentials", u.User.Username()+"@")
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, fmt.Errorf("source URL %q has no host", Redact(rest))
	}
	if _, sub := sourceDirSubdir(rest); sub != "" {
		return nil, fmt.Errorf("source URL has a subdirectory selector (//%s): only git sources take one", sub)
	}
	q := u.Query()
	for _, p := range credentialParams {
		if q.Has(p) {
			return nil, fmt.Errorf("source URL holds credentials in %q: use the ambient credentials", p)
		}
	}
	if q.Has("checksum") {
		return nil, fmt.Errorf("source URL has a checksum parameter: give the digest as the dataset's sha256 instead")
	}
	if s.Archive, err = archiveKind(u.Path, q.Get("archive")); err != nil {
		return nil, err
	}
	q.Del("archive")
	u.RawQuery = q.Encode()

	switch {
	case s.Kind == S3 && u.Scheme == "s3":
		if u, err = s3URL(u, getenv); err != nil {
			return nil, err
		}
	case s.Kind == GCS && (u.Scheme == "gs" || u.Scheme == "gcs"):
		if u, err = gcsURL(u); err != nil {
			return nil, err
		}
	case u.Scheme != "https":
		return nil, fmt.Errorf("%s source has scheme %q, want https", s.Kind, u.Scheme)
	}
	if u.Path == "" || strings.HasSuffix(u.Path, "/") {
		return nil, fmt.Errorf("source URL %q names a directory, not a file", Redact(rest))
	}
	s.Name = path.Base(u.Path)
	if s.Kind == HTTPS {
		s.GetterSrc = u.String()
	} else {
		s.GetterSrc = s.Kind + "::" + u.String()
	}
	return s, nil
}

// parseGit builds a git source from rest,
// https://host/repo//path/in/repo?ref=rev.
func parseGit(s *Source, rest string) (*Source, error) {
	s.Kind = Git
	repo, sub := sourceDirSubdir(rest)
	u, err := url.Parse(repo)
	if err != nil {
		return nil, fmt.Errorf("source is not a valid URL: %v", err)
	}
	if u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("git source %q needs an https repository URL", Redact(rest))
	}
	if u.User != nil {
		return nil, fmt.Errorf("source URL holds credentials: remove %q and use a public repository", u.User.Username()+"@")
	}
	if u.Fragment != "" || strings.Contains(sub, "#") {
		return nil, fmt.Errorf("git source has a fragment: give the revision as ?ref=")
	}
	q := u.Query()
	s.GitRef = q.Get("ref")
	if s.Archive, err = archiveKind(sub, q.Get("archive")); err != nil {
		return nil, err
	}
	q.Del("ref")
	q.Del("archive")
	if len(q) > 0 {
		keys := slices.Sorted(maps.Keys(q))
		return nil, fmt.Errorf("git source takes only the ref and archive parameters, not %q", keys[0])
	}
	if strings.HasPrefix(s.GitRef, "-") || strings.ContainsAny(s.GitRef, " \x00") {
		return nil, fmt.Errorf("git ref %q is not a valid ref name", s.GitRef)
	}
	if sub == "" {
		return nil, fmt.Errorf("git source names no file: add //path/in/repo after the repository URL")
	}
	clean := path.Clean(sub)
	if path.IsAbs(sub) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") || strings.ContainsAny(sub, "\\\x00*?[") || strings.HasSuffix(sub, "/") {
		return nil, fmt.Errorf("git source path %q must name one file inside the repository", sub)
	}
	u.RawQuery = ""
	s.GitRepo = u.String()
	s.GitPath = clean
	s.Name = path.Base(clean)
	return s, nil
}

// sourceDirSubdir splits a "//subdir" off src as go-getter's
// SourceDirSubdir does: the first "//" after the scheme's "://" and before
// any query starts the subdirectory; the query stays with the source.
func sourceDirSubdir(src string) (string, string) {
	stop := len(src)
	if i := strings.Index(src, "?"); i > -1 {
		stop = i
	}
	offset := 0
	if i := strings.Index(src[:stop], "://"); i > -1 {
		offset = i + 3
	}
	i := strings.Index(src[offset:stop], "//")
	if i == -1 {
		return src, ""
	}
	i += offset
	sub := src[i+2:]
	src = src[:i]
	if q := strings.Index(sub, "?"); q > -1 {
		src += sub[q:]
		sub = sub[:q]
	}
	return src, sub
}

// SplitForced separates a go-getter "getter::" prefix from src, as
// check.ParseSource does.
func SplitForced(src string) (forced, rest string) {
	if i := strings.Index(src, "::"); i > 0 && !strings.Contains(src[:i], "/") {
		return src[:i], src[i+2:]
	}
	return "", src
}

// parseLocal builds a file source from rest, a path or a file:// URL.
func parseLocal(src, rest string) (*Source, error) {
	p := rest
	if strings.Contains(rest, "://") {
		u, err := url.Parse(rest)
		if err != nil {
			return nil, fmt.Errorf("source is not a valid URL: %v", err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("file URL %q names host %q: only local files can be read", rest, u.Host)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("file URL %q has a query or fragment, which local files do not take", rest)
		}
		p = u.Path
	}
	if p == "" || strings.ContainsRune(p, 0) {
		return nil, fmt.Errorf("local source %q is not a valid path", src)
	}
	abs := path.IsAbs(p)
	clean := path.Clean(p)
	if !abs && (clean == "." || clean == ".." || strings.HasPrefix(clean, "../")) {
		return nil, fmt.Errorf("local source %q leaves the pipeline directory", src)
	}
	if clean == "/" || strings.HasSuffix(p, "/") {
		return nil, fmt.Errorf("local source %q names a directory, not a file", src)
	}
	kind, err := archiveKind(clean, "")
	if err != nil {
		return nil, err
	}
	local := clean
	if !abs {
		// os.Root resolves the path as the system would, symbolic links
		// before "..", and refuses it if it leaves the directory.
		local = p
	}
	return &Source{Raw: src, Kind: File, Local: local, Abs: abs, Name: path.Base(clean), Archive: kind}, nil
}

// archiveKind returns the decompressor key for a file named p: the value of
// an "archive" query parameter when given ("false" turns extraction off),
// otherwise the longest known extension of p.
func archiveKind(p, param string) (string, error) {
	if param != "" {
		if b, err := strconv.ParseBool(param); err == nil && !b {
			return "", nil
		}
		if slices.Contains(ArchiveKinds, param) {
			return param, nil
		}
		return "", fmt.Errorf("unknown archive type %q: use one of %s, or false", param, strings.Join(ArchiveKinds, ", "))
	}
	for _, k := range ArchiveKinds {
		if strings.HasSuffix(p, "."+k) && len(path.Base(p)) > len(k)+1 {
			return k, nil
		}
	}
	return "", nil
}

// s3URL turns s3://bucket/key into the path-style https URL go-getter's S3
// getter reads; the host only carries the region, which comes from the
// "region" parameter, else getenv("AWS_REGION"), else
// getenv("AWS_DEFAULT_REGION"), else us-east-1.
func s3URL(u *url.URL, getenv func(string) string) (*url.URL, error) {
	key := strings.TrimPrefix(u.Path, "/")
	if key == "" {
		return nil, fmt.Errorf("s3 URL %q names no object", u.Redacted())
	}
	q := u.Query()
	region := q.Get("region")
	q.Del("region")
	if region == "" && getenv != nil {
		region = getenv("AWS_REGION")
		if region == "" {
			region = getenv("AWS_DEFAULT_REGION")
		}
	}
	host := "s3.amazonaws.com"
	if region != "" {
		if !awsRegion.MatchString(region) {
			return nil, fmt.Errorf("s3 region %q is not a valid AWS region name", region)
		}
		host = "s3-" + region + ".amazonaws.com"
	}
	return &url.URL{Scheme: "https", Host: host, Path: "/" + u.Host + "/" + key, RawQuery: q.Encode()}, nil
}

// gcsURL turns gs://bucket/object (or gcs://) into the URL go-getter's GCS
// getter reads. A fragment selects an object generation.
func gcsURL(u *url.URL) (*url.URL, error) {
	obj := strings.TrimPrefix(u.Path, "/")
	if obj == "" {
		return nil, fmt.Errorf("gcs URL %q names no object", u.Redacted())
	}
	if u.Fragment != "" {
		if _, err := strconv.ParseInt(u.Fragment, 10, 64); err != nil {
			return nil, fmt.Errorf("gcs URL generation %q is not a number", u.Fragment)
		}
	}
	return &url.URL{Scheme: "https", Host: "www.googleapis.com", Path: "/storage/v1/" + u.Host + "/" + obj, RawQuery: u.RawQuery, Fragment: u.Fragment}, nil
}

// ParseDigest checks that s is a sha256 digest in hex (a "sha256:" prefix
// is allowed) and returns it in lower case; "" stays "".
func ParseDigest(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	h := strings.ToLower(strings.TrimPrefix(s, "sha256:"))
	if len(h) != 64 {
		return "", fmt.Errorf("sha256 %q is not 64 hexadecimal digits", s)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", fmt.Errorf("sha256 %q is not 64 hexadecimal digits", s)
	}
	return h, nil
}
