package web

import (
	"strings"
	"testing"
)

func TestBuildCSPKeepsLoopbackToLocalPlatforms(t *testing.T) {
	allowed := []string{"https://api.example.com", "http://localhost:3000", "http://127.0.0.1:9000", "http://evil.example", "https://a.example.com; script-src *"}
	local := buildCSP("http://localhost:8080", allowed)
	public := buildCSP("https://super.example.com", allowed)
	for _, c := range []struct {
		csp, origin string
		want        bool
	}{
		{local, "https://api.example.com", true},
		{local, "http://localhost:3000", true},
		{local, "http://127.0.0.1:9000", true},
		{public, "https://api.example.com", true},
		{public, "http://localhost:3000", false},
		{public, "http://127.0.0.1:9000", false},
		{local, "http://evil.example", false},
		{public, "script-src *", false},
	} {
		if got := strings.Contains(c.csp, c.origin); got != c.want {
			t.Errorf("%q in %q: %v, want %v", c.origin, c.csp, got, c.want)
		}
	}
	if !strings.Contains(public, "frame-ancestors https://super.example.com") {
		t.Errorf("frame-ancestors: %s", public)
	}
}
