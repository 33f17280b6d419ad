package platform_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/platform"
)

// TestDemoHostUsers: the demo's banner names a host user signed up by
// phone, who can sign in on the host's sign-in page with the printed
// password; the demo user has an avatar; the mailbox page shows the code
// the sign-up used.
func TestDemoHostUsers(t *testing.T) {
	p := platformtest.Start(t, platform.Config{Demo: true})
	out := p.Out.String()
	m := regexp.MustCompile(`phone user\s+(\+\d+)\s+(\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, p.URL+"/dev/mailbox") {
		t.Fatalf("no phone user or mailbox in the banner:\n%s", out)
	}
	c := p.Client()
	if resp, body := p.PostForm(t, c, "/me/signin", "login", m[1], "password", m[2]); resp.StatusCode != 303 {
		t.Fatalf("sign in as the demo phone user: %d\n%s", resp.StatusCode, body)
	}
	if _, body := p.Get(t, c, "/me"); !strings.Contains(body, "Wei 伟") {
		t.Fatalf("demo phone user's profile:\n%s", body)
	}
	if code, body := p.Get(t, p.Client(), "/dev/mailbox"); code != 200 || !strings.Contains(body, "finish signing up") {
		t.Fatalf("demo mailbox: %d", code)
	}
	var avatars int
	if err := p.DB.QueryRow(t.Context(), `SELECT COUNT(*) FROM identity_users WHERE avatar_key <> ''`).Scan(&avatars); err != nil || avatars != 1 {
		t.Fatalf("demo avatars: %d %v", avatars, err)
	}
}
