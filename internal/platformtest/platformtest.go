// Package platformtest starts a whole OpenMini platform for end-to-end
// tests: a real database (SQLite, or PostgreSQL under
// OPENMINI_TEST_DB=postgres), a blob folder, the job queue and the HTTP
// server on a free loopback port.
package platformtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/platform"
)

// Running is a started platform.
type Running struct {
	*platform.Platform
	Logs *SafeBuffer // everything the platform logged
	Out  *SafeBuffer // the banner and setup link
	stop func()
}

// SafeBuffer is a bytes.Buffer safe for concurrent writers.
type SafeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SafeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SafeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start opens and runs a platform with cfg (zero fields get test
// defaults: a fresh database of the OPENMINI_TEST_DB dialect, a temporary
// data directory, port 0) and stops it when the test ends.
func Start(t testing.TB, cfg platform.Config) *Running {
	t.Helper()
	d := platform.Defaults()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = testenv.DatabaseURL(t)
	}
	if cfg.AppsDomain == "" {
		cfg.AppsDomain = d.AppsDomain
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "debug"
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.Version == "" {
		cfg.Version = "test"
	}
	r := &Running{Logs: &SafeBuffer{}, Out: &SafeBuffer{}}
	log, err := platform.NewLogger(r.Logs, "text", cfg.LogLevel)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := platform.Open(ctx, cfg, log, r.Out)
	if err != nil {
		cancel()
		t.Fatalf("open platform: %v", err)
	}
	p.PrintBanner()
	r.Platform = p
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("platform Run: %v", err)
			}
			p.Close()
		})
	}
	t.Cleanup(r.stop)
	return r
}

// Stop shuts the platform down now (it is also stopped when the test ends).
func (r *Running) Stop() { r.stop() }

// Client returns an HTTP client with its own cookie jar that does not
// follow redirects (tests look at them).
func (r *Running) Client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Get fetches path (relative to the host URL) and returns status and body.
func (r *Running) Get(t testing.TB, c *http.Client, path string) (int, string) {
	t.Helper()
	resp, err := c.Get(r.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// PostForm posts form fields to path with the Origin header a browser
// sends, and returns the response (body read and closed).
func (r *Running) PostForm(t testing.TB, c *http.Client, path string, kv ...string) (*http.Response, string) {
	t.Helper()
	var body strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			body.WriteByte('&')
		}
		body.WriteString(url.QueryEscape(kv[i]) + "=" + url.QueryEscape(kv[i+1]))
	}
	req, _ := http.NewRequest("POST", r.URL+path, strings.NewReader(body.String()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", r.URL)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// SetupToken returns the token of the setup link the platform printed.
func (r *Running) SetupToken(t testing.TB) string {
	t.Helper()
	i := strings.Index(r.SetupURL, "token=")
	if i < 0 {
		t.Fatalf("no setup link printed; output:\n%s", r.Out.String())
	}
	return r.SetupURL[i+len("token="):]
}

// CreateOperator completes setup with a known password and returns a client
// signed in as that admin.
func (r *Running) CreateOperator(t testing.TB, email, pw string) *http.Client {
	t.Helper()
	c := r.Client()
	resp, body := r.PostForm(t, c, "/setup", "token", r.SetupToken(t), "name", "Olivia Operator", "email", email, "password", pw)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: status %d, body:\n%s", resp.StatusCode, body)
	}
	return c
}

// Discard is a logger for tests that do not look at logs.
var Discard = slog.New(slog.NewTextHandler(io.Discard, nil))
