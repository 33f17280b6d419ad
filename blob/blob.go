// Package blob defines the blob store: a flat namespace of immutable-ish
// objects addressed by slash-separated keys. Packages, icons and generated
// files live here. Adapters: blob/fsblob (a local folder) and blob/s3blob
// (any S3-compatible server). blobopen.Open picks one from a --blob-url; it
// lives in its own package because the adapters import this one.
// blob/storetest is the conformance suite every adapter passes.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrNotFound is returned (possibly wrapped) when a key does not exist.
var ErrNotFound = errors.New("blob not found")

// ErrInvalidKey is returned (wrapped, with the key and the reason) when a key
// or list prefix breaks the rules of CheckKey.
var ErrInvalidKey = errors.New("invalid blob key")

// MaxKeyLen is the longest key in bytes, the S3 limit.
const MaxKeyLen = 1024

// CheckKey reports whether key is a valid blob key: non-empty, at most
// MaxKeyLen bytes of UTF-8, relative ("a/b", never "/a"), slash-separated
// with no empty, "." or ".." elements, and free of backslashes and control
// characters. The error wraps ErrInvalidKey and names the key.
func CheckKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if err := checkPath(key, false); err != nil {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, err)
	}
	if strings.HasSuffix(key, "/") {
		return fmt.Errorf("%w %q: ends with a slash", ErrInvalidKey, key)
	}
	return nil
}

// CheckPrefix reports whether prefix may be passed to List: "" or the start
// of a valid key ("apps/", "apps/a"). The error wraps ErrInvalidKey.
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkPath(prefix, true); err != nil {
		return fmt.Errorf("%w: list prefix %q: %s", ErrInvalidKey, prefix, err)
	}
	return nil
}

// checkPath holds the rules shared by keys and prefixes; a trailing slash
// is left to the caller. The last element of a prefix may be partial, so "."
// or ".." there (the start of ".well-known") is allowed.
func checkPath(p string, prefix bool) error {
	switch {
	case len(p) > MaxKeyLen:
		return fmt.Errorf("longer than %d bytes", MaxKeyLen)
	case !utf8.ValidString(p):
		return errors.New("not valid UTF-8")
	case strings.HasPrefix(p, "/"):
		return errors.New("absolute (starts with a slash)")
	case strings.Contains(p, `\`):
		return errors.New("contains a backslash")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("contains control character %U", r)
		}
	}
	elems := strings.Split(p, "/")
	for i, e := range elems {
		switch {
		case e == "" && i == len(elems)-1:
			// A trailing slash: fine for a prefix, refused for keys by CheckKey.
		case e == "":
			return errors.New("has an empty path element (\"//\")")
		case (e == "." || e == "..") && !(prefix && i == len(elems)-1):
			return fmt.Errorf("has a %q path element", e)
		}
	}
	return nil
}

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store is implemented by every blob adapter. Keys are relative,
// slash-separated, without "." or ".." elements; adapters reject anything
// else with an error wrapping ErrInvalidKey (see CheckKey). Implementations are safe for concurrent use, and a Put
// is atomic: a reader sees the whole old object or the whole new one, never a
// partial write, even if the process dies mid-way.
type Store interface {
	// Put stores r's bytes under key, replacing any existing object. size is
	// the exact length when known, or -1.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Get opens the object. The caller closes it. Missing keys give ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat describes the object without reading it; ErrNotFound if missing.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the objects whose keys start with prefix, in key order.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Ping checks that the store is reachable and writable enough to serve.
	Ping(ctx context.Context) error
	// Close releases resources.
	Close() error
}
