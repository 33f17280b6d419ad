package webhook_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini/pay/webhook"
)

func TestSignVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"evt_1","type":"order.paid"}`)
	h := webhook.Sign("whsec_a", now, body)
	if !strings.HasPrefix(h, "t=1800000000,v1=") || len(h) != len("t=1800000000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	tests := []struct {
		name   string
		secret string
		header string
		body   string
		now    time.Time
		want   error
	}{
		{"valid", "whsec_a", h, string(body), now, nil},
		{"valid within tolerance", "whsec_a", h, string(body), now.Add(4 * time.Minute), nil},
		{"other secret", "whsec_b", h, string(body), now, webhook.ErrMismatch},
		{"body changed", "whsec_a", h, strings.Replace(string(body), "paid", "closed", 1), now, webhook.ErrMismatch},
		{"timestamp changed", "whsec_a", strings.Replace(h, "t=1800000000", "t=1800000001", 1), string(body), now, webhook.ErrMismatch},
		{"too old", "whsec_a", h, string(body), now.Add(6 * time.Minute), webhook.ErrExpired},
		{"from the future", "whsec_a", h, string(body), now.Add(-6 * time.Minute), webhook.ErrExpired},
		{"rotation: second v1 matches", "whsec_a", "t=1800000000,v1=" + strings.Repeat("00", 32) + "," + h[len("t=1800000000,"):], string(body), now, nil},
		{"unknown scheme ignored", "whsec_a", h + ",v0=abc", string(body), now, nil},
		{"empty", "whsec_a", "", string(body), now, webhook.ErrMalformed},
		{"no signature", "whsec_a", "t=1800000000", string(body), now, webhook.ErrMalformed},
		{"no timestamp", "whsec_a", h[len("t=1800000000,"):], string(body), now, webhook.ErrMalformed},
		{"short signature", "whsec_a", "t=1800000000,v1=abcd", string(body), now, webhook.ErrMalformed},
		{"two timestamps", "whsec_a", "t=1," + h, string(body), now, webhook.ErrMalformed},
		{"signed timestamp", "whsec_a", strings.Replace(h, "t=", "t=+", 1), string(body), now, webhook.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.Verify(tc.secret, tc.header, []byte(tc.body), tc.now, 0)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzVerify feeds arbitrary headers: Verify must never panic, and it may
// accept only the one header Sign produced (or one carrying its v1 value).
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte("{}")
	f.Add(webhook.Sign("s", now, body))
	f.Add("t=1800000000,v1=zz")
	f.Add(",,,=")
	f.Fuzz(func(t *testing.T, header string) {
		err := webhook.Verify("s", header, body, now, 0)
		if err == nil && !strings.Contains(header, webhook.Sign("s", now, body)[len("t=1800000000,"):]) {
			t.Fatalf("accepted a header without the real signature: %q", header)
		}
	})
}
