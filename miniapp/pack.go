package miniapp

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// msdosDate1980 is 1980-01-01 in MS-DOS date format, the earliest date a
// ZIP header can hold. Every packed entry carries it with time 00:00:00.
const msdosDate1980 = 1<<5 | 1

// skipPacking reports whether a project file or directory stays out of the
// package: dot-files and dot-directories (.git, .DS_Store), node_modules,
// TypeScript declaration files (*.d.ts: editor types, nothing a page
// runs), and at the project root the developer's README.md, the editor's
// jsconfig.json or tsconfig.json, and built .ma files.
func skipPacking(rel string, isDir bool) bool {
	base := path.Base(rel)
	atRoot := !strings.Contains(rel, "/")
	switch {
	case strings.HasPrefix(base, "."):
		return true
	case isDir:
		return base == "node_modules"
	case strings.HasSuffix(base, ".d.ts"):
		return true
	case atRoot && (base == "README.md" || base == "jsconfig.json" || base == "tsconfig.json" || strings.HasSuffix(base, Extension)):
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
// (names sorted, timestamps fixed at 1980-01-01, mode 0644, deflate (level 4)
// except for already-compressed formats, stored; no
// directory entries, no data descriptors). Files that
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
	if err := compressAll(ctx, files); err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		hdr := &zip.FileHeader{
			Name:               f.name,
			Method:             f.method,
			CreatorVersion:     3<<8 | 20, // Unix, ZIP 2.0
			ReaderVersion:      20,
			ModifiedDate:       msdosDate1980,
			CRC32:              f.crc,
			CompressedSize64:   uint64(len(f.packed)),
			UncompressedSize64: uint64(len(f.data)),
			ExternalAttrs:      (syscallRegular | 0o644) << 16,
		}
		if !isASCII(f.name) {
			hdr.Flags |= 0x800 // the name is UTF-8
		}
		w, err := zw.CreateRaw(hdr)
		if err != nil {
			return nil, nil, fmt.Errorf("pack %s: %w", f.name, err)
		}
		if _, err := w.Write(f.packed); err != nil {
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

// packLevel is the deflate level of packed files. On text it gives
// packages within 1% of the default level's size in about 60% of the time.
const packLevel = 4

// syscallRegular is S_IFREG, the Unix file type bits of a regular file.
const syscallRegular = 0o100000

type projectFile struct {
	name   string
	data   []byte
	method uint16
	packed []byte // data as stored in the ZIP
	crc    uint32
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// compressAll fills in method, packed and crc for every file, deflating on
// all CPUs. Each file is compressed on its own, so the bytes do not depend
// on which worker did it.
func compressAll(ctx context.Context, files []projectFile) error {
	next := make(chan int)
	errs := make(chan error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range cap(errs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var fw *flate.Writer
			for i := range next {
				f := &files[i]
				f.crc = crc32.ChecksumIEEE(f.data)
				if storedExt[strings.ToLower(path.Ext(f.name))] {
					f.method, f.packed = zip.Store, f.data
					continue
				}
				var out bytes.Buffer
				if fw == nil {
					var err error
					if fw, err = flate.NewWriter(&out, packLevel); err != nil {
						errs <- err
						return
					}
				} else {
					fw.Reset(&out)
				}
				fw.Write(f.data) // writes to a bytes.Buffer cannot fail
				fw.Close()
				f.method, f.packed = zip.Deflate, out.Bytes()
			}
		}()
	}
	var err error
feed:
	for i := range files {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	return nil
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
	size := int64(512)
	if st, err := f.Stat(); err == nil && st.Size() < max {
		size = st.Size() + bytes.MinRead // room to see EOF without growing
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err = buf.ReadFrom(io.LimitReader(f, max+1))
	return buf.Bytes(), err
}
