package pay_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/sqldb"
)

// TestCrashRecovery kills a process with SIGKILL in the middle of a
// payment load, then proves on the same database that nothing was lost or
// doubled (every payment the process saw succeed is paid, once; the ledger
// balances) and that every paid order's webhook is delivered in the end.
func TestCrashRecovery(t *testing.T) {
	if os.Getenv("PAY_CRASH_CHILD") != "" {
		crashChild()
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	t.Run("sqlite", func(t *testing.T) { crashParent(t, "sqlite://"+filepath.Join(t.TempDir(), "openmini.db")) })
	t.Run("postgres", func(t *testing.T) { crashParent(t, testenv.PostgresURL(t)) })
}

func crashParent(t *testing.T, dbURL string) {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Config{URL: dbURL, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := newEnv(t, db)
	m := e.newMerchant("restaurant")
	rc := &receiver{t: t, now: time.Now}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	if rc.secret, err = e.svc.SetWebhook(ctx, m.ID, srv.URL); err != nil {
		t.Fatal(err)
	}
	var users []string
	for range 4 {
		users = append(users, strconv.FormatInt(e.newUser(1_000_000_00), 10))
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$")
	cmd.Env = append(os.Environ(), "PAY_CRASH_CHILD="+dbURL, fmt.Sprintf("PAY_CRASH_MERCHANT=%d", m.ID), "PAY_CRASH_USERS="+strings.Join(users, ","))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(60 * time.Second)
	for len(acked) < 150 && sc.Scan() && time.Now().Before(deadline) {
		if id, ok := strings.CutPrefix(sc.Text(), "paid "); ok {
			acked[id] = true
		}
	}
	// Kill it in the middle of the load, then drain what it had printed.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "paid "); ok {
			acked[id] = true
		}
	}
	cmd.Wait()
	if len(acked) < 50 {
		t.Fatalf("the child acknowledged only %d payments", len(acked))
	}

	// Nothing lost: every acknowledged payment is paid.
	for id := range acked {
		o, err := e.svc.Order(ctx, id)
		if err != nil || o.State != pay.StatePaid {
			t.Fatalf("acknowledged payment %s: %+v, %v", id, o, err)
		}
	}
	// Nothing doubled: one payment entry and one order.paid event per
	// paid order, none for the others.
	if n := e.count(`SELECT COUNT(*) FROM (SELECT ref FROM pay_entries WHERE kind = 'payment' GROUP BY ref HAVING COUNT(*) > 1) d`); n != 0 {
		t.Fatalf("%d orders with more than one payment entry", n)
	}
	paid := e.count(`SELECT COUNT(*) FROM pay_orders WHERE state = 'paid'`)
	if n := e.count(`SELECT COUNT(*) FROM pay_entries WHERE kind = 'payment'`); n != paid {
		t.Fatalf("%d payment entries for %d paid orders", n, paid)
	}
	if n := e.count(`SELECT COUNT(*) FROM pay_events WHERE type = 'order.paid'`); n != paid {
		t.Fatalf("%d order.paid events for %d paid orders", n, paid)
	}
	if err := pay.CheckLedger(ctx, db); err != nil {
		t.Fatal(err)
	}
	// Every paid order's webhook is delivered once the queue runs again.
	runQueue(t, db, e.svc)
	waitFor(t, "every order.paid delivered", func() bool { return len(rc.deliveries()) >= paid })
	seen := map[string]bool{}
	for _, d := range rc.deliveries() {
		seen[d.Order.ID] = true
	}
	for id := range acked {
		if !seen[id] {
			t.Fatalf("no webhook for paid order %s", id)
		}
	}
	t.Logf("%d payments acknowledged before SIGKILL, %d paid in the database, %d webhooks delivered", len(acked), paid, len(rc.deliveries()))
}

// crashChild pays orders as fast as it can and prints each payment once
// PayOrder returned, until it is killed.
func crashChild() {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Config{URL: os.Getenv("PAY_CRASH_CHILD"), DataDir: os.TempDir()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	svc, err := pay.New(db, pay.Config{PINParams: cheapPIN, Logger: quiet, WebhookInsecure: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	merchant, _ := strconv.ParseInt(os.Getenv("PAY_CRASH_MERCHANT"), 10, 64)
	var users []int64
	for _, u := range strings.Split(os.Getenv("PAY_CRASH_USERS"), ",") {
		id, _ := strconv.ParseInt(u, 10, 64)
		users = append(users, id)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		done := make(chan string, len(users))
		for j, u := range users {
			go func() {
				o, err := svc.CreateOrder(ctx, merchant, fmt.Sprintf("crash-%d-%d", i, j), pay.OrderRequest{Amount: int64(100 + i%50)})
				if err == nil {
					o, err = svc.PayOrder(ctx, pay.PayRequest{AccountID: u, OrderID: o.ID, PIN: testPIN})
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					done <- ""
					return
				}
				done <- o.ID
			}()
		}
		for range users {
			if id := <-done; id != "" {
				fmt.Fprintln(w, "paid", id)
			}
		}
		w.Flush()
	}
}
