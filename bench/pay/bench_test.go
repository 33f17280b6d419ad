// Package paybench measures sustained payments: a merchant's server
// creates an order (with an Idempotency-Key) and a user pays it with the
// PIN, which posts the journal entry and queues the order.paid webhook in
// the same transaction. bench/pay.sh runs it on SQLite and on a throwaway
// PostgreSQL next to pgbench's TPC-B-like script on the same server.
package paybench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/password"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/sqldb"
)

const pin = "258013"

// clients is the number of concurrent payers, the same as pgbench's -c in
// bench/pay.sh (PAY_CLIENTS).
func clients() int {
	if n, err := strconv.Atoi(os.Getenv("PAY_CLIENTS")); err == nil && n > 0 {
		return n
	}
	return 8
}

// merchants is the number of merchants the payments are spread over
// (PAY_MERCHANTS, default 1: every payment credits the same merchant).
func merchants() int {
	if n, err := strconv.Atoi(os.Getenv("PAY_MERCHANTS")); err == nil && n > 0 {
		return n
	}
	return 1
}

type fixture struct {
	svc       *pay.Service
	merchants []int64
	users     []int64
}

// setup opens the database and creates the merchants, each with a
// webhook URL (so every payment queues a delivery), and 256 users with
// money.
func setup(b *testing.B, dbURL string) *fixture {
	b.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Config{URL: dbURL, DataDir: b.TempDir(), MaxConns: 2 * clients()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	// The PIN is checked with argon2id at a small cost: the benchmark
	// measures the database path; BenchmarkPINDefault measures argon2id at
	// the default cost separately.
	svc, err := pay.New(db, pay.Config{
		PINParams:       password.Params{Memory: 64, Time: 1, Threads: 1},
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		WebhookInsecure: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	var org int64
	if err := db.QueryRow(ctx, `INSERT INTO orgs (slug, name, created_at) VALUES ('bench', 'bench', 0) RETURNING id`).Scan(&org); err != nil {
		b.Fatal(err)
	}
	f := &fixture{svc: svc}
	for i := range merchants() {
		m, err := svc.CreateMerchant(ctx, pay.MerchantSpec{OrgID: org, Name: fmt.Sprintf("Bench Cafe %d", i+1), Category: "cafe"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.SetWebhook(ctx, m.ID, "http://127.0.0.1:9/hooks"); err != nil {
			b.Fatal(err)
		}
		f.merchants = append(f.merchants, m.ID)
	}
	for i := range 256 {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO accounts (name, created_at) VALUES (?, 0) RETURNING id`, fmt.Sprintf("u%d", i)).Scan(&id); err != nil {
			b.Fatal(err)
		}
		if err := svc.SetPIN(ctx, id, "", pin); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.TopUpWallet(ctx, id, 10_000_000_00, "seed"); err != nil {
			b.Fatal(err)
		}
		f.users = append(f.users, id)
	}
	return f
}

func run(b *testing.B, f *fixture) {
	ctx := context.Background()
	var seq atomic.Int64
	b.SetParallelism((clients() + 1) / 2) // GOMAXPROCS is 2 on the bench machine
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			user := f.users[int(n)%len(f.users)]
			o, err := f.svc.CreateOrder(ctx, f.merchants[int(n)%len(f.merchants)], "bench-"+strconv.FormatInt(n, 10),
				pay.OrderRequest{Amount: 12_34 + n%100, Description: "coffee"})
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := f.svc.PayOrder(ctx, pay.PayRequest{AccountID: user, OrderID: o.ID, PIN: pin}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "payments/s")
	// CPU per payment (this process, all threads): steadier than the rate
	// on a machine shared with other work.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/payment")
	b.StopTimer()
	if err := f.svc.CheckLedger(ctx); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the user+system CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPaymentsSQLite: create order + pay on the embedded default.
func BenchmarkPaymentsSQLite(b *testing.B) {
	run(b, setup(b, "sqlite://"+filepath.Join(b.TempDir(), "openmini.db")))
}

// BenchmarkPaymentsPostgres: the same on OPENMINI_TEST_POSTGRES.
func BenchmarkPaymentsPostgres(b *testing.B) {
	if os.Getenv("OPENMINI_TEST_POSTGRES") == "" {
		b.Skip("set OPENMINI_TEST_POSTGRES (bench/pay.sh starts a server)")
	}
	run(b, setup(b, testenv.PostgresURL(b)))
}

// BenchmarkPINDefault is one payment PIN check at the default argon2id
// cost (19 MiB, 2 passes): the CPU each PIN-confirmed payment adds.
func BenchmarkPINDefault(b *testing.B) {
	h := password.Hash(pin, password.Default)
	b.ResetTimer()
	for b.Loop() {
		if err := password.Check(pin, h); err != nil {
			b.Fatal(err)
		}
	}
}
