package fsblob_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/blob/fsblob"
	"github.com/openmini/openmini/blob/storetest"
)

func newStore(t *testing.T, dir string) *fsblob.Store {
	t.Helper()
	s, err := fsblob.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) blob.Store {
		return newStore(t, filepath.Join(t.TempDir(), "blobs"))
	})
}

func TestNewCreatesFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "blobs")
	s := newStore(t, dir)
	if err := s.Put(t.Context(), "a/b", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a", "b")); err != nil || string(b) != "x" {
		t.Fatalf("file on disk = %q, %v", b, err)
	}
}

func TestNewRefusesAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	if _, err := fsblob.New(file); err == nil {
		t.Fatal("New on a file succeeded")
	}
	if _, err := fsblob.New(""); err == nil {
		t.Fatal("New(\"\") succeeded")
	}
}

// TestSymlinkEscape: a symlink planted in the folder cannot lead a key
// outside it, for reads or writes.
func TestSymlinkEscape(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644)
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Skipf("symlinks unsupported: %v", err)
	}
	s := newStore(t, dir)
	ctx := t.Context()
	if rc, _, err := s.Get(ctx, "link/secret"); err == nil {
		b, _ := io.ReadAll(rc)
		rc.Close()
		t.Fatalf("Get through a symlink read %q", b)
	}
	if err := s.Put(ctx, "link/planted", strings.NewReader("x"), 1); err == nil {
		t.Error("Put through a symlink succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); err == nil {
		t.Error("Put wrote outside the folder")
	}
	if err := s.Delete(ctx, "link/secret"); err != nil {
		t.Logf("Delete through a symlink: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "secret")); err != nil {
		t.Error("Delete removed a file outside the folder")
	}
}

// TestFailedPutLeavesNoTemp: a failing reader leaves neither the object nor
// a temporary file.
func TestFailedPutLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("partial"), errReader{boom})
	err := s.Put(t.Context(), "k", r, -1)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), `"k"`) {
		t.Fatalf("Put error = %v, want boom naming the key", err)
	}
	temps, _ := os.ReadDir(filepath.Join(dir, fsblob.TempDir))
	if len(temps) != 0 {
		t.Errorf("temporary files left: %v", temps)
	}
	if _, err := os.Stat(filepath.Join(dir, "k")); err == nil {
		t.Error("failed Put left the object")
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestReservedKeys(t *testing.T) {
	s := newStore(t, t.TempDir())
	for _, key := range []string{fsblob.TempDir, fsblob.TempDir + "/x"} {
		if err := s.Put(t.Context(), key, strings.NewReader("x"), 1); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestDeleteTidiesFolders(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	ctx := t.Context()
	s.Put(ctx, "a/b/c/d", strings.NewReader("x"), 1)
	s.Put(ctx, "a/keep", strings.NewReader("x"), 1)
	if err := s.Delete(ctx, "a/b/c/d"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "b")); !os.IsNotExist(err) {
		t.Errorf("empty folder a/b left behind: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "keep")); err != nil {
		t.Errorf("sibling removed: %v", err)
	}
}

func TestPingFailsWhenFolderGone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	s := newStore(t, dir)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	err := s.Ping(t.Context())
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Ping after removing the folder = %v, want an error naming it", err)
	}
}

func TestStaleTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	newStore(t, dir).Close()
	old := filepath.Join(dir, fsblob.TempDir, "put-old")
	young := filepath.Join(dir, fsblob.TempDir, "put-young")
	os.WriteFile(old, []byte("x"), 0o644)
	os.WriteFile(young, []byte("x"), 0o644)
	long := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(old, long, long)
	newStore(t, dir)
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("stale temp file kept: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("young temp file removed: %v", err)
	}
}
