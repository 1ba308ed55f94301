// Package archivecheck reads the entries of a tar or zip archive, without
// extracting anything, and checks that it is a dataset archive: exactly one
// regular file, any number of directories, and no entry that is a link or a
// device or whose name is absolute or has a ".." element.
package archivecheck

import (
	"archive/tar"
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Member is the one regular file of a dataset archive.
type Member struct {
	// Name is the entry's cleaned slash path inside the archive.
	Name string
	// Size is the entry's size as the archive declares it.
	Size int64
}

// Tar reads the headers of a tar archive and returns its one regular file.
// An archive with more than maxEntries entries is refused.
func Tar(r io.Reader, maxEntries int) (Member, error) {
	tr := tar.NewReader(r)
	var m Member
	for entries := 1; ; entries++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			return Member{}, fmt.Errorf("read tar archive: %w", err)
		}
		if entries > maxEntries {
			return Member{}, fmt.Errorf("archive has more than %d entries", maxEntries)
		}
		if err := CheckName(hdr.Name); err != nil {
			return Member{}, err
		}
		switch hdr.Typeflag {
		case tar.TypeDir, tar.TypeXGlobalHeader:
			continue
		case tar.TypeReg:
		case tar.TypeSymlink:
			return Member{}, fmt.Errorf("archive entry %q is a symbolic link (to %q); a dataset archive must hold one regular file", hdr.Name, hdr.Linkname)
		case tar.TypeLink:
			return Member{}, fmt.Errorf("archive entry %q is a hard link (to %q); a dataset archive must hold one regular file", hdr.Name, hdr.Linkname)
		default:
			return Member{}, fmt.Errorf("archive entry %q is not a regular file (tar type %q)", hdr.Name, hdr.Typeflag)
		}
		if m, err = add(m, hdr.Name, hdr.Size); err != nil {
			return Member{}, err
		}
	}
	if m.Name == "" {
		return Member{}, fmt.Errorf("archive holds no file")
	}
	return m, nil
}

// Zip reads the central directory of a zip archive of n bytes and returns
// its one regular file. An archive with more than maxEntries entries is
// refused.
func Zip(r io.ReaderAt, n int64, maxEntries int) (Member, error) {
	zr, err := zip.NewReader(r, n)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return Member{}, fmt.Errorf("read zip archive: %w", err)
	}
	if len(zr.File) > maxEntries {
		return Member{}, fmt.Errorf("archive has more than %d entries", maxEntries)
	}
	var m Member
	for _, zf := range zr.File {
		if err := CheckName(zf.Name); err != nil {
			return Member{}, err
		}
		mode := zf.Mode()
		switch {
		case mode.IsDir():
			continue
		case mode&fs.ModeSymlink != 0:
			return Member{}, fmt.Errorf("archive entry %q is a symbolic link; a dataset archive must hold one regular file", zf.Name)
		case !mode.IsRegular():
			return Member{}, fmt.Errorf("archive entry %q is not a regular file (%s)", zf.Name, mode.Type())
		}
		size := int64(zf.UncompressedSize64)
		if zf.UncompressedSize64 > 1<<62 {
			size = 1 << 62
		}
		if m, err = add(m, zf.Name, size); err != nil {
			return Member{}, err
		}
	}
	if m.Name == "" {
		return Member{}, fmt.Errorf("archive holds no file")
	}
	return m, nil
}

// add records the regular file name, refusing a second one.
func add(m Member, name string, size int64) (Member, error) {
	if m.Name != "" {
		return Member{}, fmt.Errorf("archive holds more than one file (%q and %q); a dataset archive must hold exactly one", m.Name, name)
	}
	clean := path.Clean(name)
	if clean == "." {
		return Member{}, fmt.Errorf("archive entry %q has no file name", name)
	}
	if size < 0 {
		return Member{}, fmt.Errorf("archive entry %q has a negative size", name)
	}
	return Member{Name: clean, Size: size}, nil
}

// CheckName refuses an archive entry name that is empty, absolute, holds a
// backslash or a NUL, or has a ".." element.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("archive entry has an empty name")
	case strings.HasPrefix(name, "/") || len(name) >= 2 && name[1] == ':':
		return fmt.Errorf("archive entry %q has an absolute name", name)
	case strings.ContainsAny(name, "\\\x00"):
		return fmt.Errorf("archive entry %q holds a backslash or NUL", name)
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return fmt.Errorf("archive entry %q contains '..'", name)
		}
	}
	return nil
}
