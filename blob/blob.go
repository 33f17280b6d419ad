// Package blob defines the blob store: a flat namespace of immutable-ish
// objects addressed by slash-separated keys. Packages, icons and generated
// files live here. Adapters: blob/fsblob (a local folder) and blob/s3blob
// (any S3-compatible server). Open picks one from a URL.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned (possibly wrapped) when a key does not exist.
var ErrNotFound = errors.New("blob not found")

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store is implemented by every blob adapter. Keys are relative,
// slash-separated, without "." or ".." elements; adapters reject anything
// else with an error. Implementations are safe for concurrent use, and a Put
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
