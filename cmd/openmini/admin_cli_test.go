package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/policy"
	"github.com/openmini/openmini/web"
)

func TestAdminCreateOperatorThenSignIn(t *testing.T) {
	w := newCLIWorld(t)
	setupToken := w.p.SetupToken(t)
	args := append([]string{"admin", "create-operator", "--email", "Olivia@Example.com", "--name", "Olivia Operator", "--password-stdin"}, w.dbArgs...)
	code, out, errOut := runCmdIn(t, "operator-password-1\n", nil, args...)
	if code != 0 || !strings.Contains(out, "Created admin olivia@example.com") {
		t.Fatalf("create-operator: %d\n%s\n%s", code, out, errOut)
	}
	// The new admin signs in to the running server's console.
	c := w.p.Client()
	resp, _ := w.p.PostForm(t, c, "/signin", "email", "olivia@example.com", "password", "operator-password-1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var pol policy.Policy
	w.p.API(c).Must(t, 200, "GET", "/api/v1/admin/policy", nil, &pol)
	// The first-run setup link cannot make a second admin any more.
	if err := w.p.Accounts.CheckSetupToken(context.Background(), setupToken); err == nil {
		t.Error("the setup link still works after create-operator")
	}

	// The same e-mail again is refused; so is a short password.
	code, _, errOut = runCmdIn(t, "another-password-2\n", nil, args...)
	if code != 1 || errOut != "openmini admin create-operator: e-mail: an account with olivia@example.com already exists\n" {
		t.Fatalf("existing e-mail: %d %q", code, errOut)
	}
	args2 := append([]string{"admin", "create-operator", "--email", "rita@example.com", "--name", "Rita Reviewer", "--role", "reviewer"}, w.dbArgs...)
	if code, _, errOut := runCmdIn(t, "short\n", nil, args2...); code != 1 || !strings.Contains(errOut, "password") {
		t.Fatalf("short password: %d %q", code, errOut)
	}
	// A reviewer (password from stdin without the flag, as in a pipe).
	if code, out, errOut := runCmdIn(t, "reviewer-password-1\n", nil, args2...); code != 0 || !strings.Contains(out, "Created reviewer rita@example.com") {
		t.Fatalf("create reviewer: %d %s %s", code, out, errOut)
	}
	a, err := w.p.Accounts.Authenticate(context.Background(), "rita@example.com", "reviewer-password-1", "")
	if err != nil || a.StaffRole != "reviewer" {
		t.Fatalf("reviewer account: %+v %v", a, err)
	}
	for _, bad := range [][]string{
		{"admin", "create-operator", "--name", "X"},
		{"admin", "create-operator", "--email", "x@example.com"},
		{"admin", "create-operator", "--email", "x@example.com", "--name", "X", "--role", "owner"},
	} {
		if code, _, errOut := runCmdIn(t, "long-enough-password\n", nil, append(bad, w.dbArgs...)...); code != 2 || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: %d %q", bad, code, errOut)
		}
	}
}

func TestAdminInviteUnderInviteOnly(t *testing.T) {
	w := newCLIWorld(t)
	out := w.admin(t, "policy", "--admission", "invite", "--deny-domains", "spam.example, junk.example")
	if !regexp.MustCompile(`(?m)^admission:\s+invite$`).MatchString(out) || !strings.Contains(out, "spam.example, junk.example") {
		t.Fatalf("policy --admission invite:\n%s", out)
	}
	pol, err := w.p.Policy.Get(context.Background())
	if err != nil || pol.Admission.Mode != policy.AdmissionInvite || len(pol.Admission.DenyDomains) != 2 {
		t.Fatalf("policy on the server: %+v %v", pol, err)
	}
	// No invitation: refused.
	var eb platformtest.ErrorBody
	signup := web.SignupRequest{Email: "bo@shop.example", Name: "Bo", Password: "bo-password-123", OrgName: "Bo's Shop"}
	if code := w.p.API(w.p.Client()).Do(t, "POST", "/api/v1/signup", signup, &eb); code != 403 {
		t.Fatalf("sign-up without an invitation: %d %+v", code, eb)
	}
	out = w.admin(t, "invite", "--uses", "2", "--expires", "2d", "--note", "Bo's shop", "--public-url", "https://mini.example.com/")
	m := regexp.MustCompile(`(?m)^code:\s+(\S+)\nlink:\s+(\S+)\nuses:\s+2\n`).FindStringSubmatch(out)
	if m == nil || m[2] != "https://mini.example.com/join?code="+m[1] {
		t.Fatalf("invite:\n%s", out)
	}
	signup.Code = m[1]
	var su web.SignupResponse
	w.p.API(w.p.Client()).Must(t, 201, "POST", "/api/v1/signup", signup, &su)
	if su.Org.Name != "Bo's Shop" || su.Org.Role != "owner" {
		t.Fatalf("admitted organisation: %+v", su.Org)
	}
	if out := w.admin(t, "invitations"); !regexp.MustCompile(`(?m)^\d+\s+1/2\s+.*\s+usable\s+-\s+Bo's shop$`).MatchString(out) {
		t.Fatalf("invitations:\n%s", out)
	}
	// The default link comes from --addr, like the server's own.
	out = w.admin(t, "invite", "--email", "cy@shop.example", "--addr", "0.0.0.0:9090")
	if !strings.Contains(out, "link:    http://localhost:9090/join?code=") || !strings.Contains(out, "only:    cy@shop.example") {
		t.Fatalf("invite with --addr:\n%s", out)
	}
	if code, _, errOut := runCmd(t, nil, append([]string{"admin", "invite", "--expires", "soon"}, w.dbArgs...)...); code != 2 || !strings.Contains(errOut, `--expires: "soon" is not a duration`) {
		t.Errorf("bad --expires: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, nil, append([]string{"admin", "invite", "--expires", "120d"}, w.dbArgs...)...); code != 1 || !strings.Contains(errOut, "90 days") {
		t.Errorf("--expires too long: %d %q", code, errOut)
	}
}

func TestAdminPolicyAndReviews(t *testing.T) {
	w := newCLIWorld(t)
	var p policy.Policy
	if err := json.Unmarshal([]byte(w.admin(t, "policy", "--games", "off", "--max-package", "1MB", "--max-pages", "20", "--json")), &p); err != nil {
		t.Fatal(err)
	}
	if p.GamesEnabled || p.Limits.MaxPackageBytes != 1<<20 || p.Limits.MaxPages != 20 {
		t.Fatalf("policy --json: %+v", p)
	}
	if got, _ := w.p.Policy.Get(context.Background()); got.GamesEnabled || got.Limits.MaxPackageBytes != 1<<20 {
		t.Fatalf("server policy: %+v", got)
	}
	// Showing changes nothing.
	if out := w.admin(t, "policy"); !regexp.MustCompile(`(?m)^games:\s+off$`).MatchString(out) {
		t.Fatalf("policy:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--admission", "maybe"}, 2, `--admission: "maybe" is not open or invite`},
		{[]string{"--games", "yes"}, 2, `--games: "yes" is not on or off`},
		{[]string{"--max-package", "lots"}, 2, `--max-package: "lots" is not a size`},
		{[]string{"--max-files", "-1"}, 1, "max_files"},
	} {
		code, _, errOut := runCmd(t, nil, append(append([]string{"admin", "policy"}, tc.args...), w.dbArgs...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("policy %v: %d %q, want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}

	if out := w.admin(t, "reviews"); out != "Nothing is waiting for review.\n" {
		t.Fatalf("empty queue: %q", out)
	}
	if code, _, errOut := runCmd(t, nil, append([]string{"admin", "approve", "12345"}, w.dbArgs...)...); code != 1 || !strings.Contains(errOut, "openmini admin approve: ") {
		t.Errorf("approve unknown version: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, nil, append([]string{"admin", "approve", "abc"}, w.dbArgs...)...); code != 2 || !strings.Contains(errOut, `"abc" is not a version ID`) {
		t.Errorf("approve abc: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, nil, append([]string{"admin", "reject", "1"}, w.dbArgs...)...); code != 2 || !strings.Contains(errOut, "--reason is required") {
		t.Errorf("reject without reason: %d %q", code, errOut)
	}
	// The queue as JSON, after an upload and submit through the API.
	env := map[string]string{"OPENMINI_SERVER": w.p.URL, "OPENMINI_TOKEN": w.key(t, "CI")}
	ma := filepath.Join(t.TempDir(), "a.ma")
	writeFile(t, ma, platformtest.Package(t, "blank", "Noodle Bar", "1.0.0", nil))
	for _, args := range [][]string{{"upload", ma, "--app", w.appID}, {"submit", "--app", w.appID, "--version", "1.0.0"}} {
		if code, out, errOut := runCmd(t, env, args...); code != 0 {
			t.Fatalf("%v: %s %s", args, out, errOut)
		}
	}
	var queue []struct {
		ID      int64     `json:"id"`
		AppID   string    `json:"app_id"`
		OrgName string    `json:"org_name"`
		Sub     time.Time `json:"submitted_at"`
	}
	if err := json.Unmarshal([]byte(w.admin(t, "reviews", "--json")), &queue); err != nil || len(queue) != 1 || queue[0].AppID != w.appID || queue[0].Sub.IsZero() {
		t.Fatalf("reviews --json: %v %+v", err, queue)
	}
}

func TestAdminWithoutADatabase(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCmd(t, nil, "admin", "reviews", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "--data: no database at "+filepath.Join(dir, "openmini.db")) {
		t.Fatalf("no database: %d %q", code, errOut)
	}
	// The same variables as serve.
	code, _, errOut = runCmd(t, map[string]string{"OPENMINI_DATA": dir}, "admin", "reviews")
	if code != 1 || !strings.Contains(errOut, filepath.Join(dir, "openmini.db")) {
		t.Fatalf("OPENMINI_DATA: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, map[string]string{"OPENMINI_DATABASE_URL": "mysql://x/y"}, "admin", "reviews"); code != 1 || !strings.Contains(errOut, "--database-url: unsupported scheme") {
		t.Fatalf("bad OPENMINI_DATABASE_URL: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, nil, "admin"); code != 2 || !strings.Contains(errOut, "create-operator") {
		t.Errorf("admin: %d %q", code, errOut)
	}
	if code, _, _ := runCmd(t, nil, "admin", "--help"); code != 0 {
		t.Errorf("admin --help: %d", code)
	}
	if code, _, errOut := runCmd(t, nil, "admin", "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("admin frobnicate: %d %q", code, errOut)
	}
	for _, s := range adminCommands() {
		code, _, errOut := runCmd(t, nil, "admin", s.name, "--help")
		if code != 0 || !strings.Contains(errOut, "Usage: openmini admin "+s.name) || !strings.Contains(errOut, "OPENMINI_DATABASE_URL") {
			t.Errorf("admin %s --help: %d %s", s.name, code, errOut)
		}
	}
}
