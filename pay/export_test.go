package pay

import "time"

// RetrySpanForTest is the shortest time (every jitter at its minimum) from
// the first delivery attempt to the last of attempts.
func RetrySpanForTest(s *Service, attempts int) time.Duration {
	var total time.Duration
	for k := 1; k < attempts; k++ {
		d := s.cfg.WebhookRetryMax
		if x := s.cfg.WebhookRetryBase << (k - 1); k < 40 && x > 0 && x < d {
			d = x
		}
		total += d - d/10
	}
	return total
}
