package platform_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/platform"
)

// TestDemo checks that --demo makes a world a newcomer can open: signed-in
// roles with printed passwords and three released mini programs that
// launch, and that a second start leaves the data alone.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	dbURL := testenv.DatabaseURL(t)
	p := platformtest.Start(t, platform.Config{Demo: true, DataDir: dir, DatabaseURL: dbURL})
	out := p.Out.String()
	if p.SetupURL != "" {
		t.Fatal("the demo made an operator; no setup link should be printed")
	}
	m := regexp.MustCompile(`operator\s+(\S+)\s+(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no operator credentials in the banner:\n%s", out)
	}
	c := p.Client()
	if resp, _ := p.PostForm(t, c, "/signin", "email", m[1], "password", m[2]); resp.StatusCode != 303 {
		t.Fatalf("sign in as the demo operator: %d", resp.StatusCode)
	}
	links := regexp.MustCompile(`(?m)^\s+\S.*?\s(http://\S+/app/\S+)$`).FindAllStringSubmatch(out, -1)
	if len(links) != 3 {
		t.Fatalf("want 3 demo app links, got %d:\n%s", len(links), out)
	}
	for _, l := range links {
		path := strings.TrimPrefix(l[1], p.URL)
		code, body := p.Get(t, p.Client(), path)
		if code != 200 || !strings.Contains(body, "<iframe") || !strings.Contains(body, "/_v/") {
			t.Fatalf("launch %s: %d", path, code)
		}
	}
	if !strings.Contains(out, "table=12") {
		t.Fatal("the restaurant link has no table")
	}
	p.Stop()

	// A second start with --demo on the same data seeds nothing more.
	p2 := platformtest.Start(t, platform.Config{Demo: true, DataDir: dir, DatabaseURL: dbURL})
	if strings.Contains(p2.Out.String(), "Demo accounts") {
		t.Fatal("the demo seeded twice")
	}
	var apps int
	if err := p2.DB.QueryRow(t.Context(), `SELECT COUNT(*) FROM apps`).Scan(&apps); err != nil || apps != 3 {
		t.Fatalf("apps after a second start: %d %v", apps, err)
	}
}
