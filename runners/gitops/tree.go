package gitops

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// blobInfo is what a tree records for one file.
type blobInfo struct {
	hash plumbing.Hash
	mode filemode.FileMode
}

// change is the outcome of applying a delivery on top of a base commit.
type change struct {
	commit  plumbing.Hash // the new commit, or the base when nothing changed
	tree    plumbing.Hash // the new root tree
	changed []string      // repository paths added, modified or removed, sorted
	newDir  map[string]blobInfo
}

// applyFiles writes the files as blobs, replaces the folder dir of the base
// commit's tree with them and, when that changes anything, writes a commit
// with base as its only parent. base may be the zero hash (no parent).
func applyFiles(ctx context.Context, s storer.EncodedObjectStorer, base plumbing.Hash, dir string, files []File, author object.Signature, message string) (*change, error) {
	var baseTree plumbing.Hash
	if !base.IsZero() {
		c, err := object.GetCommit(s, base)
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", base, err)
		}
		baseTree = c.TreeHash
	}
	comps := strings.Split(dir, "/")
	oldDir, err := dirAt(s, baseTree, comps)
	if err != nil {
		return nil, err
	}
	oldFiles := map[string]blobInfo{}
	if !oldDir.IsZero() {
		if err := listTree(s, oldDir, "", oldFiles); err != nil {
			return nil, fmt.Errorf("read %s: %w", dir, err)
		}
	}

	root := &node{}
	newFiles := make(map[string]blobInfo, len(files))
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := writeBlob(s, f.Data)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", path.Join(dir, f.Path), err)
		}
		root.add(strings.Split(f.Path, "/"), h)
		newFiles[f.Path] = blobInfo{hash: h, mode: filemode.Regular}
	}

	var changed []string
	for p, n := range newFiles {
		if o, ok := oldFiles[p]; !ok || o != n {
			changed = append(changed, path.Join(dir, p))
		}
	}
	for p := range oldFiles {
		if _, ok := newFiles[p]; !ok {
			changed = append(changed, path.Join(dir, p))
		}
	}
	sort.Strings(changed)
	if len(changed) == 0 {
		return &change{commit: base, tree: baseTree, newDir: newFiles}, nil
	}

	var newDir plumbing.Hash
	if len(files) > 0 {
		if newDir, err = root.write(s); err != nil {
			return nil, err
		}
	}
	tree, err := replaceAt(s, baseTree, comps, newDir)
	if err != nil {
		return nil, err
	}
	if tree.IsZero() {
		if tree, err = writeTree(s, nil); err != nil {
			return nil, err
		}
	}
	c := &object.Commit{
		Author:    author,
		Committer: author,
		Message:   message,
		TreeHash:  tree,
	}
	if !base.IsZero() {
		c.ParentHashes = []plumbing.Hash{base}
	}
	obj := s.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return nil, fmt.Errorf("encode commit: %w", err)
	}
	h, err := s.SetEncodedObject(obj)
	if err != nil {
		return nil, fmt.Errorf("store commit: %w", err)
	}
	return &change{commit: h, tree: tree, changed: changed, newDir: newFiles}, nil
}

// node is a folder being built from delivered files.
type node struct {
	files map[string]plumbing.Hash
	dirs  map[string]*node
}

func (n *node) add(comps []string, h plumbing.Hash) {
	if len(comps) == 1 {
		if n.files == nil {
			n.files = map[string]plumbing.Hash{}
		}
		n.files[comps[0]] = h
		return
	}
	if n.dirs == nil {
		n.dirs = map[string]*node{}
	}
	child := n.dirs[comps[0]]
	if child == nil {
		child = &node{}
		n.dirs[comps[0]] = child
	}
	child.add(comps[1:], h)
}

func (n *node) write(s storer.EncodedObjectStorer) (plumbing.Hash, error) {
	entries := make([]object.TreeEntry, 0, len(n.files)+len(n.dirs))
	for name, h := range n.files {
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
	}
	for name, d := range n.dirs {
		h, err := d.write(s)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	return writeTree(s, entries)
}

// dirAt returns the tree hash at the folder comps below root, or the zero
// hash when it does not exist. A file in the way is an error.
func dirAt(s storer.EncodedObjectStorer, root plumbing.Hash, comps []string) (plumbing.Hash, error) {
	cur := root
	for i, c := range comps {
		if cur.IsZero() {
			return cur, nil
		}
		t, err := object.GetTree(s, cur)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", cur, err)
		}
		e := findEntry(t.Entries, c)
		if e < 0 {
			return plumbing.ZeroHash, nil
		}
		if t.Entries[e].Mode != filemode.Dir {
			return plumbing.ZeroHash, fmt.Errorf("%s exists in the repository as a %s; expected a folder", strings.Join(comps[:i+1], "/"), modeName(t.Entries[e].Mode))
		}
		cur = t.Entries[e].Hash
	}
	return cur, nil
}

// replaceAt returns root with the folder comps replaced by sub (removed when
// sub is the zero hash). Folders left empty are removed; the result is the
// zero hash when nothing remains.
func replaceAt(s storer.EncodedObjectStorer, root plumbing.Hash, comps []string, sub plumbing.Hash) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !root.IsZero() {
		t, err := object.GetTree(s, root)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", root, err)
		}
		entries = append(entries, t.Entries...)
	}
	i := findEntry(entries, comps[0])
	child := sub
	if len(comps) > 1 {
		var below plumbing.Hash
		if i >= 0 {
			below = entries[i].Hash
		}
		var err error
		if child, err = replaceAt(s, below, comps[1:], sub); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	if i >= 0 {
		entries = append(entries[:i], entries[i+1:]...)
	}
	if !child.IsZero() {
		entries = append(entries, object.TreeEntry{Name: comps[0], Mode: filemode.Dir, Hash: child})
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	return writeTree(s, entries)
}

// listTree records every non-folder entry below the tree h, keyed by its
// slash path with prefix.
func listTree(s storer.EncodedObjectStorer, h plumbing.Hash, prefix string, out map[string]blobInfo) error {
	t, err := object.GetTree(s, h)
	if err != nil {
		return fmt.Errorf("read tree %s: %w", h, err)
	}
	for _, e := range t.Entries {
		p := path.Join(prefix, e.Name)
		if e.Mode == filemode.Dir {
			if err := listTree(s, e.Hash, p, out); err != nil {
				return err
			}
			continue
		}
		out[p] = blobInfo{hash: e.Hash, mode: e.Mode}
	}
	return nil
}

func findEntry(entries []object.TreeEntry, name string) int {
	for i, e := range entries {
		if e.Name == name {
			return i
		}
	}
	return -1
}

func modeName(m filemode.FileMode) string {
	switch m {
	case filemode.Symlink:
		return "symbolic link"
	case filemode.Submodule:
		return "submodule"
	default:
		return "file"
	}
}

// writeTree stores a tree with its entries in Git's order: by name, with
// folders compared as if their name ended in "/".
func writeTree(s storer.EncodedObjectStorer, entries []object.TreeEntry) (plumbing.Hash, error) {
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	obj := s.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree: %w", err)
	}
	h, err := s.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("store tree: %w", err)
	}
	return h, nil
}

func writeBlob(s storer.EncodedObjectStorer, data []byte) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(data)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		_ = w.Close()
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}
