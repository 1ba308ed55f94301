package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/slipway-ml/slipway/runners/fetch/internal/source"
)

// commitHash is the form of a full commit id (SHA-1 or SHA-256).
var commitHash = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// fetchGit reads the file src.GitPath at src.GitRef of the repository
// src.GitRepo into dst, and returns its hex sha256 and size. It speaks the
// smart HTTP protocol through the Fetcher's https client (so the address
// and redirect rules hold), asks for one commit (shallow when the server
// allows it), stores the pack in a bare repository under work, and reads
// the file from the commit's tree: nothing is checked out.
func (f *Fetcher) fetchGit(ctx context.Context, src *source.Source, work, dst string) (string, int64, error) {
	ep, err := transport.NewEndpoint(src.GitRepo)
	if err != nil {
		return "", 0, fmt.Errorf("git repository URL: %w", err)
	}
	sess, err := githttp.NewClient(f.client).NewUploadPackSession(ep, nil)
	if err != nil {
		return "", 0, fmt.Errorf("open git repository: %w", err)
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return "", 0, fmt.Errorf("list git references: %w", err)
	}
	want, err := resolveRef(ar, src.GitRef)
	if err != nil {
		return "", 0, err
	}
	req := packp.NewUploadPackRequestFromCapabilities(ar.Capabilities)
	req.Wants = []plumbing.Hash{want}
	if ar.Capabilities.Supports(capability.Shallow) {
		req.Depth = packp.DepthCommits(1)
		if err := req.Capabilities.Set(capability.Shallow); err != nil {
			return "", 0, err
		}
	}
	if ar.Capabilities.Supports(capability.NoProgress) {
		if err := req.Capabilities.Set(capability.NoProgress); err != nil {
			return "", 0, err
		}
	}
	resp, err := sess.UploadPack(ctx, req)
	if err != nil {
		if !advertised(ar, want) {
			return "", 0, fmt.Errorf("fetch git objects: no branch or tag points at commit %s, and the server did not send it: %w", want, err)
		}
		return "", 0, fmt.Errorf("fetch git objects: %w", err)
	}
	defer resp.Close()
	st := filesystem.NewStorage(osfs.New(filepath.Join(work, "repo.git"), osfs.WithBoundOS()), cache.NewObjectLRUDefault())
	if len(resp.Shallows) > 0 {
		if err := st.SetShallow(resp.Shallows); err != nil {
			return "", 0, err
		}
	}
	pack := &limitedBody{r: ctxReader{ctx, sidebandReader(req.Capabilities, resp)}, total: -1, max: f.cfg.maxBytes, what: "git pack", source: src.Raw, progress: f.cfg.progress}
	if err := packfile.UpdateObjectStorage(st, pack); err != nil {
		return "", 0, fmt.Errorf("store git objects: %w", err)
	}
	file, err := readTreeFile(st, want, src.GitPath, src.GitRef)
	if err != nil {
		return "", 0, err
	}
	if file.Size > f.cfg.maxBytes {
		return "", 0, &limitError{what: "file " + src.GitPath, limit: f.cfg.maxBytes}
	}
	r, err := file.Reader()
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", src.GitPath, err)
	}
	defer r.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", 0, fmt.Errorf("create %s: %w", dst, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), ctxReader{ctx, io.LimitReader(r, f.cfg.maxBytes+1)})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", src.GitPath, err)
	}
	if n != file.Size {
		return "", 0, fmt.Errorf("read %s: got %d bytes, the repository says %d", src.GitPath, n, file.Size)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// resolveRef finds what ref names among the advertised references: the
// default branch when ref is empty, a full commit id as is, otherwise a
// tag, then a branch, or a full reference name ("refs/…").
func resolveRef(ar *packp.AdvRefs, ref string) (plumbing.Hash, error) {
	if ref == "" {
		if ar.Head == nil {
			return plumbing.ZeroHash, fmt.Errorf("git repository has no default branch: give a ref")
		}
		return *ar.Head, nil
	}
	if commitHash.MatchString(ref) {
		return plumbing.NewHash(ref), nil
	}
	names := []string{"refs/tags/" + ref, "refs/heads/" + ref}
	if strings.HasPrefix(ref, "refs/") {
		names = []string{ref}
	}
	for _, n := range names {
		if h, ok := ar.References[n]; ok {
			return h, nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("git ref %q not found: give a branch, a tag or a full commit id", ref)
}

// advertised reports whether a reference of ar points at h.
func advertised(ar *packp.AdvRefs, h plumbing.Hash) bool {
	for _, r := range ar.References {
		if r == h {
			return true
		}
	}
	return ar.Head != nil && *ar.Head == h
}

// readTreeFile returns the regular file at p in the commit (or tag
// pointing to a commit) h.
func readTreeFile(st *filesystem.Storage, h plumbing.Hash, p, ref string) (*object.File, error) {
	obj, err := object.GetObject(st, h)
	if err != nil {
		return nil, fmt.Errorf("git ref %q: %w", ref, err)
	}
	var commit *object.Commit
	for commit == nil {
		switch o := obj.(type) {
		case *object.Commit:
			commit = o
		case *object.Tag:
			if obj, err = o.Object(); err != nil {
				return nil, fmt.Errorf("git ref %q: %w", ref, err)
			}
		default:
			return nil, fmt.Errorf("git ref %q names a %s, not a commit", ref, obj.Type())
		}
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("git commit %s: %w", commit.Hash, err)
	}
	entry, err := tree.FindEntry(p)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return nil, fmt.Errorf("file %s does not exist in git commit %s", p, commit.Hash)
	}
	if err != nil {
		return nil, fmt.Errorf("find %s in git commit %s: %w", p, commit.Hash, err)
	}
	switch entry.Mode {
	case filemode.Regular, filemode.Executable, filemode.Deprecated:
	case filemode.Symlink:
		return nil, fmt.Errorf("%s is a symbolic link in git commit %s: name the file it points to", p, commit.Hash)
	case filemode.Dir:
		return nil, fmt.Errorf("%s is a directory in git commit %s, not a file", p, commit.Hash)
	default:
		return nil, fmt.Errorf("%s is not a regular file in git commit %s (mode %s)", p, commit.Hash, entry.Mode)
	}
	return tree.TreeEntryFile(entry)
}

// sidebandReader demultiplexes the pack stream when the request asked for
// a side band.
func sidebandReader(caps *capability.List, r io.Reader) io.Reader {
	switch {
	case caps.Supports(capability.Sideband64k):
		return sideband.NewDemuxer(sideband.Sideband64k, r)
	case caps.Supports(capability.Sideband):
		return sideband.NewDemuxer(sideband.Sideband, r)
	}
	return r
}
