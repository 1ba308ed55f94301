// Package gitops delivers rendered manifests to a GitOps repository that
// Argo CD or Flux syncs. It owns one folder of the repository: a delivery
// replaces that folder's content with the given files in one commit, or
// makes no commit when the folder already holds exactly those files.
//
// Everything goes through go-git; the git binary is never run. Importing the
// package makes go-git serve file:// URLs in-process (see init), so that
// local bare repositories work without git installed.
package gitops

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// File is one rendered file to deliver.
type File struct {
	// Path is slash-separated and relative to Target.Dir.
	Path string
	// Data is the file's content.
	Data []byte
}

// Target says where files are delivered.
type Target struct {
	// LocalRepo is the root of a Git working tree on disk. Files are written
	// under Dir in its worktree and committed to Branch, which must be the
	// checked-out branch. Exactly one of LocalRepo and URL is set.
	LocalRepo string
	// URL is a remote repository (https://, ssh:// or file://). It is
	// fetched into a temporary folder, the commit is made there and pushed.
	URL string
	// Branch is the branch to commit to; default "main". For URL it is
	// created when the remote does not have it yet.
	Branch string
	// Dir is the folder inside the repository that the delivery owns, such
	// as "deploy/churn/production". Files under it that are not delivered
	// are removed; nothing outside it is touched.
	Dir string
	// Push, for LocalRepo, also pushes Branch to the remote "origin" when a
	// commit was made. URL targets are always pushed.
	Push bool
	// Auth authenticates fetches and pushes: nil, TokenAuth or SSHAuth.
	Auth transport.AuthMethod
	// CABundle holds extra PEM certificates trusted for https:// remotes,
	// for servers with a private certificate authority; nil uses the
	// system roots only.
	CABundle []byte
	// Author signs the commit. Name defaults to "Slipway", Email to
	// "slipway@localhost", When to the current time.
	Author object.Signature
	// MaxAttempts bounds the rounds of fetch, commit and push when the push
	// is rejected because someone else pushed first; default 5.
	MaxAttempts int

	// beforePush, when set, runs before every push (tests use it to push a
	// competing commit).
	beforePush func(ctx context.Context, attempt int) error
}

// Result describes a delivery.
type Result struct {
	// Commit is the head of Branch after the delivery: the new commit, or
	// the existing head when nothing changed (empty for an empty branch).
	Commit string
	// Changed reports whether a commit was made.
	Changed bool
	// Attempts is the number of rounds made: 1 unless a push was rejected
	// because the branch moved.
	Attempts int
	// Files lists the repository paths added, modified or removed, sorted.
	Files []string
}

const (
	defaultBranch      = "main"
	defaultMaxAttempts = 5
)

// Deliver makes the folder t.Dir of the target repository hold exactly
// files, committing with message, and for URL targets (or LocalRepo with
// Push) pushes the commit. When the folder already holds exactly these
// files no commit is made, nothing is pushed and Result.Changed is false.
//
// When a LocalRepo push fails after the local commit was made, Deliver
// returns that commit's Result together with the error.
func Deliver(ctx context.Context, t Target, files []File, message string) (*Result, error) {
	red := newRedactor(t)
	res, err := deliver(ctx, t, files, message)
	return res, red.wrap(err)
}

func deliver(ctx context.Context, t Target, files []File, message string) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := normalize(t)
	if err != nil {
		return nil, err
	}
	sorted, err := checkFiles(files)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(message) == "" {
		message = "Deliver " + t.Dir
	}
	if !strings.HasSuffix(message, "\n") {
		message += "\n"
	}
	if t.LocalRepo != "" {
		return deliverLocal(ctx, t, sorted, message)
	}
	return deliverRemote(ctx, t, sorted, message)
}

// normalize checks t and fills in its defaults.
func normalize(t Target) (Target, error) {
	switch {
	case t.LocalRepo == "" && t.URL == "":
		return t, errors.New("target has neither LocalRepo nor URL; expected exactly one")
	case t.LocalRepo != "" && t.URL != "":
		return t, errors.New("target has both LocalRepo and URL; expected exactly one")
	}
	if t.URL != "" {
		if err := checkURL(t.URL); err != nil {
			return t, err
		}
		if t.Push {
			return t, errors.New("target sets Push with URL; Push applies to LocalRepo only (URL targets are always pushed)")
		}
	}
	if t.Branch == "" {
		t.Branch = defaultBranch
	}
	if err := checkBranch(t.Branch); err != nil {
		return t, err
	}
	if err := checkRelPath("Dir", t.Dir); err != nil {
		return t, err
	}
	switch {
	case t.MaxAttempts == 0:
		t.MaxAttempts = defaultMaxAttempts
	case t.MaxAttempts < 0:
		return t, fmt.Errorf("MaxAttempts is %d; expected a positive number (0 means %d)", t.MaxAttempts, defaultMaxAttempts)
	}
	if t.Author.Name == "" {
		t.Author.Name = "Slipway"
	}
	if t.Author.Email == "" {
		t.Author.Email = "slipway@localhost"
	}
	if t.Author.When.IsZero() {
		t.Author.When = time.Now()
	}
	return t, nil
}

// checkBranch accepts the branch names Git accepts (git check-ref-format).
func checkBranch(b string) error {
	bad := func(why string) error {
		return fmt.Errorf("branch %q is not a valid Git branch name: %s", b, why)
	}
	switch {
	case strings.HasPrefix(b, "refs/"):
		return bad("give the short name, without refs/heads/")
	case strings.HasPrefix(b, "-"):
		return bad("it starts with \"-\"")
	case b == "@":
		return bad("\"@\" is reserved")
	case strings.Contains(b, ".."), strings.Contains(b, "@{"), strings.Contains(b, "//"):
		return bad("it contains \"..\", \"@{\" or \"//\"")
	case strings.HasPrefix(b, "/"), strings.HasSuffix(b, "/"), strings.HasSuffix(b, "."):
		return bad("it starts or ends with \"/\" or ends with \".\"")
	}
	for _, r := range b {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return bad(fmt.Sprintf("it contains %q", r))
		}
	}
	for _, c := range strings.Split(b, "/") {
		if strings.HasPrefix(c, ".") || strings.HasSuffix(c, ".lock") {
			return bad("a component starts with \".\" or ends with \".lock\"")
		}
	}
	return nil
}

// checkURL accepts https://, ssh:// and file:// URLs.
func checkURL(raw string) error {
	if !strings.Contains(raw, "://") {
		return fmt.Errorf("URL %s has no scheme; expected https://, ssh:// or file:// (write scp-style addresses as ssh://user@host/path)", redactURL(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse URL %s: %w", redactURL(raw), err)
	}
	switch u.Scheme {
	case "https", "ssh":
		if u.Host == "" {
			return fmt.Errorf("URL %s has no host", redactURL(raw))
		}
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return fmt.Errorf("URL %s names host %q; file:// URLs must be local", redactURL(raw), u.Host)
		}
	default:
		return fmt.Errorf("URL %s has scheme %q; expected https, ssh or file", redactURL(raw), u.Scheme)
	}
	return nil
}

// redactURL returns raw with the secret part of its user information
// masked: the password, or for https:// a user name given alone (a token).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i, j := strings.Index(raw, "://"), strings.LastIndex(raw, "@"); i >= 0 && j > i {
			return raw[:i+3] + "xxxxx" + raw[j:]
		}
		return raw
	}
	if u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	} else if u.Scheme != "ssh" {
		u.User = url.User("xxxxx")
	}
	return u.String()
}
