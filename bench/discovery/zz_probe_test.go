package discoverybench

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"testing"
	"time"

	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

func TestProbe(t *testing.T) {
	ctx := context.Background()
	url := "sqlite://" + filepath.Join(t.TempDir(), "bench.db")
	if testenv.RequireAll() {
		url = "postgres://postgres@127.0.0.1:31011/probe?sslmode=disable"
	}
	db, _ := sqldb.Open(ctx, sqldb.Config{URL: url, DataDir: t.TempDir()})
	svc := discovery.New(db, discovery.Options{Now: func() time.Time { return Now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	sh := Shape{Apps: 100000, Users: 500, Launches: 10000, Payments: 100, Days: 90}
	if _, err := Load(ctx, db, svc, sh, t.Logf); err != nil {
		t.Fatal(err)
	}
	if db.Dialect() == sqldb.Postgres {
		db.Exec(ctx, "ANALYZE")
	}
	type r struct {
		q string
		d time.Duration
		n int
	}
	var rs []r
	for _, q := range searches {
		var best time.Duration = time.Hour
		n := 0
		for i := 0; i < 5; i++ {
			s := time.Now()
			res, err := svc.Search(ctx, discovery.SearchQuery{Text: q})
			if err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(s))
			n = len(res.Apps)
		}
		rs = append(rs, r{q, best, n})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].d > rs[j].d })
	for _, x := range rs[:15] {
		t.Logf("%-14s %8s %d", x.q, x.d, x.n)
	}
}

func TestProbeProfile(t *testing.T) {
	ctx := context.Background()
	url := "sqlite://" + filepath.Join(t.TempDir(), "bench.db")
	db, _ := sqldb.Open(ctx, sqldb.Config{URL: url, DataDir: t.TempDir()})
	svc := discovery.New(db, discovery.Options{Now: func() time.Time { return Now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	sh := Shape{Apps: 100000, Users: 500, Launches: 10000, Payments: 100, Days: 90}
	if _, err := Load(ctx, db, svc, sh, t.Logf); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create("/tmp/search.prof")
	pprof.StartCPUProfile(f)
	s := time.Now()
	for i := 0; i < 300; i++ {
		svc.Search(ctx, discovery.SearchQuery{Text: searches[i%len(searches)]})
	}
	pprof.StopCPUProfile()
	t.Logf("avg %s", time.Since(s)/300)
}
