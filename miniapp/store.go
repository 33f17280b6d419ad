package miniapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/blob"
)

// Index is where a stored package and its files live in the blob store.
// It is what a version record keeps: enough to serve any file of the
// package by name without opening the ZIP again.
type Index struct {
	SHA256 string      `json:"sha256"` // hex digest of the .ma file
	Size   int64       `json:"size"`
	Key    string      `json:"key"` // packages/sha256/<hex>.ma
	Files  []FileEntry `json:"files"`
}

// FileEntry locates one file of a stored package.
type FileEntry struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Key    string `json:"key"` // files/sha256/<hex>
}

// PackageKey is the blob key of a package with the given SHA-256 digest.
func PackageKey(sum [32]byte) string {
	return "packages/sha256/" + hex.EncodeToString(sum[:]) + Extension
}

// FileKey is the blob key of a file with the given SHA-256 digest.
func FileKey(sum [32]byte) string { return "files/sha256/" + hex.EncodeToString(sum[:]) }

// StoreContent writes an accepted package content-addressed: each file
// under files/sha256/<hex> and the package itself (raw, the bytes p was
// opened from) under packages/sha256/<hex>.ma. Objects already present
// (found with Stat) are not written again, so a file that several versions
// share is stored once. It returns the package's index. It fails with
// openmini.EINVALID if raw is not the package p was opened from, and with
// openmini.EUNAVAILABLE wrapping the store's error if the store fails.
func StoreContent(ctx context.Context, st blob.Store, p *Package, raw []byte) (*Index, error) {
	if sha256.Sum256(raw) != p.SHA256 {
		return nil, openmini.Errorf(openmini.EINVALID, "store package: bytes do not match the validated package")
	}
	idx := &Index{SHA256: hex.EncodeToString(p.SHA256[:]), Size: int64(len(raw)), Key: PackageKey(p.SHA256)}
	for _, f := range p.Files {
		key := FileKey(f.SHA256)
		if err := putOnce(ctx, st, key, f.Data); err != nil {
			return nil, err
		}
		idx.Files = append(idx.Files, FileEntry{Name: f.Name, SHA256: hex.EncodeToString(f.SHA256[:]), Size: f.Size, Key: key})
	}
	if err := putOnce(ctx, st, idx.Key, raw); err != nil {
		return nil, err
	}
	return idx, nil
}

// putOnce writes data under key unless an object is already there.
// Content addressing makes an existing object the same bytes.
func putOnce(ctx context.Context, st blob.Store, key string, data []byte) error {
	_, err := st.Stat(ctx, key)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, blob.ErrNotFound):
		return &openmini.Error{Code: openmini.EUNAVAILABLE, Message: "blob store unavailable", Err: err}
	}
	if err := st.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		return &openmini.Error{Code: openmini.EUNAVAILABLE, Message: "blob store unavailable", Err: err}
	}
	return nil
}
