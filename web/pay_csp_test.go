package web

import (
	"strings"
	"testing"
)

// TestCSPAllowsLoopbackDevOrigins: a developer's own server on this
// machine (allowed by app.CheckDomains for local development, as the demo
// restaurant's server is) is reachable from the app, the host's own origin
// never is, and plain http to anything else never is.
func TestCSPAllowsLoopbackDevOrigins(t *testing.T) {
	csp := buildCSP("http://localhost:8080", []string{
		"http://127.0.0.1:8080", "http://localhost:9000", "http://[::1]:3000", "https://api.example.com",
		"http://localhost:8080", "http://api.example.com", "http://localhost.evil.com", "http://127.0.0.1.nip.io",
	})
	var connect string
	for _, d := range strings.Split(csp, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "connect-src "); ok {
			connect = " " + v + " "
		}
	}
	for _, want := range []string{"http://127.0.0.1:8080", "http://localhost:9000", "http://[::1]:3000", "https://api.example.com"} {
		if !strings.Contains(connect, " "+want+" ") {
			t.Errorf("connect-src %q lacks %s", connect, want)
		}
	}
	for _, never := range []string{"http://localhost:8080", "http://api.example.com", "http://localhost.evil.com", "http://127.0.0.1.nip.io"} {
		if strings.Contains(connect, " "+never+" ") {
			t.Errorf("connect-src %q allows %s", connect, never)
		}
	}
}
