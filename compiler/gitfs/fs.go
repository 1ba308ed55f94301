package gitfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrOutsideTree is wrapped by the error of opening a path through a
// symbolic link that leads out of the revision's tree.
var ErrOutsideTree = errors.New("symbolic link leads outside the repository tree")

// maxLinks bounds the symbolic links followed while resolving one path, as
// the operating system does, so that a loop of links ends in an error.
const maxLinks = 40

// treeFS is the tree of one commit. It implements fs.FS, fs.ReadDirFS,
// fs.ReadFileFS, fs.StatFS and fs.ReadLinkFS.
type treeFS struct {
	repo    *git.Repository
	root    *object.Tree
	modTime time.Time
}

var (
	_ fs.ReadDirFS  = (*treeFS)(nil)
	_ fs.ReadFileFS = (*treeFS)(nil)
	_ fs.StatFS     = (*treeFS)(nil)
	_ fs.ReadLinkFS = (*treeFS)(nil)
)

// node is a resolved path: the root directory (entry nil) or an entry of
// the tree.
type node struct {
	name  string // the path as asked for
	entry *object.TreeEntry
	tree  *object.Tree // for directories
}

// resolve walks name from the root. Symbolic links on the way are followed
// while they stay in the tree; the last element is followed only when
// followLast is set.
func (f *treeFS) resolve(op, name string, followLast bool) (*node, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return &node{name: name, tree: f.root}, nil
	}
	parts := strings.Split(name, "/")
	dir, dirPath := f.root, []string(nil)
	links := 0
	for i := 0; i < len(parts); i++ {
		e, err := dir.FindEntry(parts[i])
		if err != nil {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		last := i == len(parts)-1
		here := path.Join(append(slices.Clone(dirPath), parts[i])...)
		switch e.Mode {
		case filemode.Dir:
			t, err := f.repo.TreeObject(e.Hash)
			if err != nil {
				return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("read directory %s from git: %w", here, err)}
			}
			if last {
				return &node{name: name, entry: e, tree: t}, nil
			}
			dir, dirPath = t, append(dirPath, parts[i])
		case filemode.Symlink:
			if last && !followLast {
				return &node{name: name, entry: e}, nil
			}
			links++
			if links > maxLinks {
				return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("more than %d symbolic links on the way to %s; is there a loop?", maxLinks, name)}
			}
			target, err := f.readBlob(e)
			if err != nil {
				return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("read symbolic link %s: %w", here, err)}
			}
			t := string(target)
			if path.IsAbs(t) || strings.HasPrefix(t, `\`) || (len(t) > 1 && t[1] == ':') {
				return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%s points to the absolute path %q: %w", here, t, ErrOutsideTree)}
			}
			joined := path.Join(append(slices.Clone(dirPath), t)...)
			if joined == ".." || strings.HasPrefix(joined, "../") {
				return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%s points to %q: %w", here, t, ErrOutsideTree)}
			}
			rest := parts[i+1:]
			parts = nil
			if joined != "." {
				parts = strings.Split(joined, "/")
			}
			parts = append(parts, rest...)
			if len(parts) == 0 {
				return &node{name: name, tree: f.root}, nil
			}
			dir, dirPath, i = f.root, nil, -1
		case filemode.Submodule:
			if last && !followLast {
				return &node{name: name, entry: e}, nil
			}
			return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%s is a Git submodule (commit %s); its files are not part of this repository's tree", here, e.Hash)}
		default:
			if !last {
				return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%s is a file, not a directory: %w", here, fs.ErrNotExist)}
			}
			return &node{name: name, entry: e}, nil
		}
	}
	panic("unreachable")
}

func (f *treeFS) readBlob(e *object.TreeEntry) ([]byte, error) {
	b, err := f.repo.BlobObject(e.Hash)
	if err != nil {
		return nil, err
	}
	rc, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func (f *treeFS) info(n *node) (*fileInfo, error) {
	fi := &fileInfo{name: path.Base(n.name), modTime: f.modTime}
	if n.entry == nil || n.entry.Mode == filemode.Dir {
		fi.mode = fs.ModeDir | 0o755
		return fi, nil
	}
	return f.entryInfo(fi.name, n.entry)
}

func (f *treeFS) entryInfo(name string, e *object.TreeEntry) (*fileInfo, error) {
	fi := &fileInfo{name: name, modTime: f.modTime}
	switch e.Mode {
	case filemode.Dir:
		fi.mode = fs.ModeDir | 0o755
		return fi, nil
	case filemode.Submodule:
		fi.mode = fs.ModeIrregular
		return fi, nil
	case filemode.Symlink:
		fi.mode = fs.ModeSymlink | 0o777
	case filemode.Executable:
		fi.mode = 0o755
	default:
		fi.mode = 0o644
	}
	size, err := f.repo.Storer.EncodedObjectSize(e.Hash)
	if err != nil {
		return nil, fmt.Errorf("read %s from git: %w", name, err)
	}
	fi.size = size
	return fi, nil
}

// Open opens the named file or directory, following symbolic links that
// stay inside the tree.
func (f *treeFS) Open(name string) (fs.File, error) {
	n, err := f.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	fi, err := f.info(n)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if n.tree != nil {
		entries, err := f.entries(n.tree)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dirFile{info: fi, entries: entries}, nil
	}
	b, err := f.repo.BlobObject(n.entry.Hash)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("read from git: %w", err)}
	}
	rc, err := b.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("read from git: %w", err)}
	}
	return &blobFile{info: fi, name: name, rc: rc}, nil
}

// ReadFile reads the named file whole.
func (f *treeFS) ReadFile(name string) ([]byte, error) {
	n, err := f.resolve("read", name, true)
	if err != nil {
		return nil, err
	}
	if n.tree != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	data, err := f.readBlob(n.entry)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("read from git: %w", err)}
	}
	return data, nil
}

// ReadDir lists the named directory, sorted by name. Symbolic links are
// listed as links, not followed.
func (f *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := f.resolve("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if n.tree == nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	entries, err := f.entries(n.tree)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return entries, nil
}

// Stat describes the named file, following symbolic links.
func (f *treeFS) Stat(name string) (fs.FileInfo, error) {
	return f.stat("stat", name, true)
}

// Lstat describes the named file without following a final symbolic link.
func (f *treeFS) Lstat(name string) (fs.FileInfo, error) {
	return f.stat("lstat", name, false)
}

func (f *treeFS) stat(op, name string, follow bool) (fs.FileInfo, error) {
	n, err := f.resolve(op, name, follow)
	if err != nil {
		return nil, err
	}
	fi, err := f.info(n)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return fi, nil
}

// ReadLink returns the target of the named symbolic link as stored, without
// following it.
func (f *treeFS) ReadLink(name string) (string, error) {
	n, err := f.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	if n.entry == nil || n.entry.Mode != filemode.Symlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: errors.New("not a symbolic link")}
	}
	data, err := f.readBlob(n.entry)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fmt.Errorf("read from git: %w", err)}
	}
	return string(data), nil
}

func (f *treeFS) entries(t *object.Tree) ([]fs.DirEntry, error) {
	out := make([]fs.DirEntry, 0, len(t.Entries))
	for i := range t.Entries {
		e := &t.Entries[i]
		fi, err := f.entryInfo(e.Name, e)
		if err != nil {
			return nil, err
		}
		out = append(out, fs.FileInfoToDirEntry(fi))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// fileInfo describes a tree entry.
type fileInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.modTime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return nil }

// blobFile is an open file.
type blobFile struct {
	info   *fileInfo
	name   string
	rc     io.ReadCloser
	closed bool
}

func (b *blobFile) Stat() (fs.FileInfo, error) { return b.info, nil }

func (b *blobFile) Read(p []byte) (int, error) {
	if b.closed {
		return 0, &fs.PathError{Op: "read", Path: b.name, Err: fs.ErrClosed}
	}
	return b.rc.Read(p)
}

func (b *blobFile) Close() error {
	if b.closed {
		return &fs.PathError{Op: "close", Path: b.name, Err: fs.ErrClosed}
	}
	b.closed = true
	return b.rc.Close()
}

// dirFile is an open directory.
type dirFile struct {
	info    *fileInfo
	entries []fs.DirEntry
	offset  int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

func (d *dirFile) Close() error { return nil }

// ReadDir returns the next n entries, or all that remain when n <= 0.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.offset:]
	if n <= 0 {
		d.offset = len(d.entries)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.offset += n
	return slices.Clone(rest[:n]), nil
}
