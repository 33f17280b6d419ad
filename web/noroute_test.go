package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/platform"
)

// TestUnknownPaths: a mistyped address gets the platform's own page in the
// reader's language (JSON for API clients), and a path that exists for
// other methods still answers 405 with Allow.
func TestUnknownPaths(t *testing.T) {
	p := platformtest.Start(t, platform.Config{})
	c := p.Client()

	code, h, body := fetch(t, p, c, "/wallet/nowhere", "Accept-Language", "zh-CN,zh;q=0.9")
	if code != http.StatusNotFound || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("unknown page: %d %s", code, h.Get("Content-Type"))
	}
	mustContain(t, "unknown page in Chinese", string(body), "没有这个页面。", `lang="zh-Hans"`, `href="/"`)

	code, _, body = fetch(t, p, c, "/wallet/nowhere")
	mustContain(t, "unknown page in English", string(body), "There is no such page.")
	if code != http.StatusNotFound {
		t.Fatalf("unknown page: %d", code)
	}

	code, h, body = fetch(t, p, c, "/wallet/nowhere", "Accept", "application/json")
	var e struct {
		Error struct{ Code, Message string }
	}
	if code != http.StatusNotFound || json.Unmarshal(body, &e) != nil || e.Error.Code != "not_found" {
		t.Fatalf("unknown path for a JSON client: %d %s %s", code, h.Get("Content-Type"), body)
	}

	code, h, _ = fetch(t, p, c, "/signout")
	if code != http.StatusMethodNotAllowed || h.Get("Allow") != "POST" {
		t.Fatalf("GET of a POST-only path: %d, Allow %q", code, h.Get("Allow"))
	}
}
