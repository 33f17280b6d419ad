// Benchmarks of the server side of a version upload: validate the
// package under the operator's limits, hash and store every file
// content-addressed, sign the package, record the version. The package is
// about 2 MB (the default limit) with 200 files.
//
//	go test -run '^$' -bench . -benchtime 20x ./bench/upload

package upload

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/platform"
)

// world starts a platform (SQLite, blob folder) under dir with a
// developer and one registered app.
func world(b *testing.B, dir string) (*platform.Platform, openmini.Actor, string) {
	ctx := context.Background()
	cfg := platform.Defaults()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", filepath.Join(dir, "data")
	p, err := platform.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	acct, err := p.Accounts.Create(ctx, p.DB, account.NewAccount{Email: "bench@example.com", Name: "Bench", Password: "bench-password-1"})
	if err != nil {
		b.Fatal(err)
	}
	dev := openmini.Actor{AccountID: acct.ID, Label: acct.Email}
	o, err := p.Orgs.Create(ctx, dev, "Bench")
	if err != nil {
		b.Fatal(err)
	}
	name, cat := "Bench", "tools"
	a, _, err := p.Apps.Create(ctx, dev, o.ID, app.Settings{Name: &name, Category: &cat})
	if err != nil {
		b.Fatal(err)
	}
	return p, dev, a.ID
}

func BenchmarkUpload2MB(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	pkg, err := Package(dir, 2<<20-200<<10)
	if err != nil {
		b.Fatal(err)
	}
	p, dev, appID := world(b, dir)
	b.SetBytes(int64(len(pkg)))
	b.ReportMetric(float64(len(pkg))/(1<<20), "MB/package")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A new version each time; the files are the same, so after the
		// first upload the content store finds them already there, as it
		// does for most real uploads of a next version.
		if _, err := p.Apps.Upload(ctx, dev, appID, app.Upload{Package: pkg, Version: fmt.Sprintf("1.0.%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpload2MBNewFiles(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	p, dev, appID := world(b, dir)
	pkgs := make([][]byte, b.N)
	for i := range pkgs {
		var err error
		if pkgs[i], err = Package(filepath.Join(dir, fmt.Sprint(i)), 2<<20-200<<10); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Every file new: all of them hashed, compressed where text, written.
		if _, err := p.Apps.Upload(ctx, dev, appID, app.Upload{Package: pkgs[i], Version: fmt.Sprintf("2.0.%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
}
