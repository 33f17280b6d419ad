// Package jobs is the durable background job queue: webhook deliveries,
// roll-ups and clean-ups. Jobs live in the platform database (table jobs), so
// they survive restarts and are shared by every replica: any replica may run
// any job, each job runs on one replica at a time, and a job whose replica
// died is picked up again when its lease runs out.
//
// Enqueue takes a sqldb.Querier, so a job can be queued in the same
// transaction as the change that caused it (a payment and its webhook commit
// together or not at all).
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openmini/openmini/sqldb"
)

// Job is one unit of work handed to a Handler.
type Job struct {
	ID          int64
	Kind        string
	Payload     json.RawMessage
	Attempt     int // 1 on the first run
	MaxAttempts int
}

// Handler runs a job. Returning nil marks it done; an error schedules a retry
// with backoff until MaxAttempts, after which the job is marked failed.
// Handlers must be idempotent: a job can run again if a replica dies after
// the work but before recording it.
type Handler func(ctx context.Context, job Job) error

// Kind configures how jobs of one kind run.
type Kind struct {
	Handler     Handler
	MaxAttempts int                             // default 25
	Timeout     time.Duration                   // per attempt; default 1 minute
	Backoff     func(attempt int) time.Duration // delay before the next attempt; default exponential
}

// Options configure a Queue.
type Options struct {
	Workers      int           // concurrent jobs on this replica; default 4
	PollInterval time.Duration // how often to look for due jobs; default 1s
	// ShutdownGrace is how long running jobs may go on after Run's context
	// ends before their contexts are cancelled; default 20s. A cancelled
	// job is retried later, on this or another replica.
	ShutdownGrace time.Duration
	Logger        *slog.Logger
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

// Queue runs jobs from the database.
type Queue struct {
	db       *sqldb.DB
	opts     Options
	workerID string
	kinds    map[string]Kind
	wake     chan struct{}
	periodic []periodic

	leaseOnce sync.Once
	lease     string

	Processed atomic.Int64 // jobs finished successfully on this replica
	Failed    atomic.Int64 // attempts that returned an error on this replica
}

type periodic struct {
	kind  string
	every time.Duration
}

// New returns a queue bound to db. Register kinds with Register before Run.
func New(db *sqldb.DB, opts Options) *Queue {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 20 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	host, _ := os.Hostname()
	return &Queue{
		db:       db,
		opts:     opts,
		workerID: fmt.Sprintf("%s/%d/%x", host, os.Getpid(), rand.Uint32()),
		kinds:    map[string]Kind{},
		wake:     make(chan struct{}, 1),
	}
}

// Register makes the queue run jobs of the given kind. Not safe to call
// after Run has started.
func (q *Queue) Register(kind string, k Kind) {
	if k.MaxAttempts <= 0 {
		k.MaxAttempts = 25
	}
	if k.Timeout <= 0 {
		k.Timeout = time.Minute
	}
	if k.Backoff == nil {
		k.Backoff = ExponentialBackoff
	}
	q.kinds[kind] = k
}

// Every schedules a job of a registered kind once per interval across all
// replicas (the slot number is the job's unique key, so only one replica's
// insert wins).
func (q *Queue) Every(kind string, every time.Duration) {
	q.periodic = append(q.periodic, periodic{kind: kind, every: every})
}

// ExponentialBackoff waits 2^attempt seconds with ±10% jitter, capped at one
// hour: 2s, 4s, 8s ... 1h, so 25 attempts span about 14 hours; kinds that
// must keep trying for a day (webhooks) set more attempts.
func ExponentialBackoff(attempt int) time.Duration {
	if attempt > 12 {
		return time.Hour
	}
	d := time.Duration(1<<attempt) * time.Second
	if d > time.Hour {
		d = time.Hour
	}
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return d + jitter
}

// EnqueueOptions tune one job.
type EnqueueOptions struct {
	RunAt       time.Time // zero = now
	UniqueKey   string    // non-empty: a second job with the same key is not added
	MaxAttempts int       // zero = the kind's default (25 when unknown here)
}

// Enqueue adds a job through q, which may be a transaction. It returns the
// job's ID, or 0 with a nil error when UniqueKey already existed.
func Enqueue(ctx context.Context, q sqldb.Querier, kind string, payload any, o EnqueueOptions) (int64, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: encode payload: %w", kind, err)
	}
	now := time.Now()
	runAt := o.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	max := o.MaxAttempts
	if max <= 0 {
		max = 25
	}
	var unique any
	if o.UniqueKey != "" {
		unique = o.UniqueKey
	}
	var id int64
	err = q.QueryRow(ctx, `INSERT INTO jobs (kind, payload, unique_key, state, max_attempts, run_at, created_at)
		VALUES (?, ?, ?, 'queued', ?, ?, ?)
		ON CONFLICT (unique_key) DO NOTHING
		RETURNING id`, kind, string(body), unique, max, runAt.UnixMilli(), now.UnixMilli()).Scan(&id)
	if errors.Is(err, sqldb.ErrNotFound) {
		return 0, nil // the unique key existed
	}
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", kind, err)
	}
	return id, nil
}

// Enqueue adds a job and wakes this replica's workers.
func (q *Queue) Enqueue(ctx context.Context, kind string, payload any, o EnqueueOptions) (int64, error) {
	id, err := Enqueue(ctx, q.db, kind, payload, o)
	if err == nil {
		q.Notify()
	}
	return id, err
}

// Notify wakes idle workers now instead of at the next poll, e.g. after a
// transaction that enqueued a job has committed.
func (q *Queue) Notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx is cancelled, then stops claiming new jobs and waits
// for running ones to finish (each is bounded by its kind's Timeout). It
// returns nil after a clean stop.
func (q *Queue) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	// Jobs keep running after ctx ends so they can finish, for at most
	// ShutdownGrace.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	sem := make(chan struct{}, q.opts.Workers)
	ticker := time.NewTicker(q.opts.PollInterval)
	defer ticker.Stop()
	lastSlot := map[string]int64{}
	for {
		q.schedulePeriodic(ctx, lastSlot)
		// Claim as many jobs as there are free workers.
	claim:
		for {
			select {
			case sem <- struct{}{}:
			default:
				break claim // all workers busy
			}
			if ctx.Err() != nil {
				<-sem
				break claim
			}
			job, ok, err := q.claim(ctx)
			if err != nil || !ok {
				<-sem
				if err != nil && ctx.Err() == nil {
					q.opts.Logger.Error("jobs: claim", "err", err)
				}
				break claim
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				q.runOne(jobCtx, job)
				q.Notify() // a worker is free: look again
			}()
		}
		select {
		case <-ctx.Done():
			timer := time.AfterFunc(q.opts.ShutdownGrace, cancelJobs)
			wg.Wait()
			timer.Stop()
			return nil
		case <-ticker.C:
		case <-q.wake:
		}
	}
}

func (q *Queue) schedulePeriodic(ctx context.Context, lastSlot map[string]int64) {
	now := q.opts.Now()
	for _, p := range q.periodic {
		slot := now.UnixMilli() / p.every.Milliseconds()
		if lastSlot[p.kind] == slot {
			continue
		}
		key := p.kind + "@" + strconv.FormatInt(slot, 10)
		if _, err := Enqueue(ctx, q.db, p.kind, struct{}{}, EnqueueOptions{UniqueKey: key, MaxAttempts: 3}); err != nil {
			if ctx.Err() == nil {
				q.opts.Logger.Error("jobs: schedule periodic", "kind", p.kind, "err", err)
			}
			continue
		}
		lastSlot[p.kind] = slot
	}
}

// claim takes the oldest due job of a known kind, or a running job whose
// lease expired (its replica died), and leases it to this worker.
func (q *Queue) claim(ctx context.Context) (Job, bool, error) {
	now := q.opts.Now().UnixMilli()
	lock := ""
	if q.db.Dialect() == sqldb.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var j Job
	var payload string
	// Each job is leased for its own kind's timeout plus 30 seconds, so a
	// job whose replica died is taken over as soon as its kind allows.
	err := q.db.QueryRow(ctx, `UPDATE jobs SET state = 'running', locked_by = ?, locked_until = CAST(? AS BIGINT) + `+q.leaseExpr()+`, attempts = attempts + 1
		WHERE id = (SELECT id FROM jobs
		            WHERE (state = 'queued' AND run_at <= ?) OR (state = 'running' AND locked_until < ?)
		            ORDER BY run_at, id LIMIT 1`+lock+`)
		RETURNING id, kind, payload, attempts, max_attempts`,
		q.workerID, now, now, now).Scan(&j.ID, &j.Kind, &payload, &j.Attempt, &j.MaxAttempts)
	if errors.Is(err, sqldb.ErrNotFound) {
		return Job{}, false, nil
	}
	if err != nil {
		return Job{}, false, err
	}
	j.Payload = json.RawMessage(payload)
	return j, true, nil
}

// leaseExpr is the SQL for a claimed job's lease length in milliseconds:
// its kind's timeout plus 30 seconds (a minute and a half for kinds this
// replica does not know).
func (q *Queue) leaseExpr() string {
	q.leaseOnce.Do(func() {
		names := make([]string, 0, len(q.kinds))
		for name := range q.kinds {
			names = append(names, name)
		}
		sort.Strings(names)
		var b strings.Builder
		b.WriteString("CASE kind")
		for _, name := range names {
			fmt.Fprintf(&b, " WHEN '%s' THEN %d", strings.ReplaceAll(name, "'", "''"), (q.kinds[name].Timeout + 30*time.Second).Milliseconds())
		}
		fmt.Fprintf(&b, " ELSE %d END", (time.Minute + 30*time.Second).Milliseconds())
		q.lease = b.String()
	})
	return q.lease
}

func (q *Queue) runOne(ctx context.Context, j Job) {
	log := q.opts.Logger.With("job_id", j.ID, "kind", j.Kind, "attempt", j.Attempt)
	k, ok := q.kinds[j.Kind]
	var err error
	if !ok {
		err = fmt.Errorf("no handler registered for job kind %q", j.Kind)
	} else {
		rctx, cancel := context.WithTimeout(ctx, k.Timeout)
		err = safeRun(rctx, k.Handler, j)
		cancel()
	}
	// Record the outcome even if the job's context was cancelled.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := q.opts.Now()
	if err == nil {
		q.Processed.Add(1)
		_, uerr := q.db.Exec(ctx, `UPDATE jobs SET state = 'done', finished_at = ?, locked_by = '', last_error = '' WHERE id = ? AND locked_by = ?`,
			now.UnixMilli(), j.ID, q.workerID)
		if uerr != nil {
			log.Error("jobs: mark done", "err", uerr)
		}
		log.Debug("job done")
		return
	}
	q.Failed.Add(1)
	backoff := ExponentialBackoff
	if ok {
		backoff = k.Backoff
	}
	state, runAt := "queued", now.Add(backoff(j.Attempt))
	if j.Attempt >= j.MaxAttempts {
		state = "failed"
	}
	msg := err.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	_, uerr := q.db.Exec(ctx, `UPDATE jobs SET state = ?, run_at = ?, locked_by = '', locked_until = 0, last_error = ?, finished_at = ?
		WHERE id = ? AND locked_by = ?`,
		state, runAt.UnixMilli(), msg, finishedAt(state, now), j.ID, q.workerID)
	if uerr != nil {
		log.Error("jobs: record failure", "err", uerr)
	}
	log.Warn("job attempt failed", "err", err, "next_state", state)
}

func finishedAt(state string, now time.Time) int64 {
	if state == "failed" {
		return now.UnixMilli()
	}
	return 0
}

func safeRun(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, j)
}

// Counts returns the number of jobs in each state, for metrics and health.
func Counts(ctx context.Context, q sqldb.Querier) (map[string]int64, error) {
	rows, err := q.Query(ctx, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{"queued": 0, "running": 0, "done": 0, "failed": 0}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("count jobs: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

// Get returns a job's state, attempts and last error (for delivery logs).
func Get(ctx context.Context, q sqldb.Querier, id int64) (state string, attempts int, lastError string, err error) {
	err = q.QueryRow(ctx, `SELECT state, attempts, last_error FROM jobs WHERE id = ?`, id).Scan(&state, &attempts, &lastError)
	if err != nil {
		err = fmt.Errorf("get job %d: %w", id, err)
	}
	return
}

// PurgeFinished deletes done jobs finished before cutoff, for a clean-up kind.
func PurgeFinished(ctx context.Context, q sqldb.Querier, cutoff time.Time) (int64, error) {
	res, err := q.Exec(ctx, `DELETE FROM jobs WHERE state = 'done' AND finished_at < ?`, cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("purge jobs: %w", err)
	}
	return res.RowsAffected()
}
