// Package storetest is the conformance suite for blob.Store adapters. Every
// adapter's tests call Run against a real backend (a folder, a real S3
// server), so all adapters promise the same behaviour.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini/blob"
)

// Run runs the suite. newStore must return an empty store for each call and
// arrange (with t.Cleanup) for it to be closed; every subtest gets its own.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutGet", testPutGet},
		{"Overwrite", testOverwrite},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"List", testList},
		{"InvalidKeys", testInvalidKeys},
		{"SizeMismatch", testSizeMismatch},
		{"CancelledPut", testCancelledPut},
		{"ConcurrentPuts", testConcurrentPuts},
		{"LargeStreaming", testLargeStreaming},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func testPutGet(t *testing.T, s blob.Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Minute) // clocks of a remote server may differ a little
	for _, tc := range []struct {
		key  string
		data string
		size int64 // -1: unknown
	}{
		{"one", "hello", 5},
		{"apps/a1/v1/pkg.zip", "PK\x03\x04 zip bytes", -1},
		{"empty", "", 0},
		{"unicode/中文 名字.txt", "你好", -1},
		{".well-known/x", "dot", 3},
	} {
		put(t, s, tc.key, tc.data, tc.size)
		got, info := get(t, s, tc.key)
		if got != tc.data {
			t.Errorf("Get(%q) = %q, want %q", tc.key, got, tc.data)
		}
		if info.Key != tc.key || info.Size != int64(len(tc.data)) {
			t.Errorf("Get(%q) info = %+v, want key %q size %d", tc.key, info, tc.key, len(tc.data))
		}
		if info.ModTime.Before(before) {
			t.Errorf("Get(%q) ModTime = %v, want about now", tc.key, info.ModTime)
		}
		st, err := s.Stat(ctx, tc.key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", tc.key, err)
		}
		if st.Key != tc.key || st.Size != int64(len(tc.data)) || st.ModTime.IsZero() {
			t.Errorf("Stat(%q) = %+v, want key %q size %d", tc.key, st, tc.key, len(tc.data))
		}
	}
}

func testOverwrite(t *testing.T, s blob.Store) {
	put(t, s, "k", "a long first version", -1)
	put(t, s, "k", "v2", 2)
	if got, info := get(t, s, "k"); got != "v2" || info.Size != 2 {
		t.Errorf("after overwrite Get = %q (size %d), want \"v2\"", got, info.Size)
	}
	if list := keys(t, s, ""); !slices.Equal(list, []string{"k"}) {
		t.Errorf("List after overwrite = %q, want [k]", list)
	}
}

func testNotFound(t *testing.T, s blob.Store) {
	ctx := t.Context()
	put(t, s, "dir/file", "x", 1)
	for _, key := range []string{"missing", "dir", "dir/missing", "dir/file/below", "dir/fil"} {
		if _, _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", key, err)
		} else if !strings.Contains(err.Error(), key) {
			t.Errorf("Get(%q) error %q does not name the key", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat(%q) error = %v, want ErrNotFound", key, err)
		}
	}
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := t.Context()
	put(t, s, "a/b/c", "1", 1)
	put(t, s, "a/d", "2", 1)
	if err := s.Delete(ctx, "a/b/c"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Stat(ctx, "a/b/c"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after Delete = %v, want ErrNotFound", err)
	}
	for _, key := range []string{"a/b/c", "never/was", "a/b"} {
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%q) of a missing key = %v, want nil", key, err)
		}
	}
	if list := keys(t, s, ""); !slices.Equal(list, []string{"a/d"}) {
		t.Errorf("List after Delete = %q, want [a/d]", list)
	}
	// The emptied "folder" can hold objects again.
	put(t, s, "a/b/e", "3", 1)
	if got, _ := get(t, s, "a/b/e"); got != "3" {
		t.Errorf("Get(a/b/e) = %q after re-put", got)
	}
}

func testList(t *testing.T, s blob.Store) {
	all := []string{"b", "a/b", "a-b", "a/c/d", "a/b2", "ab", "z/y", "a/b3/x", "中/文"}
	for i, k := range all {
		put(t, s, k, strings.Repeat("x", i), int64(i))
	}
	sorted := slices.Sorted(slices.Values(all))
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", sorted},
		{"a/", []string{"a/b", "a/b2", "a/b3/x", "a/c/d"}},
		{"a/b", []string{"a/b", "a/b2", "a/b3/x"}},
		{"a", []string{"a-b", "a/b", "a/b2", "a/b3/x", "a/c/d", "ab"}},
		{"a/c/", []string{"a/c/d"}},
		{"a/c/d", []string{"a/c/d"}},
		{"a/c/d/", nil},
		{"b/", nil},
		{"nope/", nil},
		{"nope/deeper/", nil},
		{"z", []string{"z/y"}},
		{"中", []string{"中/文"}},
	} {
		got := keys(t, s, tc.prefix)
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
	infos, err := s.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		want := int64(slices.Index(all, in.Key))
		if in.Size != want || in.ModTime.IsZero() {
			t.Errorf("List info %+v: want size %d and a ModTime", in, want)
		}
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := t.Context()
	bad := []string{
		"", "/abs", "/", "..", ".", "../x", "a/../b", "a/..", "a//b", "a/./b",
		"./a", "a/", `a\b`, `..\x`, "a\x00b", "a\nb", "\xff\xfe",
		strings.Repeat("k", blob.MaxKeyLen+1),
	}
	for _, key := range bad {
		check := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("%s(%q) error = %v, want ErrInvalidKey", op, key, err)
			}
		}
		check("Put", s.Put(ctx, key, strings.NewReader("x"), 1))
		_, _, err := s.Get(ctx, key)
		check("Get", err)
		_, err = s.Stat(ctx, key)
		check("Stat", err)
		check("Delete", s.Delete(ctx, key))
	}
	for _, prefix := range []string{"/abs", "../", "a//", `a\`, "a\x00", "a/../"} {
		if _, err := s.List(ctx, prefix); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("List(%q) error = %v, want ErrInvalidKey", prefix, err)
		}
	}
	if list := keys(t, s, ""); len(list) != 0 {
		t.Errorf("invalid keys stored something: %q", list)
	}
}

// testSizeMismatch: a reader that holds fewer or more bytes than the
// announced size must fail the Put and leave the old object in place.
func testSizeMismatch(t *testing.T, s blob.Store) {
	put(t, s, "k", "old", 3)
	for _, tc := range []struct {
		data string
		size int64
	}{
		{"short", 10},
		{"longer than announced", 4},
		{"", 1},
	} {
		err := s.Put(t.Context(), "k", strings.NewReader(tc.data), tc.size)
		if err == nil {
			t.Fatalf("Put of %d bytes announced as %d succeeded", len(tc.data), tc.size)
		}
		if !strings.Contains(err.Error(), `"k"`) {
			t.Errorf("Put error %q does not name the key", err)
		}
		if got, _ := get(t, s, "k"); got != "old" {
			t.Fatalf("after a failed Put Get = %q, want the old object", got)
		}
	}
}

// testCancelledPut: cancelling ctx part-way through a Put leaves the old
// object in place and no partial one.
func testCancelledPut(t *testing.T, s blob.Store) {
	put(t, s, "k", "old", 3)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), cancelReader{cancel}, bytes.NewReader(make([]byte, 1<<20)))
	if err := s.Put(ctx, "k", r, 2<<20); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if err := s.Put(ctx, "fresh", strings.NewReader("x"), 1); err == nil {
		t.Fatal("Put on a cancelled context succeeded")
	}
	if got, _ := get(t, s, "k"); got != "old" {
		t.Errorf("after a cancelled Put Get = %d bytes, want the old object", len(got))
	}
	if list := keys(t, s, ""); !slices.Equal(list, []string{"k"}) {
		t.Errorf("List after cancelled Puts = %q, want [k]", list)
	}
}

type cancelReader struct{ cancel context.CancelFunc }

func (c cancelReader) Read([]byte) (int, error) {
	c.cancel()
	time.Sleep(10 * time.Millisecond) // let a transport notice
	return 0, io.EOF
}

// testConcurrentPuts: writers race on one key while readers check that
// every read is one writer's whole object.
func testConcurrentPuts(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const (
		writers = 6
		rounds  = 4
		size    = 256 << 10
	)
	payload := func(w int) []byte { return bytes.Repeat([]byte{byte('a' + w)}, size+w) }
	check := func(data []byte) error {
		if len(data) == 0 {
			return errors.New("read an empty object")
		}
		w := int(data[0] - 'a')
		if w < 0 || w >= writers || !bytes.Equal(data, payload(w)) {
			return fmt.Errorf("read a torn or partial object of %d bytes", len(data))
		}
		return nil
	}
	if err := s.Put(ctx, "race", bytes.NewReader(payload(0)), int64(size)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds*2)
	for w := range writers {
		wg.Go(func() {
			for range rounds {
				p := payload(w)
				size := int64(len(p))
				if w%2 == 1 {
					size = -1
				}
				if err := s.Put(ctx, "race", bytes.NewReader(p), size); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
				}
			}
		})
		wg.Go(func() {
			for range rounds {
				rc, info, err := s.Get(ctx, "race")
				if err != nil {
					errs <- fmt.Errorf("reader: %w", err)
					continue
				}
				data, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					errs <- fmt.Errorf("reader: %w", err)
					continue
				}
				if err := check(data); err != nil {
					errs <- err
				} else if info.Size != int64(len(data)) {
					errs <- fmt.Errorf("Get info size %d, read %d bytes", info.Size, len(data))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, _ := get(t, s, "race")
	if err := check([]byte(got)); err != nil {
		t.Errorf("final object: %v", err)
	}
}

// testLargeStreaming: 8 MB from a reader of unknown length (size -1), which
// S3 adapters must stream rather than buffer whole.
func testLargeStreaming(t *testing.T, s blob.Store) {
	const size = 8 << 20
	src := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(src.Uint32())
	}
	r := struct{ io.Reader }{bytes.NewReader(data)} // hide Len and Seek
	if err := s.Put(t.Context(), "big/blob.bin", r, -1); err != nil {
		t.Fatalf("Put 8 MB with size -1: %v", err)
	}
	rc, info, err := s.Get(t.Context(), "big/blob.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatal(err)
	}
	if n != size || info.Size != size {
		t.Fatalf("read %d bytes, info size %d, want %d", n, info.Size, size)
	}
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("8 MB object read back differs")
	}
}

func testPing(t *testing.T, s blob.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if list := keys(t, s, ""); len(list) != 0 {
		t.Errorf("Ping left objects behind: %q", list)
	}
}

func put(t *testing.T, s blob.Store, key, data string, size int64) {
	t.Helper()
	if err := s.Put(t.Context(), key, strings.NewReader(data), size); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t *testing.T, s blob.Store, key string) (string, blob.Info) {
	t.Helper()
	rc, info, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	return string(b), info
}

func keys(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	infos, err := s.List(t.Context(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	var out []string
	for _, in := range infos {
		out = append(out, in.Key)
	}
	return out
}
