package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/jobs"
	"github.com/openmini/openmini/sqldb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newQueue(db *sqldb.DB) *jobs.Queue {
	return jobs.New(db, jobs.Options{PollInterval: 20 * time.Millisecond, Logger: quiet, Workers: 4})
}

// start runs q until the test ends and returns a function that stops it and
// waits for Run to return.
func start(t *testing.T, q *jobs.Queue) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func counts(t *testing.T, db *sqldb.DB) map[string]int64 {
	t.Helper()
	c, err := jobs.Counts(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestQueue(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()

		t.Run("two replicas run every job exactly once", func(t *testing.T) {
			var mu sync.Mutex
			seen := map[int]int{}
			handler := func(ctx context.Context, j jobs.Job) error {
				var n int
				fmt.Sscan(string(j.Payload), &n)
				mu.Lock()
				seen[n]++
				mu.Unlock()
				return nil
			}
			a, b := newQueue(db), newQueue(db)
			a.Register("count", jobs.Kind{Handler: handler})
			b.Register("count", jobs.Kind{Handler: handler})
			const total = 200
			for i := 0; i < total; i++ {
				if _, err := jobs.Enqueue(ctx, db, "count", i, jobs.EnqueueOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			start(t, a)
			start(t, b)
			waitFor(t, "all jobs done", func() bool { return counts(t, db)["done"] >= total })
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != total {
				t.Fatalf("ran %d distinct jobs, want %d", len(seen), total)
			}
			for n, c := range seen {
				if c != 1 {
					t.Fatalf("job %d ran %d times", n, c)
				}
			}
			if a.Processed.Load()+b.Processed.Load() != total {
				t.Fatalf("processed %d+%d, want %d", a.Processed.Load(), b.Processed.Load(), total)
			}
		})

		t.Run("a job enqueued in a rolled-back transaction never runs", func(t *testing.T) {
			var ran atomic.Int32
			q := newQueue(db)
			q.Register("ghost", jobs.Kind{Handler: func(ctx context.Context, j jobs.Job) error { ran.Add(1); return nil }})
			q.Register("marker", jobs.Kind{Handler: func(ctx context.Context, j jobs.Job) error { return nil }})
			err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
				if _, err := jobs.Enqueue(ctx, tx, "ghost", nil, jobs.EnqueueOptions{}); err != nil {
					return err
				}
				return errors.New("abort")
			})
			if err == nil {
				t.Fatal("transaction should have failed")
			}
			id, err := jobs.Enqueue(ctx, db, "marker", nil, jobs.EnqueueOptions{})
			if err != nil {
				t.Fatal(err)
			}
			start(t, q)
			waitFor(t, "marker done", func() bool { s, _, _, _ := jobs.Get(ctx, db, id); return s == "done" })
			if ran.Load() != 0 {
				t.Fatal("job from rolled-back transaction ran")
			}
		})

		t.Run("failures retry with backoff then give up", func(t *testing.T) {
			var calls atomic.Int32
			q := newQueue(db)
			q.Register("flaky", jobs.Kind{
				Handler: func(ctx context.Context, j jobs.Job) error {
					calls.Add(1)
					if j.Attempt < 3 {
						return fmt.Errorf("attempt %d failed", j.Attempt)
					}
					return nil
				},
				Backoff: func(int) time.Duration { return time.Millisecond },
			})
			q.Register("doomed", jobs.Kind{
				Handler:     func(ctx context.Context, j jobs.Job) error { panic("handler bug") },
				MaxAttempts: 2,
				Backoff:     func(int) time.Duration { return time.Millisecond },
			})
			flaky, _ := jobs.Enqueue(ctx, db, "flaky", nil, jobs.EnqueueOptions{})
			doomed, _ := jobs.Enqueue(ctx, db, "doomed", nil, jobs.EnqueueOptions{MaxAttempts: 2})
			start(t, q)
			waitFor(t, "flaky done", func() bool { s, _, _, _ := jobs.Get(ctx, db, flaky); return s == "done" })
			waitFor(t, "doomed failed", func() bool { s, _, _, _ := jobs.Get(ctx, db, doomed); return s == "failed" })
			if calls.Load() != 3 {
				t.Fatalf("flaky ran %d times, want 3", calls.Load())
			}
			_, attempts, lastErr, _ := jobs.Get(ctx, db, doomed)
			if attempts != 2 || lastErr != "handler panicked: handler bug" {
				t.Fatalf("doomed: attempts=%d lastErr=%q", attempts, lastErr)
			}
		})

		t.Run("a unique key adds the job once", func(t *testing.T) {
			id1, err := jobs.Enqueue(ctx, db, "once", nil, jobs.EnqueueOptions{UniqueKey: "event-42"})
			if err != nil || id1 == 0 {
				t.Fatalf("first enqueue: id=%d err=%v", id1, err)
			}
			id2, err := jobs.Enqueue(ctx, db, "once", nil, jobs.EnqueueOptions{UniqueKey: "event-42"})
			if err != nil || id2 != 0 {
				t.Fatalf("second enqueue: id=%d err=%v, want 0 and nil", id2, err)
			}
		})

		t.Run("a job leased by a dead replica is picked up again", func(t *testing.T) {
			id, _ := jobs.Enqueue(ctx, db, "orphan", nil, jobs.EnqueueOptions{})
			// A replica claimed it and died: lease expired a while ago.
			if _, err := db.Exec(ctx, `UPDATE jobs SET state = 'running', locked_by = 'dead', locked_until = ?, attempts = 1 WHERE id = ?`,
				time.Now().Add(-time.Minute).UnixMilli(), id); err != nil {
				t.Fatal(err)
			}
			q := newQueue(db)
			q.Register("orphan", jobs.Kind{Handler: func(ctx context.Context, j jobs.Job) error { return nil }})
			start(t, q)
			waitFor(t, "orphan done", func() bool { s, _, _, _ := jobs.Get(ctx, db, id); return s == "done" })
			_, attempts, _, _ := jobs.Get(ctx, db, id)
			if attempts != 2 {
				t.Fatalf("attempts = %d, want 2", attempts)
			}
		})

		t.Run("stopping waits for running jobs to finish", func(t *testing.T) {
			started := make(chan struct{})
			release := make(chan struct{})
			q := newQueue(db)
			q.Register("slow", jobs.Kind{Handler: func(ctx context.Context, j jobs.Job) error {
				close(started)
				<-release
				return nil
			}})
			id, _ := q.Enqueue(ctx, "slow", nil, jobs.EnqueueOptions{})
			stop := start(t, q)
			<-started
			stopped := make(chan struct{})
			go func() { stop(); close(stopped) }()
			select {
			case <-stopped:
				t.Fatal("Run returned while a job was still running")
			case <-time.After(100 * time.Millisecond):
			}
			close(release)
			<-stopped
			if s, _, _, _ := jobs.Get(ctx, db, id); s != "done" {
				t.Fatalf("state after graceful stop = %q, want done", s)
			}
		})

		t.Run("periodic jobs run once per slot across replicas", func(t *testing.T) {
			var runs atomic.Int32
			h := func(ctx context.Context, j jobs.Job) error { runs.Add(1); return nil }
			a, b := newQueue(db), newQueue(db)
			for _, q := range []*jobs.Queue{a, b} {
				q.Register("rollup", jobs.Kind{Handler: h})
				q.Every("rollup", time.Hour)
			}
			start(t, a)
			start(t, b)
			waitFor(t, "rollup ran", func() bool { return runs.Load() >= 1 })
			time.Sleep(200 * time.Millisecond) // several poll rounds on both
			if n := runs.Load(); n != 1 {
				t.Fatalf("rollup ran %d times in one slot, want 1", n)
			}
		})
	})
}

// TestLeaseFollowsTheKind checks that a claimed job is leased for its own
// kind's timeout, not the longest of all kinds: a webhook cut off by a
// dying replica is retried soon even when a slow roll-up kind exists.
func TestLeaseFollowsTheKind(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		release := make(chan struct{})
		q := newQueue(db)
		q.Register("quick", jobs.Kind{Timeout: 10 * time.Second, Handler: func(ctx context.Context, j jobs.Job) error { <-release; return nil }})
		q.Register("slow", jobs.Kind{Timeout: 10 * time.Minute, Handler: func(ctx context.Context, j jobs.Job) error { return nil }})
		id, err := jobs.Enqueue(ctx, db, "quick", 1, jobs.EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		start(t, q)
		defer close(release)
		var until int64
		waitFor(t, "the quick job to be claimed", func() bool {
			db.QueryRow(ctx, `SELECT locked_until FROM jobs WHERE id = ? AND state = 'running'`, id).Scan(&until)
			return until > 0
		})
		lease := time.Until(time.UnixMilli(until))
		if lease > 45*time.Second || lease < 30*time.Second {
			t.Fatalf("a job of a 10-second kind is leased for %v, want about 40s", lease)
		}
	})
}
