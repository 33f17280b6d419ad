package pay

import (
	"context"
	"time"

	"github.com/openmini/openmini/jobs"
)

// Job kinds the payments domain registers on the queue.
const (
	KindWebhook = "pay.webhook"       // one webhook delivery attempt (payload: event id)
	KindExpire  = "pay.expire_orders" // periodic: close unpaid orders past their expiry
	KindPurge   = "pay.purge"         // periodic: drop old idempotency keys and payment codes
)

// Register adds the payments job kinds to q and schedules the periodic
// ones (expiry every Config.ExpireEvery, purge hourly). Call it once, before
// q.Run. Afterwards the Service wakes q's workers whenever it queues a
// webhook.
func (s *Service) Register(q *jobs.Queue) {
	q.Register(KindWebhook, jobs.Kind{
		Handler:     s.deliverJob,
		MaxAttempts: s.webhookAttempts,
		Timeout:     s.cfg.WebhookTimeout + 15*time.Second,
		Backoff:     s.webhookBackoff,
	})
	q.Register(KindExpire, jobs.Kind{MaxAttempts: 3, Handler: func(ctx context.Context, _ jobs.Job) error {
		_, err := s.ExpireOrders(ctx)
		return err
	}})
	q.Register(KindPurge, jobs.Kind{MaxAttempts: 3, Handler: func(ctx context.Context, _ jobs.Job) error {
		return s.Purge(ctx)
	}})
	q.Every(KindExpire, s.cfg.ExpireEvery)
	q.Every(KindPurge, time.Hour)
	s.queue.Store(q)
}

// WebhookAttempts is how many delivery attempts an event gets before it is
// marked failed; their backoff spans at least Config.WebhookRetrySpan.
func (s *Service) WebhookAttempts() int { return s.webhookAttempts }

// Purge deletes idempotency keys older than Config.IdempotencyTTL and
// payment codes that expired more than a day ago.
func (s *Service) Purge(ctx context.Context) error {
	now := s.now()
	if _, err := s.db.Exec(ctx, `DELETE FROM pay_idempotency WHERE created_at < ?`, ms(now.Add(-s.cfg.IdempotencyTTL))); err != nil {
		return internal("purge idempotency keys", err)
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM pay_codes WHERE expires_at < ?`, ms(now.Add(-24*time.Hour))); err != nil {
		return internal("purge payment codes", err)
	}
	return nil
}
