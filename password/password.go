// Package password hashes and checks secrets people choose (console and
// host passwords, payment PINs) with argon2id. The encoded form names its
// parameters, so they can be raised later without breaking old hashes:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default follows OWASP's argon2id minimum (19 MiB, 2 passes, 1 thread).
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// slots bounds how many hashes are computed at once. argon2id is bound by
// CPU, so running more of them than there are CPUs finishes none sooner;
// it only multiplies memory (19 MiB each at the default cost), which a
// burst of sign-ins or PIN payments would otherwise grow without limit.
// Callers beyond the bound wait their turn.
var slots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// idKey is argon2.IDKey run in one of the slots.
func idKey(pw, salt []byte, p Params, n uint32) []byte {
	slots <- struct{}{}
	defer func() { <-slots }()
	return argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, n)
}

// ErrMismatch is returned by Check when the password is wrong.
var ErrMismatch = errors.New("password does not match")

var b64 = base64.RawStdEncoding

// Hash returns the encoded argon2id hash of pw under p.
func Hash(pw string, p Params) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	sum := idKey([]byte(pw), salt, p, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(sum))
}

// Check reports nil when pw matches encoded, ErrMismatch when it does not,
// and another error when encoded is not a hash this package wrote.
func Check(pw, encoded string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("password: unknown hash format")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return errors.New("password: unsupported argon2 version")
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return fmt.Errorf("password: bad parameters: %w", err)
	}
	if p.Memory > 1<<22 || p.Time > 64 || p.Threads == 0 {
		return errors.New("password: parameters out of range")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("password: bad salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return errors.New("password: bad hash")
	}
	got := idKey([]byte(pw), salt, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}
