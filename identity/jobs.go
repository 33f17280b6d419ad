package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/openmini/openmini/jobs"
)

// Job kinds Register adds to the queue.
const (
	JobRotateKeys = "identity.rotate_keys" // hourly: RotateKeysIfDue
	JobPurge      = "identity.purge"       // hourly: Purge
)

// Register adds the identity jobs to q and schedules them hourly.
func (s *Service) Register(q *jobs.Queue) {
	q.Register(JobRotateKeys, jobs.Kind{Handler: func(ctx context.Context, _ jobs.Job) error {
		_, err := s.RotateKeysIfDue(ctx)
		return err
	}})
	q.Register(JobPurge, jobs.Kind{Handler: func(ctx context.Context, _ jobs.Job) error {
		_, err := s.Purge(ctx)
		return err
	}})
	q.Every(JobRotateKeys, time.Hour)
	q.Every(JobPurge, time.Hour)
}

// Purge deletes what can no longer be used: challenges and auth codes a
// day past expiry (kept a while so a replayed code is still recognised and
// revokes its tokens), access tokens past expiry, signing keys past their
// publication, and development mailbox messages older than 7 days. It
// returns how many rows it deleted.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	now := s.now()
	day := now.Add(-24 * time.Hour).UnixMilli()
	stmts := []struct {
		q   string
		arg int64
	}{
		{`DELETE FROM identity_challenges WHERE expires_at < ?`, day},
		{`DELETE FROM identity_auth_codes WHERE expires_at < ?`, day},
		{`DELETE FROM identity_tokens WHERE expires_at < ?`, now.UnixMilli()},
		{`DELETE FROM identity_keys WHERE expires_at > 0 AND expires_at < ?`, now.UnixMilli()},
		{`DELETE FROM identity_messages WHERE created_at < ?`, now.Add(-7 * 24 * time.Hour).UnixMilli()},
	}
	var total int64
	for _, st := range stmts {
		res, err := s.db.Exec(ctx, st.q, st.arg)
		if err != nil {
			return total, fmt.Errorf("identity purge: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
