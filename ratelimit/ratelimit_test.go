package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestLimiter(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}
		l := ratelimit.New(db, clk.now)

		t.Run("a window allows exactly limit hits, also in parallel, then resets", func(t *testing.T) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			allowed := 0
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := l.Hit(ctx, "codes:alice", 5, time.Hour)
					if err != nil && openmini.ErrorCode(err) != openmini.ERATELIMITED {
						t.Error(err)
					}
					if err == nil {
						mu.Lock()
						allowed++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if allowed != 5 {
				t.Fatalf("%d hits allowed, want 5", allowed)
			}
			if err := l.Hit(ctx, "codes:bob", 5, time.Hour); err != nil {
				t.Fatalf("another bucket is limited too: %v", err)
			}
			clk.add(time.Hour)
			if err := l.Hit(ctx, "codes:alice", 5, time.Hour); err != nil {
				t.Fatalf("next window still limited: %v", err)
			}
		})

		t.Run("failures lock with doubling backoff and a success clears them", func(t *testing.T) {
			lo := ratelimit.Lockout{Free: 3, Base: 30 * time.Second, Max: 2 * time.Minute}
			var locks []time.Duration
			for i := 0; i < 6; i++ {
				if err := l.Check(ctx, "pw:carol"); err != nil {
					clk.add(3 * time.Minute) // wait out the lock
				}
				d, err := l.Fail(ctx, "pw:carol", lo)
				if err != nil {
					t.Fatal(err)
				}
				locks = append(locks, d)
			}
			want := []time.Duration{0, 0, 0, 30 * time.Second, time.Minute, 2 * time.Minute}
			for i := range want {
				if locks[i] != want[i] {
					t.Fatalf("locks %v, want %v", locks, want)
				}
			}
			err := l.Check(ctx, "pw:carol")
			var oe *openmini.Error
			if !errorsAs(err, &oe) || oe.Code != openmini.ERATELIMITED || oe.RetryAfter != 120 {
				t.Fatalf("Check while locked = %#v, want rate_limited with RetryAfter 120", err)
			}
			clk.add(2 * time.Minute)
			if err := l.Check(ctx, "pw:carol"); err != nil {
				t.Fatalf("still locked after the lock ran out: %v", err)
			}
			if err := l.Succeed(ctx, "pw:carol"); err != nil {
				t.Fatal(err)
			}
			if d, _ := l.Fail(ctx, "pw:carol", lo); d != 0 {
				t.Fatalf("a failure after a success locked for %v", d)
			}
		})
	})
}

func errorsAs(err error, target **openmini.Error) bool {
	e, ok := err.(*openmini.Error)
	if ok {
		*target = e
	}
	return ok
}
