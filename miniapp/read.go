package miniapp

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Package is a package that passed validation, held in memory (the limits
// bound its size).
type Package struct {
	Manifest *Manifest
	Files    []File    // regular files, sorted by name
	SHA256   [32]byte  // digest of the .ma file's bytes
	Size     int64     // size of the .ma file
	Warnings []Problem // things that hurt users but do not block the package

	byName map[string]int
}

// File is one regular file of a package.
type File struct {
	Name   string // slash-separated path inside the package
	Size   int64
	SHA256 [32]byte
	Data   []byte
}

// File returns the file with the exact name, if the package has it.
func (p *Package) File(name string) (*File, bool) {
	i, ok := p.byName[name]
	if !ok {
		return nil, false
	}
	return &p.Files[i], true
}

// OpenBytes is Open for a package held in memory.
func OpenBytes(ctx context.Context, b []byte, lim Limits) (*Package, error) {
	return Open(ctx, bytes.NewReader(b), int64(len(b)), lim)
}

// Open reads and validates the package of the given size from r under
// lim. It returns an *openmini.Error wrapping a *ValidationError that lists
// every problem found (codes openmini.EINVALID or openmini.ETOOLARGE), or
// ctx's error if ctx ends first. It never panics on malformed input and
// never trusts sizes in the ZIP headers: entries are inflated with a byte
// budget, so a package that inflates past the limits is refused after
// inflating at most the limit.
func Open(ctx context.Context, r io.ReaderAt, size int64, lim Limits) (*Package, error) {
	if err := lim.check(); err != nil {
		return nil, err
	}
	var ps problems
	if size > lim.MaxPackageBytes {
		ps.tooBig("", "package is %s; the limit is %s", humanBytes(size), humanBytes(lim.MaxPackageBytes))
		return nil, ps.err()
	}
	p := &Package{Size: size}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, size)); err != nil {
		return nil, fmt.Errorf("read package: %w", err)
	}
	h.Sum(p.SHA256[:0])

	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		ps.add("", "not a ZIP archive: %v", err)
		return nil, ps.err()
	}
	entries := checkEntries(zr.File, lim, &ps)
	if ps.any() {
		return nil, ps.err()
	}
	if err := readEntries(ctx, p, entries, &ps); err != nil {
		return nil, err
	}
	if ps.any() {
		return nil, ps.err()
	}
	checkContent(p, lim, &ps)
	if ps.any() {
		err := ps.err()
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.Warnings = p.Warnings
		}
		return nil, err
	}
	return p, nil
}

// displayName is how an entry name appears in problems: as is when it is
// printable UTF-8, quoted with escapes otherwise.
func displayName(name string) string {
	if !utf8.ValidString(name) || strings.IndexFunc(name, func(r rune) bool { return !strconv.IsPrint(r) }) >= 0 {
		return strconv.QuoteToASCII(name)
	}
	return name
}

// checkName returns what is wrong with an entry name, or "".
func checkName(name string) string {
	switch {
	case name == "":
		return "empty file name"
	case !utf8.ValidString(name):
		return "file name is not valid UTF-8"
	case strings.ContainsRune(name, '\\'):
		return "file name contains a backslash; ZIP names use forward slashes"
	case strings.HasPrefix(name, "/"):
		return "absolute file name; names must be relative to the package root"
	case len(name) >= 2 && name[1] == ':' && ('a' <= name[0]|0x20 && name[0]|0x20 <= 'z'):
		return "absolute file name (drive letter); names must be relative to the package root"
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "file name contains a control character"
		}
	}
	for _, el := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		switch el {
		case "..":
			return `file name contains ".."; names must stay inside the package`
		case ".", "":
			return `file name has an empty or "." element`
		}
	}
	return ""
}

// foldKey is the name two entries must not share: Unicode NFC
// normalisation, then case folding.
func foldKey(name string) string {
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(name)))
}

// checkEntries checks every central directory entry without reading data
// and returns the regular files to read. Sizes in headers are used only to
// refuse early, never to accept.
func checkEntries(files []*zip.File, lim Limits, ps *problems) []*zip.File {
	var regular []*zip.File
	seen := make(map[string]string, len(files)) // fold key -> name
	isDir := make(map[string]bool)              // fold keys of directories, explicit or implied
	var declared uint64
	for _, f := range files {
		name := f.Name
		shown := displayName(name)
		if msg := checkName(name); msg != "" {
			ps.add(shown, "%s", msg)
			continue
		}
		mode := f.Mode()
		dir := strings.HasSuffix(name, "/") || mode.IsDir()
		switch {
		case mode&fs.ModeSymlink != 0:
			ps.add(shown, "symbolic links are not allowed; only regular files")
			continue
		case mode.Type()&^fs.ModeDir != 0:
			ps.add(shown, "not a regular file (%s); only regular files are allowed", mode.Type())
			continue
		case f.Flags&0x41 != 0:
			ps.add(shown, "encrypted entries are not allowed")
			continue
		case f.Method != zip.Store && f.Method != zip.Deflate:
			ps.add(shown, "compression method %d is not allowed; use stored (0) or deflate (8)", f.Method)
			continue
		}
		key := foldKey(strings.TrimSuffix(name, "/"))
		if dir {
			if f.UncompressedSize64 != 0 || f.CompressedSize64 > 2 {
				ps.add(shown, "directory entry has content")
			}
			isDir[key] = true
			continue
		}
		if other, dup := seen[key]; dup {
			if other == name {
				ps.add(shown, "appears twice in the package")
			} else {
				ps.add(shown, "collides with %q: names must differ after Unicode normalisation and case folding", other)
			}
			continue
		}
		seen[key] = name
		for i := strings.LastIndexByte(key, '/'); i > 0; i = strings.LastIndexByte(key[:i], '/') {
			isDir[key[:i]] = true
		}
		regular = append(regular, f)
		if len(regular) > lim.MaxFiles {
			ps.tooBig("", "package has more than %d files; the limit is %d", lim.MaxFiles, lim.MaxFiles)
			return nil
		}
		if f.UncompressedSize64 > uint64(lim.MaxFileBytes) {
			ps.tooBig(shown, "is %s uncompressed; the limit per file is %s",
				humanBytes(int64(min(f.UncompressedSize64, 1<<62))), humanBytes(lim.MaxFileBytes))
			continue
		}
		declared += f.UncompressedSize64
	}
	if declared > uint64(lim.MaxUncompressedBytes) {
		ps.tooBig("", "package inflates to more than %s; the limit is %s",
			humanBytes(lim.MaxUncompressedBytes), humanBytes(lim.MaxUncompressedBytes))
	}
	for key, name := range seen {
		if isDir[key] {
			ps.add(name, "is both a file and a directory")
		}
	}
	return regular
}

// readEntries inflates every entry into p.Files. Each entry may produce
// exactly the bytes its header declares (which checkEntries bounded by the
// limits); one byte more and it is refused, so the limits hold whatever
// the headers say.
func readEntries(ctx context.Context, p *Package, files []*zip.File, ps *problems) error {
	var fr io.ReadCloser
	p.Files = make([]File, 0, len(files))
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		raw, err := f.OpenRaw()
		if err != nil {
			ps.add(displayName(f.Name), "corrupt entry: %v", err)
			continue
		}
		src := raw
		if f.Method == zip.Deflate {
			if fr == nil {
				fr = flate.NewReader(raw)
			} else if err := fr.(flate.Resetter).Reset(raw, nil); err != nil {
				return fmt.Errorf("reset inflater: %w", err)
			}
			src = fr
		}
		data := make([]byte, f.UncompressedSize64)
		n, err := io.ReadFull(src, data)
		if err != nil && err != io.EOF {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				ps.add(f.Name, "corrupt entry: inflates to %d bytes, but its header declares %d", n, len(data))
			} else {
				ps.add(f.Name, "corrupt entry: %v", err)
			}
			continue
		}
		var probe [1]byte
		if m, _ := io.ReadFull(src, probe[:]); m > 0 {
			ps.add(f.Name, "inflates to more than the %d bytes its header declares (a crafted archive or zip bomb)", len(data))
			return nil
		}
		if crc32.ChecksumIEEE(data) != f.CRC32 {
			ps.add(f.Name, "corrupt entry: CRC-32 does not match")
			continue
		}
		p.Files = append(p.Files, File{Name: f.Name, Size: int64(len(data)), SHA256: sha256.Sum256(data), Data: data})
	}
	sort.Slice(p.Files, func(i, j int) bool { return p.Files[i].Name < p.Files[j].Name })
	p.byName = make(map[string]int, len(p.Files))
	for i, f := range p.Files {
		p.byName[f.Name] = i
	}
	return nil
}
