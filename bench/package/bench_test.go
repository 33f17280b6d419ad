package packagebench

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/openmini/openmini/miniapp"
)

func project(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "bench")
	if err := WriteProject(dir); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkValidatePack is `openmini pack`: read the 5 MB, 500-file
// project, build the package, and validate it.
func BenchmarkValidatePack(b *testing.B) {
	dir := project(b)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		pkg, p, err := miniapp.Pack(context.Background(), dir, miniapp.DefaultLimits())
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Files) != ProjectFiles {
			b.Fatalf("%d files", len(p.Files))
		}
		size = len(pkg)
	}
	b.ReportMetric(float64(size), "pkg-bytes")
}

// BenchmarkValidatePackage is the server's check of an uploaded package
// (the one the project packs to).
func BenchmarkValidatePackage(b *testing.B) {
	pkg, _, err := miniapp.Pack(context.Background(), project(b), miniapp.DefaultLimits())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := miniapp.OpenBytes(context.Background(), pkg, miniapp.DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefuseBomb refuses the 10 GiB overlapping-entries bomb, with
// honest headers (refused from the central directory) and with headers
// that understate the sizes (refused while inflating). peak-heap-MB is the
// largest heap growth seen in one refusal.
func BenchmarkRefuseBomb(b *testing.B) {
	for _, tc := range []struct {
		name   string
		honest bool
	}{{"honest-headers", true}, {"lying-headers", false}} {
		b.Run(tc.name, func(b *testing.B) {
			bomb := Bomb(tc.honest)
			runtime.GC()
			var before, after runtime.MemStats
			var peak uint64
			b.ReportAllocs()
			for b.Loop() {
				runtime.ReadMemStats(&before)
				_, err := miniapp.OpenBytes(context.Background(), bomb, miniapp.DefaultLimits())
				runtime.ReadMemStats(&after)
				if err == nil {
					b.Fatal("bomb accepted")
				}
				if d := after.TotalAlloc - before.TotalAlloc; d > peak {
					peak = d
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "alloc-MB/op-max")
			b.ReportMetric(float64(len(bomb))/(1<<20), "bomb-MB")
		})
	}
}

// TestFixtures keeps the fixtures honest: the project packs under the
// default limits and both kinds of bomb are refused.
func TestFixtures(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	if err := WriteProject(dir); err != nil {
		t.Fatal(err)
	}
	if _, _, err := miniapp.Pack(context.Background(), dir, miniapp.DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	// Entries of 64 MiB keep the test fast; the benchmarks use 1 GiB.
	for _, honest := range []bool{true, false} {
		_, err := miniapp.OpenBytes(context.Background(), bomb(honest, 64), miniapp.DefaultLimits())
		if err == nil {
			t.Fatalf("bomb (honest=%v) accepted", honest)
		}
		t.Log(err)
	}
}
