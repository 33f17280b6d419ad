// Package webhook signs and verifies the webhooks OpenMini sends to merchant
// servers. It imports only the standard library, so a merchant's Go server
// can use Verify without the rest of the platform.
//
// Every delivery carries the header
//
//	OpenMini-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
//
// where body is the exact request body. A receiver recomputes the HMAC with
// its signing secret, compares in constant time and refuses timestamps far
// from its clock, so a captured delivery cannot be replayed later. During a
// secret rotation a header may carry several v1 values; one match suffices.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Header is the name of the signature header.
const Header = "OpenMini-Signature"

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Errors returned by Verify.
var (
	ErrMalformed = errors.New("webhook: malformed signature header")
	ErrMismatch  = errors.New("webhook: signature does not match")
	ErrExpired   = errors.New("webhook: timestamp outside the tolerance")
)

// Sign returns the signature header value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify returns nil when header is a valid signature of body under secret
// with a timestamp within tolerance of now (DefaultTolerance when tolerance
// is zero). It returns ErrMalformed, ErrExpired or ErrMismatch otherwise.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrMalformed
		}
		switch k {
		case "t":
			if ts != "" {
				return ErrMalformed
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return ErrMalformed
			}
			sigs = append(sigs, sig)
		}
		// Unknown schemes are ignored so new ones can be added.
	}
	if ts == "" || len(sigs) == 0 {
		return ErrMalformed
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 || ts != strconv.FormatInt(sec, 10) {
		return ErrMalformed
	}
	want := mac(secret, ts, body)
	match := false
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			match = true
		}
	}
	if !match {
		return ErrMismatch
	}
	age := now.Sub(time.Unix(sec, 0))
	if age > tolerance || age < -tolerance {
		return ErrExpired
	}
	return nil
}
