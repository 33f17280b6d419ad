// Package packagebench holds the package benchmarks (validate and pack a
// 5 MB, 500-file project; refuse a package that inflates to 10 GB) and the
// fixtures they share with bench/package.sh, which times Debian's zip and
// unzip on the same files for reference. See BENCHMARKS.md.
package packagebench

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Project shape: 500 files adding up to about 5 MB.
const (
	ProjectFiles = 500
	ProjectPages = 50
)

var words = strings.Fields(`const let function return if else for while await async openmini showToast getStorage
	setStorage navigateTo page data item price cart order user title list button view text image style color margin
	padding width height flex display none block grid border radius font size weight center left right top bottom
	value index length push map filter reduce then catch error result response request json parse string number`)

// WriteProject writes the benchmark project into dir: a manifest with 50
// pages, app.js, app.css, 50 pages with .html, .css and .js, shared
// scripts and styles in common/, and 100 already-compressed images
// (random bytes, stored as is). It is deterministic.
func WriteProject(dir string) error {
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(n int) []byte {
		var b bytes.Buffer
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))])
			if rng.IntN(12) == 0 {
				b.WriteString(";\n")
			} else {
				b.WriteByte(' ')
			}
		}
		return b.Bytes()[:n]
	}
	files := map[string][]byte{}
	var pages []string
	for i := range ProjectPages {
		name := fmt.Sprintf("pages/p%02d", i)
		pages = append(pages, `"`+name+`"`)
		next := fmt.Sprintf("p%02d.html", (i+1)%ProjectPages)
		files[name+".html"] = append([]byte(fmt.Sprintf(`<!doctype html><link rel="stylesheet" href="p%02d.css"><a href="%s">next</a><img src="../common/img/i%03d.png"><script src="p%02d.js"></script><p>`, i, next, i, i)), text(12<<10)...)
		files[name+".css"] = text(6 << 10)
		files[name+".js"] = text(14 << 10)
	}
	for i := range 247 { // shared scripts and styles
		ext := ".js"
		if i%3 == 0 {
			ext = ".css"
		}
		files[fmt.Sprintf("common/lib/m%03d%s", i, ext)] = text(12<<10 + 512)
	}
	for i := range 100 {
		img := make([]byte, 4<<10)
		for j := range img {
			img[j] = byte(rng.Uint32())
		}
		files[fmt.Sprintf("common/img/i%03d.png", i)] = img
	}
	files["manifest.json"] = []byte(`{"app_id": "com.example.bench", "name": "Bench",
  "icons": [{"src": "common/img/i000.png", "sizes": "144x144"}],
  "version": {"code": 1, "name": "1.0.0"},
  "pages": [` + strings.Join(pages, ", ") + `]}`)
	files["app.js"] = text(32 << 10)
	files["app.css"] = text(4 << 10)
	if len(files) != ProjectFiles {
		return fmt.Errorf("generated %d files, want %d", len(files), ProjectFiles)
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

var (
	kernelMu sync.Mutex
	kernels  = map[int][]byte{}
)

// zeroKernel is mib MiB of zeros, deflated (about 1 KB per MiB).
func zeroKernel(mib int) []byte {
	kernelMu.Lock()
	defer kernelMu.Unlock()
	if k, ok := kernels[mib]; ok {
		return k
	}
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	z := make([]byte, 1<<20)
	for range mib {
		w.Write(z)
	}
	w.Close()
	kernels[mib] = buf.Bytes()
	return buf.Bytes()
}

// Bomb returns a package of about 1 MB that inflates to 10 GiB: ten
// central directory entries share one local file holding 1 GiB of
// deflated zeros (a non-recursive, overlapping-entries zip bomb). With
// honest true, each entry declares its real size (1 GiB); otherwise each
// claims 1 MiB, so only inflating can tell.
func Bomb(honest bool) []byte { return bomb(honest, 1024) }

// bomb is Bomb with entries of mib MiB each.
func bomb(honest bool, mib int) []byte {
	k := zeroKernel(mib)
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	size := uint32(mib) << 20
	if !honest {
		size = 1 << 20
	}
	crc := crc32.ChecksumIEEE(make([]byte, 1<<20)) // wrong for 1 GiB; never reached
	header := func(sig uint32, central bool, name string) {
		le(sig)
		if central {
			le(uint16(20))
		}
		le(uint16(20)) // version needed
		le(uint16(0))  // flags
		le(uint16(8))  // deflate
		le(uint16(0))  // time
		le(uint16(33)) // date 1980-01-01
		le(crc)        //
		le(uint32(len(k)))
		le(size)
		le(uint16(len(name)))
		le(uint16(0)) // extra
		if central {
			le(uint16(0))              // comment
			le(uint16(0))              // disk
			le(uint16(0))              // internal attrs
			le(uint32(0o100644 << 16)) // regular file
			le(uint32(0))              // local header offset: all share one
		}
		b.WriteString(name)
	}
	header(0x04034b50, false, "common/zero")
	b.Write(k)
	cd := b.Len()
	for i := range 10 {
		header(0x02014b50, true, fmt.Sprintf("common/zero%d", i))
	}
	end := b.Len()
	le(uint32(0x06054b50))
	le(uint16(0))
	le(uint16(0))
	le(uint16(10))
	le(uint16(10))
	le(uint32(end - cd))
	le(uint32(cd))
	le(uint16(0))
	return b.Bytes()
}
