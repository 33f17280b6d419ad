package miniapp

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// msdosDate1980 is 1980-01-01 in MS-DOS date format, the earliest date a
// ZIP header can hold. Every packed entry carries it with time 00:00:00.
const msdosDate1980 = 1<<5 | 1

// skipPacking reports whether a project file or directory stays out of the
// package: dot-files and dot-directories (.git, .DS_Store), node_modules,
// and at the project root the developer's README.md and built .ma files.
func skipPacking(rel string, isDir bool) bool {
	base := path.Base(rel)
	switch {
	case strings.HasPrefix(base, "."):
		return true
	case isDir && base == "node_modules":
		return true
	case !isDir && !strings.Contains(rel, "/") && (base == "README.md" || strings.HasSuffix(base, Extension)):
		return true
	}
	return false
}

// storedExt lists formats that are already compressed; Pack stores them
// instead of deflating them again.
var storedExt = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".avif": true,
	".woff": true, ".woff2": true, ".mp3": true, ".mp4": true, ".m4a": true, ".ogg": true,
	".webm": true, ".zip": true, ".gz": true, ".br": true,
}

// Pack builds the package for the project in dir and validates it under
// lim. The result is deterministic: the same files give the same bytes
// (names sorted, timestamps fixed at 1980-01-01, mode 0644, deflate except
// for already-compressed formats, no directory entries). Files that
// skipPacking names stay out. Problems come back like Open's: an
// *openmini.Error wrapping a *ValidationError.
func Pack(ctx context.Context, dir string, lim Limits) ([]byte, *Package, error) {
	if err := lim.check(); err != nil {
		return nil, nil, err
	}
	files, err := collectProject(ctx, dir, lim)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		hdr := &zip.FileHeader{Name: f.name, Method: zip.Deflate, ModifiedDate: msdosDate1980}
		if storedExt[strings.ToLower(path.Ext(f.name))] {
			hdr.Method = zip.Store
		}
		hdr.SetMode(0o644)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return nil, nil, fmt.Errorf("pack %s: %w", f.name, err)
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, nil, fmt.Errorf("pack %s: %w", f.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, nil, fmt.Errorf("pack: %w", err)
	}
	p, err := OpenBytes(ctx, buf.Bytes(), lim)
	if err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), p, nil
}

// OpenDir validates the project in dir as the package it would pack to.
func OpenDir(ctx context.Context, dir string, lim Limits) (*Package, error) {
	_, p, err := Pack(ctx, dir, lim)
	return p, err
}

type projectFile struct {
	name string
	data []byte
}

// collectProject reads the files Pack would put in the package, sorted by
// name, refusing what a package cannot hold before reading too much.
func collectProject(ctx context.Context, dir string, lim Limits) ([]projectFile, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("pack: %s is not a directory", dir)
	}
	var ps problems
	var files []projectFile
	var total int64
	errStop := fs.SkipAll
	walkErr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if skipPacking(rel, d.IsDir()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if msg := checkName(rel); msg != "" {
			ps.add(displayName(rel), "%s", msg)
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch t := d.Type(); {
		case t.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			ps.add(rel, "symbolic links are not allowed in a package; copy the file instead")
			return nil
		case !t.IsRegular():
			ps.add(rel, "not a regular file (%s); only regular files can be packed", t)
			return nil
		}
		if len(files) >= lim.MaxFiles {
			ps.tooBig("", "project has more than %d files; the limit is %d", lim.MaxFiles, lim.MaxFiles)
			return errStop
		}
		data, err := readLimited(p, lim.MaxFileBytes)
		if err != nil {
			return err
		}
		if int64(len(data)) > lim.MaxFileBytes {
			ps.tooBig(rel, "is more than %s; the limit per file is %s", humanBytes(lim.MaxFileBytes), humanBytes(lim.MaxFileBytes))
			return nil
		}
		total += int64(len(data))
		if total > lim.MaxUncompressedBytes {
			ps.tooBig("", "project files add up to more than %s; the limit is %s",
				humanBytes(lim.MaxUncompressedBytes), humanBytes(lim.MaxUncompressedBytes))
			return errStop
		}
		files = append(files, projectFile{name: rel, data: data})
		return nil
	})
	if walkErr != nil && walkErr != errStop {
		return nil, fmt.Errorf("pack: %w", walkErr)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files, nil
}

// readLimited reads at most max+1 bytes of the file, so a file that grows
// while it is read cannot exhaust memory.
func readLimited(name string, max int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max+1))
}
