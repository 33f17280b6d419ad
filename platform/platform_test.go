package platform_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/platform"
)

func TestOperationalEndpoints(t *testing.T) {
	p := platformtest.Start(t, platform.Config{})
	c := p.Client()

	if code, body := p.Get(t, c, "/healthz"); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("/healthz = %d %s", code, body)
	}
	if code, body := p.Get(t, c, "/readyz"); code != 200 || !strings.Contains(body, `"ready"`) {
		t.Fatalf("/readyz = %d %s", code, body)
	}

	// A request ID is made up, or taken from a proxy, and appears in the
	// response and the log line.
	req, _ := http.NewRequest("GET", p.URL+"/healthz", nil)
	req.Header.Set("X-Request-ID", "proxy-abc-123")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-ID"); got != "proxy-abc-123" {
		t.Fatalf("X-Request-ID = %q, want the proxy's", got)
	}
	resp, err = c.Get(p.URL + "/no-such-page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Request-ID")
	if len(id) != 16 || resp.StatusCode != 404 {
		t.Fatalf("unknown page: status %d, request ID %q", resp.StatusCode, id)
	}
	waitLog(t, p, "request_id="+id)

	code, metrics := p.Get(t, c, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`openmini_http_requests_total{code="200",method="GET",route="GET /healthz"}`,
		`openmini_http_request_duration_seconds_bucket{route="GET /readyz"`,
		`go_sql_open_connections{db_name="write"}`,
		`openmini_jobs{state="queued"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func waitLog(t *testing.T, p *platformtest.Running, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.Logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", want, p.Logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestReadyzNamesTheFailingPart(t *testing.T) {
	p := platformtest.Start(t, platform.Config{})
	p.DB.Close() // the database goes away under the running server
	code, body := p.Get(t, p.Client(), "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database") {
		t.Fatalf("/readyz with the database closed = %d %s", code, body)
	}
	if code, _ := p.Get(t, p.Client(), "/healthz"); code != 200 {
		t.Fatalf("/healthz = %d; the process is still up", code)
	}
}

// TestGracefulShutdown stops the server while a client is still sending a
// sign-in form; the request completes and gets its answer.
func TestGracefulShutdown(t *testing.T) {
	p := platformtest.Start(t, platform.Config{})
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "email=nobody%40example.com&password=wrong-password-1"
	fmt.Fprintf(conn, "POST /signin HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		strings.TrimPrefix(p.URL, "http://"), len(body), body[:10])
	time.Sleep(200 * time.Millisecond) // the server is now reading the body
	stopped := make(chan struct{})
	go func() { p.Stop(); close(stopped) }()
	time.Sleep(200 * time.Millisecond)
	select {
	case <-stopped:
		t.Fatal("server stopped while a request was in flight")
	default:
	}
	io.WriteString(conn, body[10:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("in-flight sign-in: status %d, want 401 (wrong password)", resp.StatusCode)
	}
	select {
	case <-stopped:
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop after the last request")
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
	if !strings.Contains(p.Logs.String(), "msg=stopped") {
		t.Fatalf("no clean stop logged:\n%s", p.Logs.String())
	}
}

func TestBadConfigurationFailsFastAndCreatesNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, []byte("x"), 0o600)

	cases := []struct {
		name    string
		cfg     platform.Config
		setting string
	}{
		{"port in use", platform.Config{Addr: busy.Addr().String()}, "--addr: " + busy.Addr().String() + " is already in use"},
		{"malformed database URL", platform.Config{DatabaseURL: "postgres://user:secret@[::1/db"}, "--database-url: malformed URL"},
		{"unsupported database", platform.Config{DatabaseURL: "mysql://localhost/db"}, `--database-url: unsupported scheme "mysql"`},
		{"unreachable PostgreSQL", platform.Config{DatabaseURL: "postgres://u:secret@127.0.0.1:1/db?connect_timeout=2"}, "--database-url: cannot connect to postgres 127.0.0.1:1/db"},
		{"data directory under a file", platform.Config{DataDir: filepath.Join(file, "data")}, "--data: cannot create"},
		{"bad blob URL scheme", platform.Config{BlobURL: "ftp://example.com/x"}, "--blob-url:"},
		{"unreachable S3", platform.Config{BlobURL: "s3://bucket?endpoint=http://127.0.0.1:1&access_key=a&secret_key=b&path_style=true"}, "--blob-url:"},
		{"bad public URL", platform.Config{PublicURL: "localhost:8080"}, "--public-url:"},
		{"bad apps domain", platform.Config{AppsDomain: "apps_.local host"}, "--apps-domain:"},
		{"bad currency", platform.Config{Currency: "yuan"}, "--currency:"},
		{"bad time zone", platform.Config{TimeZone: "Mars/Olympus"}, "--timezone:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := platform.Defaults()
			cfg.Addr = "127.0.0.1:0"
			dataDir := filepath.Join(t.TempDir(), "data")
			cfg.DataDir = dataDir
			if tc.cfg.Addr != "" {
				cfg.Addr = tc.cfg.Addr
			}
			if tc.cfg.DataDir != "" {
				cfg.DataDir = tc.cfg.DataDir
			}
			if tc.cfg.AppsDomain != "" {
				cfg.AppsDomain = tc.cfg.AppsDomain
			}
			cfg.DatabaseURL, cfg.BlobURL, cfg.PublicURL = tc.cfg.DatabaseURL, tc.cfg.BlobURL, tc.cfg.PublicURL
			if tc.cfg.Currency != "" {
				cfg.Currency = tc.cfg.Currency
			}
			if tc.cfg.TimeZone != "" {
				cfg.TimeZone = tc.cfg.TimeZone
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			p, err := platform.Open(ctx, cfg, platformtest.Discard, io.Discard)
			if err == nil {
				p.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.setting) && !strings.Contains(msg, tc.setting) {
				t.Fatalf("error %q does not name %q", msg, tc.setting)
			}
			if strings.Contains(msg, "secret") {
				t.Fatalf("error repeats a password: %q", msg)
			}
			if strings.Contains(msg, "\n") {
				t.Fatalf("error is more than one line: %q", msg)
			}
			if _, err := os.Stat(dataDir); err == nil && tc.cfg.DataDir == "" {
				if entries, _ := os.ReadDir(dataDir); len(entries) > 0 && !strings.HasPrefix(tc.name, "bad ") {
					t.Fatalf("data directory was created with %d entries despite the error", len(entries))
				}
			}
		})
	}
	// The busy port is still usable by its owner: nothing was left bound.
	if _, err := net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	_ = testenv.RequireAll
}
