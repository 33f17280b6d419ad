package miniapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/openmini/openmini"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestPackDeterministic(t *testing.T) {
	dir := validTree(t)
	// Things that must not change the bytes: timestamps, permissions, and
	// files that are never packed.
	writeExtra := func(dir string) {
		os.WriteFile(filepath.Join(dir, "README.md"), []byte("notes"), 0o600)
		os.MkdirAll(filepath.Join(dir, ".git"), 0o755)
		os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("ref"), 0o644)
		os.WriteFile(filepath.Join(dir, "old.ma"), []byte("PK"), 0o644)
		os.WriteFile(filepath.Join(dir, "openmini.d.ts"), []byte("export {};"), 0o644)
		os.WriteFile(filepath.Join(dir, "jsconfig.json"), []byte("{}"), 0o644)
		os.WriteFile(filepath.Join(dir, "tsconfig.json"), []byte("{}"), 0o644)
		os.MkdirAll(filepath.Join(dir, "common"), 0o755)
		os.WriteFile(filepath.Join(dir, "common", "shop.d.ts"), []byte("export {};"), 0o644)
	}
	a, _, err := Pack(context.Background(), dir, DefaultLimits())
	if err != nil {
		t.Fatalf("Pack: %v", err)
	}
	other := validTree(t)
	writeExtra(other)
	os.Chmod(filepath.Join(other, "app.js"), 0o755)
	os.Chtimes(filepath.Join(other, "app.css"), testTime, testTime)
	b, _, err := Pack(context.Background(), other, DefaultLimits())
	if err != nil {
		t.Fatalf("Pack: %v", err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("same project packed to different bytes")
	}
	old := runtime.GOMAXPROCS(1)
	c, _, err := Pack(context.Background(), dir, DefaultLimits())
	runtime.GOMAXPROCS(old)
	if err != nil || !bytes.Equal(a, c) {
		t.Fatalf("packing on one CPU gave different bytes (%v)", err)
	}

	sum := sha256.Sum256(a)
	got := hex.EncodeToString(sum[:]) + "\n"
	golden := filepath.Join("testdata", "pack.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestPackDeterministic -update)", err)
	}
	if got != string(want) {
		t.Errorf("package digest %s, golden %s (a new Go release may change deflate output: check, then -update)", got, want)
	}
}

func TestPackRejectsProjectProblems(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		limits  func(*Limits)
		file    string
		message string
	}{
		{name: "symlink", setup: func(t *testing.T, dir string) {
			if err := os.Symlink("/etc/passwd", filepath.Join(dir, "common", "passwd")); err != nil {
				t.Skip(err)
			}
		}, file: "common/passwd", message: "symbolic links are not allowed"},
		{name: "backslash in a file name", setup: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "common", `a\b.js`), []byte("x"), 0o644)
		}, file: `common/a\b.js`, message: "backslash"},
		{name: "case collision", setup: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "common", "ICON.png"), []byte("x"), 0o644)
		}, file: "common/icon.png", message: `collides with "common/ICON.png"`},
		{name: "manifest missing", setup: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "manifest.json"))
		}, file: "manifest.json", message: "missing"},
		{name: "file too large", limits: func(l *Limits) { l.MaxFileBytes = 20 }, setup: func(t *testing.T, dir string) {}, file: "pages/index.html", message: "the limit per file"},
		{name: "project too large", limits: func(l *Limits) { l.MaxUncompressedBytes = 100 }, setup: func(t *testing.T, dir string) {}, file: "", message: "the limit is 100 bytes"},
		{name: "too many files", limits: func(l *Limits) { l.MaxFiles = 3 }, setup: func(t *testing.T, dir string) {}, file: "", message: "more than 3 files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := validTree(t)
			tt.setup(t, dir)
			lim := DefaultLimits()
			if tt.limits != nil {
				tt.limits(&lim)
			}
			_, _, err := Pack(context.Background(), dir, lim)
			if err == nil {
				t.Fatal("packed")
			}
			if !hasProblem(Problems(err), tt.file, tt.message) {
				t.Fatalf("problems = %q; want %q containing %q", Problems(err), tt.file, tt.message)
			}
		})
	}
}

func TestPackNotADirectory(t *testing.T) {
	if _, _, err := Pack(context.Background(), filepath.Join(t.TempDir(), "nope"), DefaultLimits()); err == nil {
		t.Fatal("packed a missing directory")
	}
}

func TestTemplatesPackAndValidate(t *testing.T) {
	for _, name := range Templates() {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "proj")
			if err := Init(dir, name, `My "Shop"`); err != nil {
				t.Fatalf("Init: %v", err)
			}
			pkg, p, err := Pack(context.Background(), dir, DefaultLimits())
			if err != nil {
				t.Fatalf("Pack: %v", err)
			}
			if len(p.Warnings) != 0 {
				t.Errorf("warnings: %v", p.Warnings)
			}
			if p.Manifest.Name != `My "Shop"` || p.Manifest.AppID != "com.example.my_shop" {
				t.Errorf("manifest name %q app_id %q", p.Manifest.Name, p.Manifest.AppID)
			}
			if _, ok := p.File("README.md"); ok {
				t.Error("README.md was packed")
			}
			if _, err := OpenBytes(context.Background(), pkg, DefaultLimits()); err != nil {
				t.Errorf("packed template does not open: %v", err)
			}
			js := ""
			for _, f := range p.Files {
				if strings.HasSuffix(f.Name, ".js") {
					js += string(f.Data)
				}
			}
			if !strings.Contains(js, "typeof openmini !== 'undefined'") || !strings.Contains(js, "openmini") {
				t.Error("template does not use the guarded openmini SDK")
			}
		})
	}
}

func TestInitErrors(t *testing.T) {
	dir := t.TempDir()
	if err := Init(dir, "nope", "x"); openmini.ErrorCode(err) != openmini.EINVALID {
		t.Errorf("unknown template: %v", err)
	}
	if err := Init(dir, "blank", " "); openmini.ErrorCode(err) != openmini.EINVALID {
		t.Errorf("empty name: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	if err := Init(dir, "blank", "x"); openmini.ErrorCode(err) != openmini.ECONFLICT {
		t.Errorf("non-empty dir: %v", err)
	}
}

func TestAppID(t *testing.T) {
	for in, want := range map[string]string{"My Shop": "com.example.my_shop", "42 Things": "com.example.app42_things", "点餐": "com.example.app"} {
		if got := appID(in); got != want {
			t.Errorf("appID(%q) = %q, want %q", in, got, want)
		}
	}
}
