package miniapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/openmini/openmini"
)

func TestOpenValid(t *testing.T) {
	pkg := buildZip(t, validEntries()...)
	p, err := OpenBytes(context.Background(), pkg, DefaultLimits())
	if err != nil {
		t.Fatalf("OpenBytes: %v", err)
	}
	if p.Manifest.AppID != "com.example.test" || p.Manifest.Version.Code != 1 {
		t.Errorf("manifest = %+v", p.Manifest)
	}
	if len(p.Files) != len(validEntries()) {
		t.Errorf("got %d files, want %d", len(p.Files), len(validEntries()))
	}
	if len(p.Warnings) != 0 {
		t.Errorf("unexpected warnings: %v", p.Warnings)
	}
	if f, ok := p.File("pages/index.css"); !ok || string(f.Data) != "body{margin:0}" {
		t.Errorf("File(pages/index.css) = %v, %v", f, ok)
	}
}

// TestOpenRejects has one crafted archive per rejection class. Each must be
// refused with a problem naming the file and saying what is wrong.
func TestOpenRejects(t *testing.T) {
	strict := DefaultLimits()
	big := strings.Repeat("a", 3000)
	bomb := deflate(t, make([]byte, 50<<20)) // 50 MB of zeros in ~50 KB

	tests := []struct {
		name     string
		pkg      func(t *testing.T) []byte
		limits   func(*Limits)
		file     string
		message  string
		tooLarge bool
	}{
		{name: "not a zip", pkg: func(t *testing.T) []byte { return []byte("PK\x03\x04 this is not really a zip") },
			file: "", message: "not a ZIP archive"},
		{name: "empty file", pkg: func(t *testing.T) []byte { return nil }, file: "", message: "not a ZIP archive"},
		{name: "manifest missing", pkg: func(t *testing.T) []byte { return buildZip(t, without("manifest.json")...) },
			file: "manifest.json", message: "missing"},
		{name: "manifest not json", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "manifest.json", data: "{\n  \"app_id\": \"x\",\n  oops\n}"})...)
		}, file: "manifest.json", message: "line 3, column 3: invalid JSON"},
		{name: "manifest truncated", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "manifest.json", data: "{\n  \"app_id\": \"x\","})...)
		}, file: "manifest.json", message: "line 2, column 17: invalid JSON: unexpected end"},
		{name: "manifest not an object", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "manifest.json", data: `["pages/index"]`})...)
		}, file: "manifest.json", message: "must be a JSON object"},
		{name: "required member missing", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "manifest.json", data: strings.Replace(testManifest, `"app_id": "com.example.test",`, "", 1)})...)
		}, file: "manifest.json", message: `required member "app_id" is missing`},
		{name: "nested required member missing", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "manifest.json", data: strings.Replace(testManifest, `"name": "1.0.0"`, `"nam": "1.0.0"`, 1)})...)
		}, file: "manifest.json", message: `required member "version.name" is missing`},
		{name: "member of wrong type", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "manifest.json", data: strings.Replace(testManifest, `"name": "Test"`, `"name": 7`, 1)})...)
		}, file: "manifest.json", message: `member "name" must be a string, not the number 7`},
		{name: "array element of wrong type", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "manifest.json", data: strings.Replace(testManifest, `"pages/about"]`, `{"path": "x"}]`, 1)})...)
		}, file: "manifest.json", message: `member "pages[1]" must be a string, not an object`},
		{name: "version.code a string", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "manifest.json", data: strings.Replace(testManifest, `"code": 1`, `"code": "1"`, 1)})...)
		}, file: "manifest.json", message: `member "version.code" must be an integer, not a string`},
		{name: "version.code zero", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "manifest.json", data: strings.Replace(testManifest, `"code": 1`, `"code": 0`, 1)})...)
		}, file: "manifest.json", message: "version.code must be a positive integer"},
		{name: "version.code negative", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "manifest.json", data: strings.Replace(testManifest, `"code": 1`, `"code": -3`, 1)})...)
		}, file: "manifest.json", message: "version.code must be a positive integer"},
		{name: "version.code fractional", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "manifest.json", data: strings.Replace(testManifest, `"code": 1`, `"code": 1.5`, 1)})...)
		}, file: "manifest.json", message: `member "version.code" must be an integer, not 1.5`},
		{name: "enum value", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "manifest.json", data: strings.Replace(testManifest, `"name": "Test",`, `"name": "Test", "dir": "up",`, 1)})...)
		}, file: "manifest.json", message: `member "dir" must be one of ltr, rtl, auto`},
		{name: "page absent", pkg: func(t *testing.T) []byte { return buildZip(t, without("pages/about.html")...) },
			file: "pages/about.html", message: "listed in manifest.json pages but not in the package"},
		{name: "icon absent", pkg: func(t *testing.T) []byte { return buildZip(t, without("common/icon.png")...) },
			file: "common/icon.png", message: "listed in manifest.json icons but not in the package"},
		{name: "encrypted entry", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/secret.txt", data: "ciphertext", raw: true, flags: 0x1, size: 10, crc: crc("ciphertext")})...)
		}, file: "common/secret.txt", message: "encrypted entries are not allowed"},
		{name: "bzip2 method", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/data.bin", data: "BZh9...", raw: true, method: 12, size: 100})...)
		}, file: "common/data.bin", message: "compression method 12 is not allowed"},
		{name: "absolute name", pkg: func(t *testing.T) []byte { return buildZip(t, with(entry{name: "/etc/passwd", data: "x"})...) },
			file: "/etc/passwd", message: "absolute file name"},
		{name: "drive letter", pkg: func(t *testing.T) []byte { return buildZip(t, with(entry{name: "C:/boot.ini", data: "x"})...) },
			file: "C:/boot.ini", message: "absolute file name"},
		{name: "dot dot", pkg: func(t *testing.T) []byte { return buildZip(t, with(entry{name: "common/../../evil.js", data: "x"})...) },
			file: "common/../../evil.js", message: `contains ".."`},
		{name: "backslash", pkg: func(t *testing.T) []byte { return buildZip(t, with(entry{name: `common\evil.js`, data: "x"})...) },
			file: `common\evil.js`, message: "backslash"},
		{name: "not utf-8", pkg: func(t *testing.T) []byte { return buildZip(t, with(entry{name: "common/caf\xe9.txt", data: "x"})...) },
			file: `"common/caf\xe9.txt"`, message: "not valid UTF-8"},
		{name: "control character", pkg: func(t *testing.T) []byte { return buildZip(t, with(entry{name: "common/a\x07.txt", data: "x"})...) },
			file: `"common/a\a.txt"`, message: "control character"},
		{name: "same name twice", pkg: func(t *testing.T) []byte {
			return buildZip(t, append(validEntries(), entry{name: "common/x.js", data: "1"}, entry{name: "common/x.js", data: "2"})...)
		},
			file: "common/x.js", message: "appears twice"},
		{name: "case collision", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/Logo.png", data: "1"}, entry{name: "common/LOGO.png", data: "2"})...)
		}, file: "common/LOGO.png", message: `collides with "common/Logo.png"`},
		{name: "NFC collision", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/caf\u00e9.png", data: "1"}, entry{name: "common/cafe\u0301.png", data: "2"})...)
		}, file: "common/cafe\u0301.png", message: "collides with"},
		{name: "case folding beyond ASCII", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/STRASSE.txt", data: "1"}, entry{name: "common/straße.txt", data: "2"})...)
		}, file: "common/straße.txt", message: "collides with"},
		{name: "file and directory", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/a", data: "1"}, entry{name: "common/A/b.txt", data: "2"})...)
		}, file: "common/a", message: "both a file and a directory"},
		{name: "symlink", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/link", data: "/etc/passwd", mode: fs.ModeSymlink | 0o777})...)
		}, file: "common/link", message: "symbolic links are not allowed"},
		{name: "symlink hand-crafted", pkg: func(t *testing.T) []byte {
			target := "../../etc/passwd"
			l := rawEntry{name: "common/link", method: 0, crc: crc(target), csize: uint32(len(target)), usize: uint32(len(target))}
			c := l
			c.creatorVer, c.extAttrs = 3<<8|20, (0o120777)<<16
			return handZip([]rawEntry{l}, [][]byte{[]byte(target)}, []rawEntry{c})
		}, file: "common/link", message: "symbolic links are not allowed"},
		{name: "named pipe", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/fifo", mode: fs.ModeNamedPipe | 0o644})...)
		}, file: "common/fifo", message: "not a regular file"},
		{name: "device", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/sda", mode: fs.ModeDevice | 0o644})...)
		}, file: "common/sda", message: "not a regular file"},
		{name: "too many files", limits: func(l *Limits) { l.MaxFiles = 5 },
			pkg: func(t *testing.T) []byte { return buildZip(t, validEntries()...) }, file: "", message: "more than 5 files", tooLarge: true},
		{name: "file too large", limits: func(l *Limits) { l.MaxFileBytes = 2000 },
			pkg:  func(t *testing.T) []byte { return buildZip(t, with(entry{name: "app.js", data: big})...) },
			file: "app.js", message: "the limit per file is 2000 bytes", tooLarge: true},
		{name: "package too large uncompressed", limits: func(l *Limits) { l.MaxUncompressedBytes = 2000 },
			pkg:  func(t *testing.T) []byte { return buildZip(t, with(entry{name: "app.js", data: big})...) },
			file: "", message: "inflates to more than 2000 bytes", tooLarge: true},
		{name: "package too large compressed", limits: func(l *Limits) { l.MaxPackageBytes = 200 },
			pkg: func(t *testing.T) []byte { return buildZip(t, validEntries()...) }, file: "", message: "the limit is 200 bytes", tooLarge: true},
		{name: "too many pages", limits: func(l *Limits) { l.MaxPages = 1 },
			pkg: func(t *testing.T) []byte { return buildZip(t, validEntries()...) }, file: "manifest.json", message: "lists 2 pages; the limit is 1", tooLarge: true},
		{name: "header understates size (zip bomb)", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/bomb.txt", data: bomb, raw: true, method: 8, size: 1000, crc: 0})...)
		}, file: "common/bomb.txt", message: "inflates to more than the 1000 bytes its header declares"},
		{name: "header overstates size", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/short.txt", data: deflate(t, []byte("short")), raw: true, method: 8, size: 50, crc: crc("short")})...)
		}, file: "common/short.txt", message: "inflates to 5 bytes, but its header declares 50"},
		{name: "header claims 10 GB", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/huge.bin", data: bomb, raw: true, method: 8, size: 10 << 30})...)
		}, file: "common/huge.bin", message: "the limit per file is 10 MB", tooLarge: true},
		{name: "overlapping entries bomb", pkg: func(t *testing.T) []byte {
			// Twelve central directory entries share one local file of 50 MB
			// (a non-recursive zip bomb). Each declares its true size.
			l := rawEntry{name: "common/k", method: 8, crc: 0, csize: uint32(len(bomb)), usize: 50 << 20}
			var central []rawEntry
			for i := range 12 {
				c := l
				c.name = "common/k" + string(rune('a'+i))
				central = append(central, c)
			}
			return handZip([]rawEntry{l}, [][]byte{[]byte(bomb)}, central)
		}, file: "common/ka", message: "the limit per file is 10 MB", tooLarge: true},
		{name: "overlapping entries bomb within per-file limit", limits: func(l *Limits) { l.MaxFileBytes = 60 << 20; l.MaxUncompressedBytes = 60 << 20 },
			pkg: func(t *testing.T) []byte {
				l := rawEntry{name: "common/k", method: 8, crc: 0, csize: uint32(len(bomb)), usize: 50 << 20}
				a, b := l, l
				a.name, b.name = "common/ka", "common/kb"
				return handZip([]rawEntry{l}, [][]byte{[]byte(bomb)}, []rawEntry{a, b})
			}, file: "", message: "inflates to more than 60 MB", tooLarge: true},
		{name: "crc mismatch", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/x.txt", data: deflate(t, []byte("hello")), raw: true, method: 8, size: 5, crc: 42})...)
		}, file: "common/x.txt", message: "CRC-32 does not match"},
		{name: "corrupt deflate", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "common/x.txt", data: "\xff\xff\xff\xff", raw: true, method: 8, size: 5})...)
		}, file: "common/x.txt", message: "corrupt entry"},
		{name: "i18n tag", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "i18n/not a tag!.json", data: "{}"})...)
		},
			file: "i18n/not a tag!.json", message: "not a BCP 47 language tag"},
		{name: "i18n json", pkg: func(t *testing.T) []byte {
			return buildZip(t, with(entry{name: "i18n/en-US.json", data: "{\"a\": }"})...)
		},
			file: "i18n/en-US.json", message: "line 1, column 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := strict
			if tt.limits != nil {
				tt.limits(&lim)
			}
			p, err := OpenBytes(context.Background(), tt.pkg(t), lim)
			if err == nil {
				t.Fatalf("accepted: %d files", len(p.Files))
			}
			if !hasProblem(Problems(err), tt.file, tt.message) {
				t.Fatalf("problems = %q; want one for %q containing %q", Problems(err), tt.file, tt.message)
			}
			wantCode := openmini.EINVALID
			if tt.tooLarge {
				wantCode = openmini.ETOOLARGE
			}
			if got := openmini.ErrorCode(err); got != wantCode {
				t.Errorf("code = %q, want %q", got, wantCode)
			}
			if !strings.Contains(openmini.ErrorMessage(err), tt.message) && len(Problems(err)) == 1 {
				t.Errorf("message %q does not carry the problem", openmini.ErrorMessage(err))
			}
		})
	}
}

func TestOpenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := OpenBytes(ctx, buildZip(t, validEntries()...), DefaultLimits())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestOpenBadLimits(t *testing.T) {
	_, err := Open(context.Background(), bytes.NewReader(nil), 0, Limits{})
	if openmini.ErrorCode(err) != openmini.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
}

func TestDirectoryEntriesAllowed(t *testing.T) {
	es := append(validEntries(), entry{name: "common/", mode: fs.ModeDir | 0o755}, entry{name: "pages/", mode: fs.ModeDir | 0o755})
	if _, err := OpenBytes(context.Background(), buildZip(t, es...), DefaultLimits()); err != nil {
		t.Fatalf("OpenBytes: %v", err)
	}
}

func TestProblemsCapped(t *testing.T) {
	es := validEntries()
	for i := range 150 {
		es = append(es, entry{name: fmt.Sprintf("../x%d", i), data: "x"})
	}
	_, err := OpenBytes(context.Background(), buildZip(t, es...), DefaultLimits())
	ps := Problems(err)
	if len(ps) != maxProblems+1 || ps[maxProblems].Message != "50 more problems not shown" {
		t.Fatalf("%d problems, last %v", len(ps), ps[len(ps)-1])
	}
	if !strings.Contains(openmini.ErrorMessage(err), "(and 100 more problems)") {
		t.Errorf("message %q", openmini.ErrorMessage(err))
	}
}
