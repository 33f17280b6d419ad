// Package openmini holds the domain vocabulary shared by every part of the
// platform: the error type with its machine codes, and small types that the
// service and adapter packages agree on. It imports nothing of ours.
package openmini

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: clients, the CLI and the JS SDK match on them.
const (
	EINVALID      = "invalid"      // the request or input is malformed
	ENOTFOUND     = "not_found"    // the thing asked for does not exist
	ECONFLICT     = "conflict"     // the request clashes with the current state
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // credentials fine, permission missing
	ETOOLARGE     = "too_large"    // input exceeds a size or count limit
	ERATELIMITED  = "rate_limited" // too many attempts; retry later
	EUNAVAILABLE  = "unavailable"  // a dependency (database, blob store) is down
	EINTERNAL     = "internal"     // a bug or unexpected failure; details are logged, not shown
)

// Error is the one error type whose code and message are safe to show to a
// user or API client. Wrap lower-level errors in it with Err so logs keep the
// cause while the client sees only Code and Message.
type Error struct {
	Code    string // one of the E* constants
	Message string // human readable, safe to show
	Err     error  // optional cause, never shown to clients
	// RetryAfter, for rate_limited errors, is how many seconds to wait.
	RetryAfter int
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of the first *Error in err's chain,
// or a generic message for any other error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
