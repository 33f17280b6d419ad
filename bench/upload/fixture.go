// Package upload holds the fixture of the upload benchmarks
// (upload_test.go; bench/upload.sh).
package upload

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/openmini/openmini/miniapp"
)

// Package writes a project of about size bytes into dir (150
// incompressible files, say images, and 50 scripts beside the shop
// template) and packs it under the default limits.
func Package(dir string, size int) ([]byte, error) {
	proj := filepath.Join(dir, "proj")
	if err := miniapp.Init(proj, "shop", "Bench"); err != nil {
		return nil, err
	}
	per := size * 3 / 4 / 150
	for i := 0; i < 150; i++ {
		b := make([]byte, per)
		rand.Read(b)
		if err := os.WriteFile(filepath.Join(proj, "common", fmt.Sprintf("img%03d.bin", i)), b, 0o644); err != nil {
			return nil, err
		}
	}
	for i := 0; i < 50; i++ {
		src := fmt.Sprintf("// module %d\n", i)
		for len(src) < size/4/50*3 {
			src += fmt.Sprintf("export function f%d_%d(x) { return x * %d + %d; }\n", i, len(src), i, len(src))
		}
		if err := os.WriteFile(filepath.Join(proj, "common", fmt.Sprintf("mod%03d.js", i)), []byte(src), 0o644); err != nil {
			return nil, err
		}
	}
	pkg, _, err := miniapp.Pack(context.Background(), proj, miniapp.DefaultLimits())
	return pkg, err
}
