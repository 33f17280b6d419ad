package platform_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/platform"
)

// TestTwoReplicasBehaveAsOne runs two servers on one PostgreSQL database
// and one S3 bucket, as a scaled-out deployment does, and checks that what
// one replica knows the other knows: the setup link, sessions, lockouts.
func TestTwoReplicasBehaveAsOne(t *testing.T) {
	dbURL := testenv.PostgresOnly(t)
	s3 := testenv.S3(t)
	cfg := platform.Config{DatabaseURL: dbURL, BlobURL: s3.URL("openmini")}
	a := platformtest.Start(t, cfg)
	b := platformtest.Start(t, cfg)

	// A setup link printed by replica A works on replica B.
	c := b.Client()
	resp, body := b.PostForm(t, c, "/setup", "token", a.SetupToken(t), "name", "Op", "email", "op@example.com", "password", "operator-password-1")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("A's setup link on B: %d\n%s", resp.StatusCode, body)
	}
	// B's own link died with the setup.
	resp, _ = a.PostForm(t, a.Client(), "/setup", "token", b.SetupToken(t), "name", "X", "email", "x@example.com", "password", "another-password-1")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("B's setup link after setup on B, used on A: %d", resp.StatusCode)
	}

	// The session made by B is recognised by A.
	if code, body := a.Get(t, c, "/admin"); code != 200 || !strings.Contains(body, "op@example.com") {
		t.Fatalf("B's session on A: %d", code)
	}

	// Failed sign-ins add up across replicas.
	guesser := a.Client()
	for i := 0; i < 5; i++ {
		r := a
		if i%2 == 1 {
			r = b
		}
		resp, _ := r.PostForm(t, guesser, "/signin", "email", "op@example.com", "password", "wrong-guess-00"+string(rune('0'+i)))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	resp, _ = b.PostForm(t, guesser, "/signin", "email", "op@example.com", "password", "wrong-guess-006")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("sixth guess, spread over two replicas: %d, want 429", resp.StatusCode)
	}
	resp, _ = a.PostForm(t, guesser, "/signin", "email", "op@example.com", "password", "operator-password-1")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the other replica ignores the lock: %d", resp.StatusCode)
	}

	// Both are ready against the shared S3 bucket.
	for _, r := range []*platformtest.Running{a, b} {
		if code, body := r.Get(t, r.Client(), "/readyz"); code != 200 {
			t.Fatalf("/readyz: %d %s", code, body)
		}
	}
}
