package discoverybench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

// shape is FullShape, or a smaller one from DISCOVERY_BENCH_SCALE (a
// divisor: 10 gives 10,000 apps and 100,000 launches) for quick runs.
func shape(b *testing.B) Shape {
	sh := FullShape
	if s := os.Getenv("DISCOVERY_BENCH_SCALE"); s != "" {
		k, err := strconv.Atoi(s)
		if err != nil || k < 1 {
			b.Fatalf("DISCOVERY_BENCH_SCALE=%q: want a positive integer", s)
		}
		sh = Shape{Apps: sh.Apps / k, Users: sh.Users / k, Launches: sh.Launches / k, Payments: sh.Payments / k, Days: sh.Days}
	}
	return sh
}

// searches is the query mix: Chinese words and names, English words and
// brand prefixes, two-word queries, typos.
var searches = []string{
	"咖啡", "奶茶", "火锅", "酒店", "地铁", "超市", "药房", "面包", "宠物", "健身",
	"星巴", "瑞幸咖啡", "海底捞火锅", "喜茶", "全家", "美团", "如家酒店", "拿铁",
	"coffee", "hotel", "metro", "pharmacy", "cinema", "noodles", "burger", "bakery",
	"lu", "kama", "vexo", "rino", "tea house", "hot pot", "coffee latte", "market fresh",
	"cofee", "hotl", "pharmcy", "bakary", "noodels", "cinmea", "parkng", "laundy",
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// percentiles returns p50 and p99 of ds.
func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	return at(0.50), at(0.99)
}

// report records p50 and p99 over all requests, and the lowest p99 of
// consecutive rounds of 500 requests ("p99-round-ms"): on a machine shared
// with other jobs, a burst of foreign load inflates the overall p99, while
// the best round shows the code's own tail. The load average is logged.
func report(b *testing.B, ds []time.Duration, cpu time.Duration) {
	best := time.Duration(0)
	for start := 0; start+500 <= len(ds); start += 500 {
		_, p99 := percentiles(append([]time.Duration(nil), ds[start:start+500]...))
		if best == 0 || p99 < best {
			best = p99
		}
	}
	p50, p99 := percentiles(ds)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	if best > 0 {
		b.ReportMetric(float64(best.Microseconds())/1000, "p99-round-ms")
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(ds)), "cpu-µs/op")
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.Logf("load average: %s", strings.Join(strings.Fields(string(load))[:3], " "))
	}
}

// BenchmarkDiscovery builds the fixture once per database and measures
// search, suggestions and recommendations on it, reporting p50 and p99
// latency of single requests.
func BenchmarkDiscovery(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var url string
			if dialect == "postgres" {
				url = testenv.PostgresURL(b)
			} else {
				url = "sqlite://" + filepath.Join(b.TempDir(), "bench.db")
			}
			ctx := context.Background()
			db, err := sqldb.Open(ctx, sqldb.Config{URL: url, DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			svc := discovery.New(db, discovery.Options{
				Now:    func() time.Time { return Now },
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			sh := shape(b)
			start := time.Now()
			apps, err := Load(ctx, db, svc, sh, func(f string, a ...any) { b.Logf(dialect+": "+f, a...) })
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: fixture ready in %s", dialect, time.Since(start).Round(time.Millisecond))
			if dialect == "postgres" {
				if _, err := db.Exec(ctx, "ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			run(b, dialect, db, svc, apps, sh)
		})
	}
}

func run(b *testing.B, dialect string, db *sqldb.DB, svc *discovery.Service, apps []App, sh Shape) {
	ctx := context.Background()
	b.Run("search", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 1))
		var ds []time.Duration
		hits := 0
		cpu := cpuTime()
		for b.Loop() {
			q := searches[rng.IntN(len(searches))]
			t := time.Now()
			res, err := svc.Search(ctx, discovery.SearchQuery{Text: q})
			ds = append(ds, time.Since(t))
			if err != nil {
				b.Fatal(err)
			}
			hits += len(res.Apps)
		}
		report(b, ds, cpuTime()-cpu)
		b.ReportMetric(float64(hits)/float64(len(ds)), "hits/op")
	})
	b.Run("suggest", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(2, 2))
		var ds []time.Duration
		cpu := cpuTime()
		for b.Loop() {
			// A prefix of an app name, as typed.
			name := []rune(apps[rng.IntN(len(apps))].Doc.Name)
			prefix := string(name[:min(len(name), 2+rng.IntN(4))])
			t := time.Now()
			if _, err := svc.Suggest(ctx, prefix, 8); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(t))
		}
		report(b, ds, cpuTime()-cpu)
	})
	b.Run("recommend", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(3, 3))
		var ds []time.Duration
		reasons := map[discovery.ReasonKind]int{}
		cpu := cpuTime()
		for b.Loop() {
			req := discovery.RecommendRequest{
				AccountID: 1 + rng.Int64N(int64(sh.Users)),
				At:        Now.Add(time.Duration(rng.IntN(24)) * time.Hour),
				Limit:     10,
			}
			if rng.IntN(2) == 0 {
				p := discovery.Point{Lat: Centre.Lat + rng.Int64N(200_000) - 100_000, Lng: Centre.Lng + rng.Int64N(200_000) - 100_000}
				req.Location = &p
			}
			t := time.Now()
			recs, err := svc.Recommend(ctx, req)
			ds = append(ds, time.Since(t))
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range recs {
				reasons[r.Reason.Kind]++
			}
		}
		report(b, ds, cpuTime()-cpu)
		b.Logf("%s: reasons over %d requests: %v", dialect, len(ds), fmt.Sprint(reasons))
	})
	b.Run("reference-pk", func(b *testing.B) {
		// The floor under every figure above: one primary key lookup
		// through the same sqldb pool.
		rng := rand.New(rand.NewPCG(4, 4))
		var ds []time.Duration
		cpu := cpuTime()
		for b.Loop() {
			var name string
			t := time.Now()
			if err := db.QueryRow(ctx, `SELECT name FROM discovery_apps WHERE app_id = ?`, apps[rng.IntN(len(apps))].Doc.AppID).Scan(&name); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(t))
		}
		report(b, ds, cpuTime()-cpu)
	})
}
