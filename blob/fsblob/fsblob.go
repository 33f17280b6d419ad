// Package fsblob is the blob.Store on a local folder: the default of a
// single-machine `openmini serve`, kept under <data-dir>/blobs.
//
// Every file operation goes through an os.Root, so no key (and no symlink
// planted in the folder) can reach outside it. A key "a/b/c" is the file
// a/b/c under the folder. Put writes a temporary file in the reserved
// folder TempDir, syncs it, then renames it over the key, so readers see the
// whole old object or the whole new one, even across a crash. Temporary
// files left by a crash are removed by New once they are a day old.
//
// Because keys are files, a key cannot also be a "folder" of other keys:
// after Put("a") a Put("a/b") fails (and the reverse), which S3 allows.
package fsblob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/openmini/openmini/blob"
)

// TempDir is the folder, directly under the store's root, that holds
// in-flight Puts and Ping probes. Keys under it are refused and List never
// shows it.
const TempDir = ".fsblob-tmp"

// staleTemp is how old a temporary file must be before New removes it as a
// leftover of a crashed Put.
const staleTemp = 24 * time.Hour

// Store is a blob.Store on a local folder. It is safe for concurrent use,
// including by several processes sharing the folder.
type Store struct {
	dir  string
	root *os.Root
}

var _ blob.Store = (*Store)(nil)

// New opens the store in dir, creating the folder (and its parents) if it
// is missing, and removes day-old temporary files left by crashed Puts.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("fsblob: empty folder path")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fsblob: create folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("fsblob: open folder: %w", err)
	}
	s := &Store{dir: dir, root: root}
	if err := root.MkdirAll(TempDir, 0o755); err != nil {
		root.Close()
		return nil, fmt.Errorf("fsblob: create %s: %w", TempDir, err)
	}
	s.removeStaleTemps()
	return s, nil
}

// Dir returns the folder the store was opened on.
func (s *Store) Dir() string { return s.dir }

// checkKey applies blob.CheckKey plus this adapter's one reserved name.
func checkKey(key string) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	if key == TempDir || strings.HasPrefix(key, TempDir+"/") {
		return fmt.Errorf("%w %q: %s is reserved by the folder store", blob.ErrInvalidKey, key, TempDir)
	}
	return nil
}

// Put writes r to key atomically. When size >= 0, r must yield exactly size
// bytes or nothing is stored. A cancelled ctx stops the copy and stores
// nothing.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) (err error) {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("fsblob: put: %w", err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("fsblob: put %q: %w", key, err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	tmp, f, err := s.createTemp()
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			s.root.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return fmt.Errorf("size mismatch: announced %d bytes, read %d", size, n)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := s.rename(tmp, key); err != nil {
		return err
	}
	committed = true
	s.syncDir(path.Dir(key))
	return nil
}

// createTemp creates an empty, uniquely named file in TempDir.
func (s *Store) createTemp() (string, *os.File, error) {
	for range 10 {
		name := path.Join(TempDir, "put-"+randomHex(12))
		f, err := s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if errors.Is(err, fs.ErrNotExist) {
			// The temp folder was removed from under us; recreate it.
			if err := s.root.MkdirAll(TempDir, 0o755); err != nil {
				return "", nil, err
			}
			continue
		}
		return name, f, err
	}
	return "", nil, errors.New("cannot create a temporary file")
}

// rename moves tmp over key, creating key's parent folders. A concurrent
// Delete may remove an emptied parent between the two steps, so a missing
// parent is retried a few times.
func (s *Store) rename(tmp, key string) error {
	var err error
	for range 5 {
		if dir := path.Dir(key); dir != "." {
			if err = s.root.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		err = s.root.Rename(tmp, key)
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}

// syncDir makes a rename in dir durable. It is best effort: the object is
// already visible, and some file systems cannot sync a folder.
func (s *Store) syncDir(dir string) {
	d, err := s.root.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// Get opens key for reading. Missing keys (and folders) give blob.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	if err := checkKey(key); err != nil {
		return nil, blob.Info{}, fmt.Errorf("fsblob: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, blob.Info{}, fmt.Errorf("fsblob: get %q: %w", key, err)
	}
	f, err := s.root.Open(key)
	if err != nil {
		return nil, blob.Info{}, fmt.Errorf("fsblob: get %q: %w", key, mapErr(err))
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = blob.ErrNotFound
	}
	if err != nil {
		f.Close()
		return nil, blob.Info{}, fmt.Errorf("fsblob: get %q: %w", key, err)
	}
	return f, info(key, fi), nil
}

// Stat describes key; missing keys (and folders) give blob.ErrNotFound.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if err := checkKey(key); err != nil {
		return blob.Info{}, fmt.Errorf("fsblob: stat: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, fmt.Errorf("fsblob: stat %q: %w", key, err)
	}
	fi, err := s.root.Stat(key)
	if err == nil && !fi.Mode().IsRegular() {
		err = blob.ErrNotFound
	}
	if err != nil {
		return blob.Info{}, fmt.Errorf("fsblob: stat %q: %w", key, mapErr(err))
	}
	return info(key, fi), nil
}

// Delete removes key and then any parent folders it left empty. A missing
// key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("fsblob: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fsblob: delete %q: %w", key, err)
	}
	fi, err := s.root.Lstat(key)
	if err != nil {
		if errors.Is(mapErr(err), blob.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("fsblob: delete %q: %w", key, err)
	}
	if fi.IsDir() {
		return nil // a "folder" of other keys, not an object
	}
	if err := s.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsblob: delete %q: %w", key, err)
	}
	// Tidy up: Remove fails on a folder that is not empty, which ends the walk.
	for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
		if s.root.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// List returns the objects whose keys start with prefix, sorted by key.
func (s *Store) List(ctx context.Context, prefix string) ([]blob.Info, error) {
	if err := blob.CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("fsblob: list: %w", err)
	}
	// Walk the deepest folder the prefix names in full; filter the rest.
	start := "."
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = prefix[:i]
	}
	var out []blob.Info
	err := fs.WalkDir(s.root.FS(), start, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(mapErr(err), blob.ErrNotFound) {
				// The prefix's folder does not exist (or is a file), or
				// something was removed while we walked: nothing to list.
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if name == TempDir {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(name, prefix) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, info(name, fi))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fsblob: list %q: %w", prefix, err)
	}
	// WalkDir sorts each folder, but "a-b" < "a/b" in key order while the
	// folder "a" sorts before the file "a-b"; sort the keys as a whole.
	slices.SortFunc(out, func(a, b blob.Info) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Ping checks that the folder is still there and writable by creating,
// syncing and removing a probe file.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fsblob: ping: %w", err)
	}
	name, f, err := s.createTemp()
	if err != nil {
		return fmt.Errorf("fsblob: ping %s: %w", s.dir, err)
	}
	_, err = f.WriteString("ping")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := s.root.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("fsblob: ping %s: %w", s.dir, err)
	}
	return nil
}

// Close releases the folder. The store must not be used afterwards.
func (s *Store) Close() error { return s.root.Close() }

// removeStaleTemps deletes temporary files older than staleTemp. Younger
// ones may belong to a Put in progress in another process.
func (s *Store) removeStaleTemps() {
	entries, err := fs.ReadDir(s.root.FS(), TempDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
			s.root.Remove(path.Join(TempDir, e.Name()))
		}
	}
}

func info(key string, fi fs.FileInfo) blob.Info {
	return blob.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}
}

// mapErr turns "no such file" and "a parent is a file" into blob.ErrNotFound.
func mapErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %w", blob.ErrNotFound, err)
	}
	return err
}

// ctxReader stops a copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
