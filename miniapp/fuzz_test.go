package miniapp

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// fuzzLimits keep each fuzz iteration cheap while exercising every limit.
func fuzzLimits() Limits {
	return Limits{MaxPackageBytes: 1 << 20, MaxUncompressedBytes: 1 << 20, MaxFileBytes: 256 << 10,
		MaxFiles: 64, MaxPages: 8, WarnImageBytes: 1 << 10}
}

// FuzzOpen feeds arbitrary bytes to the package reader: it must never
// panic, never exceed the limits, and accept only consistent packages.
func FuzzOpen(f *testing.F) {
	f.Add(buildZip(f, validEntries()...))
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := fuzzLimits()
		p, err := OpenBytes(context.Background(), data, lim)
		if err != nil {
			if len(Problems(err)) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			return
		}
		if p.Manifest == nil || p.Manifest.Version.Code <= 0 || len(p.Manifest.Pages) == 0 {
			t.Fatalf("accepted with manifest %+v", p.Manifest)
		}
		var total int64
		keys := map[string]bool{}
		for i, f := range p.Files {
			total += f.Size
			if checkName(f.Name) != "" || keys[foldKey(f.Name)] || (i > 0 && p.Files[i-1].Name >= f.Name) {
				t.Fatalf("accepted bad or colliding name %q", f.Name)
			}
			keys[foldKey(f.Name)] = true
		}
		if total > lim.MaxUncompressedBytes || len(p.Files) > lim.MaxFiles {
			t.Fatalf("accepted %d files, %d bytes", len(p.Files), total)
		}
	})
}

// FuzzManifest feeds arbitrary bytes to the manifest parser: it must never
// panic and return either a manifest or errors, never both.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(testManifest))
	f.Add([]byte(`{"version": {"code": "1"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, errs, _ := ParseManifest(data)
		if (m == nil) == (len(errs) == 0) {
			t.Fatalf("manifest %v with errors %v", m, errs)
		}
		if m != nil && (m.Version.Code <= 0 || len(m.Pages) == 0 || m.AppID == "") {
			t.Fatalf("accepted %+v", m)
		}
		for _, e := range errs {
			if e.File != "manifest.json" || e.Message == "" {
				t.Fatalf("bad problem %+v", e)
			}
		}
	})
}

// TestWriteFuzzCorpus regenerates the checked-in seed corpus under
// testdata/fuzz with -update. Without -update it checks that the corpus is
// there.
func TestWriteFuzzCorpus(t *testing.T) {
	seeds := map[string][]byte{}
	seeds["FuzzOpen/valid"] = buildZip(t, validEntries()...)
	seeds["FuzzOpen/plain-web-app"] = buildZip(t, entry{name: "manifest.json", data: `{"app_id": "a", "name": "n", "icons": [{"src": "i.png"}], "version": {"code": 1, "name": "1"}, "pages": ["index.html"]}`},
		entry{name: "index.html", data: `<script src="g.js"></script>`}, entry{name: "g.js", data: "1"}, entry{name: "i.png", data: "p"})
	seeds["FuzzOpen/symlink"] = buildZip(t, with(entry{name: "common/l", data: "/etc/passwd", mode: fs.ModeSymlink | 0o777})...)
	seeds["FuzzOpen/encrypted"] = buildZip(t, with(entry{name: "common/s", data: "xx", raw: true, flags: 1, size: 2, crc: crc("xx")})...)
	seeds["FuzzOpen/method"] = buildZip(t, with(entry{name: "common/s", data: "xx", raw: true, method: 14, size: 2})...)
	seeds["FuzzOpen/lying-size"] = buildZip(t, with(entry{name: "common/b", data: deflate(t, make([]byte, 4096)), raw: true, method: 8, size: 16})...)
	seeds["FuzzOpen/names"] = buildZip(t, with(entry{name: "common/caf\u00e9", data: "1"}, entry{name: "common/CAFE\u0301", data: "2"},
		entry{name: "../x", data: "3"}, entry{name: "a\\b", data: "4"}, entry{name: "\xff", data: "5"})...)
	l := rawEntry{name: "k", method: 0, crc: crc("kk"), csize: 2, usize: 2}
	a, b := l, l
	a.name, b.name = "ka", "kb"
	seeds["FuzzOpen/overlap"] = handZip([]rawEntry{l}, [][]byte{[]byte("kk")}, []rawEntry{a, b})
	seeds["FuzzManifest/valid"] = []byte(testManifest)
	seeds["FuzzManifest/syntax"] = []byte("{\n  \"app_id\": ,\n}")
	seeds["FuzzManifest/types"] = []byte(`{"app_id": 1, "name": [], "icons": {}, "version": {"code": 1.5}, "pages": [1], "window": {"fullscreen": "no"}, "widgets": [{}]}`)
	seeds["FuzzManifest/unicode"] = []byte("\xef\xbb\xbf{\"app_id\": \"\u5c0f\", \"name\": \"\xff\", \"lang\": \"zh-Hans-CN-x-private\"}")

	names := make([]string, 0, len(seeds))
	for n := range seeds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join("testdata", "fuzz", filepath.FromSlash(n))
		if *update {
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", seeds[n])), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("seed corpus file missing (run with -update): %v", err)
		}
	}
}
