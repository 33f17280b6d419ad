package password

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var fast = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashCheck(t *testing.T) {
	h := Hash("correct horse", fast)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("encoded form %q does not name its parameters", h)
	}
	if err := Check("correct horse", h); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if err := Check("correct horse!", h); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: got %v, want ErrMismatch", err)
	}
	if Hash("correct horse", fast) == h {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA"} {
		if err := Check("x", bad); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Check(%q) = %v, want a format error", bad, err)
		}
	}
}

// TestConcurrentChecksBoundMemory: a burst of checks at the default cost
// (19 MiB each) runs a few at a time, so the heap grows by a few checks'
// worth, not by the burst's.
func TestConcurrentChecksBoundMemory(t *testing.T) {
	h := Hash("258013", Default)
	burst := 8 * cap(slots)
	per := uint64(Default.Memory) * 1024
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	errs := make(chan error, burst)
	for range burst {
		wg.Go(func() { errs <- Check("258013", h) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("check in a burst: %v", err)
		}
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	grew := after.HeapSys - before.HeapSys
	if limit := 4 * uint64(cap(slots)) * per; grew > limit {
		t.Fatalf("%d concurrent checks grew the heap by %d MiB; at most %d MiB expected (%d at a time)",
			burst, grew>>20, limit>>20, cap(slots))
	}
	t.Logf("%d concurrent checks, %d at a time: heap grew by %d MiB", burst, cap(slots), grew>>20)
}
