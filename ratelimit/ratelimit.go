// Package ratelimit counts attempts in the platform database, so every
// replica sees the same counts: fixed-window limits (Hit) for things like
// "5 verification codes an hour", and a failure lockout with exponential
// backoff (Fail/Check/Succeed) for passwords, PINs and secrets.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Limiter counts attempts in the rate_limits table.
type Limiter struct {
	db  *sqldb.DB
	now func() time.Time
}

// New returns a limiter on db. now may be nil (time.Now).
func New(db *sqldb.DB, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{db: db, now: now}
}

// Hit counts one attempt against bucket in the current fixed window and
// returns nil while the count is within limit. Past the limit it returns an
// *openmini.Error with code rate_limited whose message says when to retry.
func (l *Limiter) Hit(ctx context.Context, bucket string, limit int, window time.Duration) error {
	now := l.now()
	start := now.Truncate(window)
	end := start.Add(window)
	var hits int
	err := l.db.QueryRow(ctx, `INSERT INTO rate_limits (bucket, window_start, hits, expires_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (bucket) DO UPDATE SET
			hits = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.hits + 1 ELSE 1 END,
			window_start = excluded.window_start,
			expires_at = excluded.expires_at
		RETURNING hits`, "hit:"+bucket, start.UnixMilli(), end.UnixMilli()).Scan(&hits)
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	if hits > limit {
		return TooMany(end.Sub(now))
	}
	return nil
}

// Lockout locks a key after repeated failures: the first Free failures cost
// nothing, then each further failure locks the key for Base, doubling up
// to Max. A success clears the count.
type Lockout struct {
	Free int
	Base time.Duration
	Max  time.Duration
}

// DefaultLockout allows 5 failures, then locks for 30s, 1m, 2m ... up to 1h.
var DefaultLockout = Lockout{Free: 5, Base: 30 * time.Second, Max: time.Hour}

// Check returns an rate_limited *openmini.Error while key is locked, nil
// otherwise. Call it before checking the secret.
func (l *Limiter) Check(ctx context.Context, key string) error {
	var until int64
	err := l.db.QueryRow(ctx, `SELECT expires_at FROM rate_limits WHERE bucket = ? AND window_start > 0`, "fail:"+key).Scan(&until)
	if err != nil {
		if errors.Is(err, sqldb.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("lockout %s: %w", key, err)
	}
	if wait := time.UnixMilli(until).Sub(l.now()); wait > 0 {
		return TooMany(wait)
	}
	return nil
}

// Fail records a failed attempt for key and returns the lock it earned
// (0 while failures are still free).
func (l *Limiter) Fail(ctx context.Context, key string, lo Lockout) (time.Duration, error) {
	now := l.now()
	var fails int
	err := l.db.QueryRow(ctx, `INSERT INTO rate_limits (bucket, window_start, hits, expires_at) VALUES (?, 0, 1, 0)
		ON CONFLICT (bucket) DO UPDATE SET hits = rate_limits.hits + 1
		RETURNING hits`, "fail:"+key).Scan(&fails)
	if err != nil {
		return 0, fmt.Errorf("lockout %s: %w", key, err)
	}
	if fails <= lo.Free {
		// Keep the row for a day so slow guessing still adds up.
		_, err = l.db.Exec(ctx, `UPDATE rate_limits SET window_start = 0, expires_at = ? WHERE bucket = ?`,
			now.Add(24*time.Hour).UnixMilli(), "fail:"+key)
		return 0, err
	}
	lock := lo.Base << min(fails-lo.Free-1, 30)
	if lock > lo.Max || lock <= 0 {
		lock = lo.Max
	}
	_, err = l.db.Exec(ctx, `UPDATE rate_limits SET window_start = ?, expires_at = ? WHERE bucket = ?`,
		now.UnixMilli(), now.Add(lock).UnixMilli(), "fail:"+key)
	if err != nil {
		return 0, fmt.Errorf("lockout %s: %w", key, err)
	}
	return lock, nil
}

// Succeed clears key's failures.
func (l *Limiter) Succeed(ctx context.Context, key string) error {
	_, err := l.db.Exec(ctx, `DELETE FROM rate_limits WHERE bucket = ?`, "fail:"+key)
	return err
}

// Purge deletes counters whose window or lock ended before now. Failure
// counts are kept until a day after the last failure.
func (l *Limiter) Purge(ctx context.Context) (int64, error) {
	now := l.now().UnixMilli()
	res, err := l.db.Exec(ctx, `DELETE FROM rate_limits WHERE expires_at < ? AND (bucket NOT LIKE 'fail:%' OR expires_at < ?)`,
		now, now-24*time.Hour.Milliseconds())
	if err != nil {
		return 0, fmt.Errorf("purge rate limits: %w", err)
	}
	return res.RowsAffected()
}

// TooMany is the rate_limited error that says when to retry.
func TooMany(wait time.Duration) error {
	secs := int(wait.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return &openmini.Error{Code: openmini.ERATELIMITED, Message: fmt.Sprintf("too many attempts; try again in %s", human(secs)), RetryAfter: secs}
}

func human(secs int) string {
	switch {
	case secs < 120:
		return fmt.Sprintf("%d seconds", secs)
	case secs < 7200:
		return fmt.Sprintf("%d minutes", (secs+59)/60)
	default:
		return fmt.Sprintf("%d hours", (secs+3599)/3600)
	}
}
