package s3blob

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/blob/storetest"
	"github.com/openmini/openmini/internal/testenv"
)

func config(srv testenv.S3Server, prefix string) Config {
	return Config{
		Endpoint:  srv.Endpoint,
		Bucket:    srv.Bucket,
		Prefix:    prefix,
		AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey,
		Region:    srv.Region,
		PathStyle: true,
		PartSize:  minPartSize, // so the suite's 8 MB streaming Put goes multipart
	}
}

func open(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func randomPrefix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// TestConformance runs the suite against a real versitygw server: once at
// the bucket's root (a fresh bucket per subtest) and once under a prefix
// (subtests share a server, each under its own prefix).
func TestConformance(t *testing.T) {
	t.Run("root", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) blob.Store {
			return open(t, config(testenv.S3(t), ""))
		})
	})
	t.Run("prefix", func(t *testing.T) {
		srv := testenv.S3(t)
		storetest.Run(t, func(t *testing.T) blob.Store {
			return open(t, config(srv, "openmini/"+randomPrefix()))
		})
	})
}

// TestPrefixIsolation: a store under a prefix sees only its own objects,
// and its keys come back without the prefix.
func TestPrefixIsolation(t *testing.T) {
	srv := testenv.S3(t)
	root := open(t, config(srv, ""))
	sub := open(t, config(srv, "/tenant/a/"))
	ctx := t.Context()
	if err := sub.Put(ctx, "k", strings.NewReader("sub"), 3); err != nil {
		t.Fatal(err)
	}
	if err := root.Put(ctx, "tenant/ab", strings.NewReader("root"), 4); err != nil {
		t.Fatal(err)
	}
	got, err := sub.List(ctx, "")
	if err != nil || len(got) != 1 || got[0].Key != "k" {
		t.Fatalf("sub.List = %+v, %v; want only k", got, err)
	}
	if _, err := root.Stat(ctx, "tenant/a/k"); err != nil {
		t.Fatalf("root.Stat(tenant/a/k): %v", err)
	}
}

// TestWrongSecret: the real server refuses a bad signature, and the store
// says so clearly in New, Ping and Put.
func TestWrongSecret(t *testing.T) {
	srv := testenv.S3(t)
	cfg := config(srv, "")
	cfg.SecretKey += "wrong"

	_, err := New(t.Context(), cfg)
	if err == nil {
		t.Fatal("New with a wrong secret succeeded")
	}
	for _, want := range []string{srv.Bucket, srv.Endpoint} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error %q does not name %q", err, want)
		}
	}

	s, err := newStore(cfg) // skip New's Ping to reach Put
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Ping(t.Context())
	if err == nil {
		t.Fatal("Ping with a wrong secret succeeded")
	}
	t.Logf("Ping: %v", err)
	for _, want := range []string{srv.Bucket, srv.Endpoint, "secret key refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Ping error %q does not say %q", err, want)
		}
	}
	err = s.Put(t.Context(), "k", bytes.NewReader([]byte("x")), 1)
	if err == nil {
		t.Fatal("Put with a wrong secret succeeded")
	}
	t.Logf("Put: %v", err)
	if !strings.Contains(err.Error(), "secret key refused") || !strings.Contains(err.Error(), `"k"`) {
		t.Errorf("Put error %q: want it to name the key and the refused secret", err)
	}
	// Nothing was stored.
	good := open(t, config(srv, ""))
	if _, err := good.Stat(t.Context(), "k"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after refused Put = %v, want ErrNotFound", err)
	}
}

func TestWrongAccessKey(t *testing.T) {
	srv := testenv.S3(t)
	cfg := config(srv, "")
	cfg.AccessKey = "nobody"
	_, err := New(t.Context(), cfg)
	if err == nil {
		t.Fatal("New with an unknown access key succeeded")
	}
	t.Logf("New: %v", err)
	if !strings.Contains(err.Error(), "access key unknown") || !strings.Contains(err.Error(), srv.Bucket) {
		t.Errorf("New error %q: want it to name the bucket and the unknown access key", err)
	}
}

func TestMissingBucket(t *testing.T) {
	srv := testenv.S3(t)
	cfg := config(srv, "")
	cfg.Bucket = "no-such-bucket"
	_, err := New(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), `"no-such-bucket" does not exist at `+srv.Endpoint) {
		t.Fatalf("New with a missing bucket = %v, want it to name bucket and endpoint", err)
	}
}

func TestUnreachable(t *testing.T) {
	cfg := Config{Endpoint: "http://127.0.0.1:1", Bucket: "b", AccessKey: "a", SecretKey: "s", Region: "us-east-1", PathStyle: true}
	_, err := New(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("New on a closed port = %v, want an error naming the endpoint", err)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	base := Config{Endpoint: "http://127.0.0.1:9000", Bucket: "b", AccessKey: "a", SecretKey: "s"}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no bucket", func(c *Config) { c.Bucket = "" }, "no bucket"},
		{"no credentials", func(c *Config) { c.AccessKey, c.SecretKey = "", "" }, "AWS_ACCESS_KEY_ID"},
		{"half credentials", func(c *Config) { c.SecretKey = "" }, "missing credentials"},
		{"bad scheme", func(c *Config) { c.Endpoint = "ftp://h" }, "http or https"},
		{"endpoint path", func(c *Config) { c.Endpoint = "http://h/x" }, "host[:port] only"},
		{"small parts", func(c *Config) { c.PartSize = 1 << 20 }, "5 MiB"},
		{"bad prefix", func(c *Config) { c.Prefix = "a/../b" }, "prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			_, err := newStore(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("newStore = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	srv := testenv.S3(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	cfg := config(srv, "")
	cfg.AccessKey, cfg.SecretKey = "", ""
	s := open(t, cfg)
	if err := s.Put(t.Context(), "env", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
}
