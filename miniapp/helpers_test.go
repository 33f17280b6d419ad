package miniapp

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// entry is one file of a test archive. Zero values give a deflated regular
// file with mode 0644.
type entry struct {
	name   string
	data   string
	mode   fs.FileMode // set when not a plain regular file
	method uint16      // with raw: the method written in the headers
	flags  uint16      // with raw: general purpose flags
	raw    bool        // data is written as is (already compressed)
	size   uint64      // with raw: declared uncompressed size
	crc    uint32      // with raw: declared CRC-32
}

const testManifest = `{
  "app_id": "com.example.test",
  "name": "Test",
  "icons": [{"src": "common/icon.png", "sizes": "144x144"}],
  "version": {"code": 1, "name": "1.0.0"},
  "pages": ["pages/index", "pages/about"]
}`

// validEntries is a small package that passes validation without warnings.
func validEntries() []entry {
	return []entry{
		{name: "manifest.json", data: testManifest},
		{name: "app.js", data: "console.log('app')"},
		{name: "app.css", data: ""},
		{name: "pages/index.html", data: `<!doctype html><link href="index.css" rel="stylesheet"><a href="about.html">About</a><img src="../common/icon.png">`},
		{name: "pages/index.css", data: "body{margin:0}"},
		{name: "pages/about.html", data: `<template><p>About</p></template>`},
		{name: "common/icon.png", data: "\x89PNG fake"},
	}
}

// with returns the valid entries with some replaced (by name) or added.
func with(es ...entry) []entry {
	base := validEntries()
	for _, e := range es {
		replaced := false
		for i := range base {
			if base[i].name == e.name {
				base[i], replaced = e, true
			}
		}
		if !replaced {
			base = append(base, e)
		}
	}
	return base
}

// without returns the valid entries minus the named ones.
func without(names ...string) []entry {
	var out []entry
	for _, e := range validEntries() {
		if !contains(names, e.name) {
			out = append(out, e)
		}
	}
	return out
}

// buildZip writes entries with archive/zip.
func buildZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if e.raw {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: e.name, Method: e.method, Flags: e.flags,
				CRC32: e.crc, CompressedSize64: uint64(len(e.data)), UncompressedSize64: e.size})
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(e.data))
			continue
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(0o644)
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// deflate compresses data raw (as ZIP method 8 stores it).
func deflate(t testing.TB, data []byte) string {
	t.Helper()
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(data)
	fw.Close()
	return buf.String()
}

// rawEntry is a central directory record for hand-built archives.
type rawEntry struct {
	name       string
	offset     uint32 // of the local header it points to
	method     uint16
	crc        uint32
	csize      uint32
	usize      uint32
	extAttrs   uint32
	creatorVer uint16
}

// handZip writes a ZIP byte by byte: one local header + data per element of
// locals, and a central directory that may point several entries at the
// same local header (as non-recursive zip bombs do).
func handZip(locals []rawEntry, datas [][]byte, central []rawEntry) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	for i, l := range locals {
		le(uint32(0x04034b50))
		le(uint16(20))
		le(uint16(0)) // flags
		le(l.method)
		le(uint16(0)) // time
		le(uint16(33))
		le(l.crc)
		le(l.csize)
		le(l.usize)
		le(uint16(len(l.name)))
		le(uint16(0))
		b.WriteString(l.name)
		b.Write(datas[i])
	}
	cdStart := b.Len()
	for _, c := range central {
		le(uint32(0x02014b50))
		le(c.creatorVer)
		le(uint16(20))
		le(uint16(0))
		le(c.method)
		le(uint16(0))
		le(uint16(33))
		le(c.crc)
		le(c.csize)
		le(c.usize)
		le(uint16(len(c.name)))
		le(uint16(0)) // extra
		le(uint16(0)) // comment
		le(uint16(0)) // disk
		le(uint16(0)) // internal attrs
		le(c.extAttrs)
		le(c.offset)
		b.WriteString(c.name)
	}
	cdEnd := b.Len()
	le(uint32(0x06054b50))
	le(uint16(0))
	le(uint16(0))
	le(uint16(len(central)))
	le(uint16(len(central)))
	le(uint32(cdEnd - cdStart))
	le(uint32(cdStart))
	le(uint16(0))
	return b.Bytes()
}

// crc is the IEEE CRC-32 of s.
func crc(s string) uint32 { return crc32.ChecksumIEEE([]byte(s)) }

// writeTree writes files (name -> content) under a new temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// validTree is validEntries as a project directory.
func validTree(t *testing.T) string {
	t.Helper()
	files := map[string]string{}
	for _, e := range validEntries() {
		files[e.name] = e.data
	}
	return writeTree(t, files)
}

// hasProblem reports whether list has a problem for file whose message
// contains substr.
func hasProblem(list []Problem, file, substr string) bool {
	for _, p := range list {
		if p.File == file && strings.Contains(p.Message, substr) {
			return true
		}
	}
	return false
}

var testTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
