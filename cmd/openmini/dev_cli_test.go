package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/platform"
	"github.com/openmini/openmini/web"
)

// runCmdIn is runCmd with text on stdin.
func runCmdIn(t *testing.T, stdin string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut syncBuffer
	c := &cli{stdout: &out, stderr: &errOut, stdin: strings.NewReader(stdin), getenv: func(k string) string { return env[k] }}
	code = run(context.Background(), c, args)
	return code, out.String(), errOut.String()
}

// cliWorld is a running platform with a developer organisation and one
// app, plus what the CLI needs to reach it: an environment with its own
// config file, and the database flags of the admin commands.
type cliWorld struct {
	p      *platformtest.Running
	dev    *platformtest.API // the developer's console session
	orgID  int64
	appID  string
	env    map[string]string
	dbArgs []string // --database-url ... --data ...
}

const (
	devEmail    = "dev@noodles.example"
	devPassword = "developer-password-1"
)

func newCLIWorld(t *testing.T) *cliWorld {
	t.Helper()
	dataDir := t.TempDir()
	dbURL := testenv.DatabaseURL(t)
	p := platformtest.Start(t, platform.Config{DatabaseURL: dbURL, DataDir: dataDir})
	w := &cliWorld{p: p, dev: p.API(p.Client()),
		env:    map[string]string{"OPENMINI_CONFIG": filepath.Join(t.TempDir(), "openmini", "config.json")},
		dbArgs: []string{"--database-url", dbURL, "--data", dataDir}}
	var su web.SignupResponse
	w.dev.Must(t, 201, "POST", "/api/v1/signup", web.SignupRequest{Email: devEmail, Name: "Dana Dev", Password: devPassword, OrgName: "Noodle Bar Ltd"}, &su)
	w.orgID = su.Org.ID
	var created web.AppCreated
	w.dev.Must(t, 201, "POST", "/api/v1/apps", map[string]any{"org_id": w.orgID, "name": "Noodle Bar", "category": "food"}, &created)
	w.appID = created.App.ID
	return w
}

// key creates an API key as the developer and returns its token.
func (w *cliWorld) key(t *testing.T, name string) string {
	t.Helper()
	var k web.APIKeyCreated
	w.dev.Must(t, 201, "POST", fmt.Sprintf("/api/v1/orgs/%d/api-keys", w.orgID), web.APIKeyRequest{Name: name}, &k)
	return k.Token
}

// keys lists the organisation's API keys.
func (w *cliWorld) keys(t *testing.T) []org.APIKey {
	t.Helper()
	var out struct{ Keys []org.APIKey }
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/api/v1/orgs/%d/api-keys", w.orgID), nil, &out)
	return out.Keys
}

// cli runs a command in the world's environment and fails the test unless
// it exits 0.
func (w *cliWorld) cli(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCmd(t, w.env, args...)
	if code != 0 {
		t.Fatalf("openmini %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// admin runs `openmini admin ARGS` against the platform's database.
func (w *cliWorld) admin(t *testing.T, args ...string) string {
	t.Helper()
	return w.cli(t, append(append([]string{"admin"}, args...), w.dbArgs...)...)
}

// staff is how the test reads the server's state.
var staff = openmini.Actor{Label: "test", StaffRole: "admin"}

func (w *cliWorld) version(t *testing.T, name string) app.Version {
	t.Helper()
	v, err := w.p.Apps.Version(context.Background(), staff, w.appID, name)
	if err != nil {
		t.Fatalf("version %s: %v", name, err)
	}
	return v
}

func (w *cliWorld) release(t *testing.T) app.Release {
	t.Helper()
	r, err := w.p.Apps.Release(context.Background(), staff, w.appID)
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	return r
}

// reviewID finds the version's ID in `admin reviews`.
func (w *cliWorld) reviewID(t *testing.T, version string) string {
	t.Helper()
	out := w.admin(t, "reviews")
	m := regexp.MustCompile(`(?m)^(\d+)\s+` + w.appID + `\s+Noodle Bar\s+Noodle Bar Ltd\s+` + regexp.QuoteMeta(version) + `\s`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("admin reviews does not list %s %s:\n%s", w.appID, version, out)
	}
	return m[1]
}

// TestCLIReleaseFlow is the CLI test: upload -> submit -> approve
// -> release 20% -> release 100% -> rollback against a running server,
// checking the output and the server's state after every step.
func TestCLIReleaseFlow(t *testing.T) {
	w := newCLIWorld(t)
	w.cli(t, "login", "--server", w.p.URL+"/", "--token", w.key(t, "CI deploy"))

	// Version 1.0.0 from a project directory.
	dir := filepath.Join(t.TempDir(), "noodles")
	w.cli(t, "init", dir, "--template", "shop", "--name", "Noodle Bar")
	code, out, errOut := runCmd(t, w.env, "upload", dir, "--app", w.appID, "--version", "1.0.0", "--note", "first cut")
	if code != 0 || !strings.Contains(out, "Uploaded 1.0.0 of "+w.appID+": development") || !strings.Contains(errOut, "100% sent") {
		t.Fatalf("upload: %d\n%s\n%s", code, out, errOut)
	}
	if v := w.version(t, "1.0.0"); v.State != app.StateDevelopment || v.Note != "first cut" || !strings.Contains(out, humanSize(v.Size)) {
		t.Fatalf("after upload the server has %+v", v)
	}
	if out := w.cli(t, "versions", "--app", w.appID); !regexp.MustCompile(`(?m)^1\.0\.0\s+development\s+-\s+[\d.]+ KB`).MatchString(out) {
		t.Fatalf("versions:\n%s", out)
	}

	// Submit, approve with the admin command, release to everyone (the
	// first release must go to everyone; --version defaults to the newest
	// approved).
	if out := w.cli(t, "submit", "--app", w.appID, "--version", "1.0.0"); !strings.Contains(out, "Submitted 1.0.0") {
		t.Fatalf("submit: %s", out)
	}
	if v := w.version(t, "1.0.0"); v.State != app.StateReview {
		t.Fatalf("after submit: %s", v.State)
	}
	if out := w.admin(t, "approve", w.reviewID(t, "1.0.0")); !strings.Contains(out, "Approved 1.0.0 of "+w.appID) {
		t.Fatalf("approve: %s", out)
	}
	if v := w.version(t, "1.0.0"); v.State != app.StateApproved || v.ReviewedBy != "admin CLI" {
		t.Fatalf("after approve: %+v", v)
	}
	if out := w.cli(t, "release", "--app", w.appID); !strings.Contains(out, "serves 1.0.0 to everyone") {
		t.Fatalf("first release: %s", out)
	}
	if r := w.release(t); r.Version != "1.0.0" || r.Percent != 100 {
		t.Fatalf("after the first release: %+v", r)
	}

	// Version 2.0.0 from a .ma file; rejected once with a reason the
	// developer reads in `versions`, then approved.
	ma := filepath.Join(t.TempDir(), "noodles-2.ma")
	writeFile(t, ma, platformtest.Package(t, "shop", "Noodle Bar", "2.0.0", nil))
	w.cli(t, "upload", ma, "--app", w.appID)
	w.cli(t, "submit", "--app", w.appID, "--version", "2.0.0")
	w.admin(t, "reject", w.reviewID(t, "2.0.0"), "--reason", "The cart page has no way back.")
	if out := w.cli(t, "versions", "--app", w.appID); !regexp.MustCompile(`(?m)^2\.0\.0\s+rejected\s.*The cart page has no way back\.$`).MatchString(out) {
		t.Fatalf("versions after reject:\n%s", out)
	}
	w.cli(t, "submit", "--app", w.appID, "--version", "2.0.0")
	w.admin(t, "approve", w.reviewID(t, "2.0.0"))

	// Release 20%.
	if out := w.cli(t, "release", "--app", w.appID, "--version", "2.0.0", "--percent", "20"); !strings.Contains(out, "serves 2.0.0 to 20% of users; the other 80% keep 1.0.0") {
		t.Fatalf("release 20%%: %s", out)
	}
	if r := w.release(t); r.Version != "2.0.0" || r.Percent != 20 || r.Previous != "1.0.0" {
		t.Fatalf("after release 20%%: %+v", r)
	}
	// status says what the server says about a user.
	for _, user := range []string{"user-1", "user-2", "user-3"} {
		want, err := w.p.Apps.VersionFor(context.Background(), w.appID, user)
		if err != nil {
			t.Fatal(err)
		}
		out := w.cli(t, "status", "--app", w.appID, "--user", user)
		if !strings.Contains(out, "2.0.0 to 20% of users") || !strings.Contains(out, "1.0.0 (the other 80%)") ||
			!strings.Contains(out, "user "+user+":  gets "+want.Version+" ") {
			t.Fatalf("status --user %s (server says %s):\n%s", user, want.Version, out)
		}
	}
	// Paused, the share cannot grow.
	w.cli(t, "release", "--app", w.appID, "--pause")
	if r := w.release(t); !r.Paused {
		t.Fatal("not paused")
	}
	code, _, errOut = runCmd(t, w.env, "release", "--app", w.appID, "--percent", "50")
	if code != 1 || !strings.Contains(errOut, "paused") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("raise while paused: %d %q", code, errOut)
	}
	w.cli(t, "release", "--app", w.appID, "--resume")

	// Release 100%: --version defaults to the one rolling out.
	if out := w.cli(t, "release", "--app", w.appID, "--percent", "100"); !strings.Contains(out, "serves 2.0.0 to everyone") {
		t.Fatalf("release 100%%: %s", out)
	}
	if r := w.release(t); r.Version != "2.0.0" || r.Percent != 100 || r.Paused {
		t.Fatalf("after release 100%%: %+v", r)
	}

	// Rollback to the version before, then forward with --to.
	if out := w.cli(t, "rollback", "--app", w.appID); !strings.Contains(out, "Rolled back from 2.0.0 to 1.0.0") {
		t.Fatalf("rollback: %s", out)
	}
	if r := w.release(t); r.Version != "1.0.0" || r.Percent != 100 {
		t.Fatalf("after rollback: %+v", r)
	}
	w.cli(t, "rollback", "--app", w.appID, "--to", "2.0.0")
	var st statusReport
	if err := json.Unmarshal([]byte(w.cli(t, "status", "--app", w.appID, "--json")), &st); err != nil || st.Release == nil || st.Release.Version != "2.0.0" {
		t.Fatalf("status --json: %v %+v", err, st)
	}
	code, _, errOut = runCmd(t, w.env, "rollback", "--app", w.appID, "--to", "9.9.9")
	if code != 1 || errOut != "openmini rollback: "+w.appID+" has no version \"9.9.9\"\n" {
		t.Fatalf("rollback to an unknown version: %d %q", code, errOut)
	}

	// The trial version, set and cleared.
	w.cli(t, "upload", dir, "--app", w.appID, "--version", "3.0.0-beta")
	w.cli(t, "trial", "--app", w.appID, "--version", "3.0.0-beta")
	if !w.version(t, "3.0.0-beta").Trial || !regexp.MustCompile(`(?m)^trial:\s+3\.0\.0-beta$`).MatchString(w.cli(t, "status", "--app", w.appID)) {
		t.Fatal("trial not set")
	}
	w.cli(t, "trial", "--app", w.appID, "--clear")
	if w.version(t, "3.0.0-beta").Trial {
		t.Fatal("trial not cleared")
	}

	var apps []app.App
	if err := json.Unmarshal([]byte(w.cli(t, "apps", "--json")), &apps); err != nil || len(apps) != 1 || apps[0].ID != w.appID {
		t.Fatalf("apps --json: %v %+v", err, apps)
	}
	if out := w.cli(t, "apps"); !strings.Contains(out, w.appID) || !strings.Contains(out, "Noodle Bar Ltd") {
		t.Fatalf("apps: %s", out)
	}
}

func TestCLILoginWithPassword(t *testing.T) {
	w := newCLIWorld(t)
	path := w.env["OPENMINI_CONFIG"]

	code, out, errOut := runCmdIn(t, devEmail+"\n"+devPassword+"\n", w.env, "login", "--server", w.p.URL)
	if code != 0 || !strings.Contains(out, "Logged in to "+w.p.URL+" as "+devEmail+" (organisation Noodle Bar Ltd)") {
		t.Fatalf("login: %d\n%s\n%s", code, out, errOut)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v %v", err, st)
	}
	l, _, _ := loadLogin(&cli{getenv: func(k string) string { return w.env[k] }})
	if !strings.HasPrefix(l.Token, org.KeyPrefix) || l.OrgID != w.orgID || l.KeyID == 0 {
		t.Fatalf("stored login: %+v", l)
	}
	keys := w.keys(t)
	if len(keys) != 1 || !strings.HasPrefix(keys[0].Name, "openmini CLI on ") {
		t.Fatalf("keys after login: %+v", keys)
	}
	// The stored key works without any environment.
	if out := w.cli(t, "apps"); !strings.Contains(out, w.appID) {
		t.Fatalf("apps after login: %s", out)
	}

	// A wrong password: the server's one message, nothing stored changes.
	code, _, errOut = runCmdIn(t, devEmail+"\nnot-the-password\n", w.env, "login", "--server", w.p.URL)
	if code != 1 || errOut != "openmini login: wrong e-mail or password\n" {
		t.Fatalf("wrong password: %d %q", code, errOut)
	}
	if l2, _, _ := loadLogin(&cli{getenv: func(k string) string { return w.env[k] }}); l2 != l {
		t.Fatal("a failed login changed the stored one")
	}

	// Two organisations: the CLI asks which one, or takes --org.
	var second org.Org
	w.dev.Must(t, 201, "POST", "/api/v1/orgs", web.NameRequest{Name: "Second Kitchen"}, &second)
	var me web.Me
	w.dev.Must(t, 200, "GET", "/api/v1/me", nil, &me)
	pick := 0
	for i, o := range me.Orgs {
		if o.ID == second.ID {
			pick = i + 1
		}
	}
	code, out, errOut = runCmdIn(t, devEmail+"\n"+devPassword+"\n"+fmt.Sprint(pick)+"\n", w.env, "login", "--server", w.p.URL)
	if code != 0 || !strings.Contains(out, "(organisation Second Kitchen)") || !strings.Contains(errOut, "Second Kitchen") {
		t.Fatalf("login choosing an organisation: %d\n%s\n%s", code, out, errOut)
	}
	l3, _, _ := loadLogin(&cli{getenv: func(k string) string { return w.env[k] }})
	if l3.OrgID != second.ID {
		t.Fatalf("stored org %d, want %d", l3.OrgID, second.ID)
	}
	// The key the first login made was revoked by the second.
	if keys := w.keys(t); len(keys) != 1 || !keys[0].Revoked {
		t.Fatalf("the first login's key: %+v", keys)
	}
	code, _, errOut = runCmdIn(t, devEmail+"\n"+devPassword+"\n", w.env, "login", "--server", w.p.URL)
	if code != 1 || !strings.Contains(errOut, "choose one with --org") {
		t.Fatalf("several organisations and no answer: %d %q", code, errOut)
	}
	code, out, _ = runCmdIn(t, devPassword+"\n", w.env, "login", "--server", w.p.URL, "--email", devEmail, "--org", second.Slug)
	if code != 0 || !strings.Contains(out, "Second Kitchen") {
		t.Fatalf("login --org slug: %d %s", code, out)
	}

	// logout revokes the key it made and forgets it.
	lastKey := func() string {
		l, _, _ := loadLogin(&cli{getenv: func(k string) string { return w.env[k] }})
		return l.Token
	}()
	if out := w.cli(t, "logout"); !strings.Contains(out, "its API key is revoked") {
		t.Fatalf("logout: %s", out)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("config file after logout: %v", err)
	}
	var eb platformtest.ErrorBody
	if code := w.p.KeyAPI(lastKey).Do(t, "GET", "/api/v1/me", nil, &eb); code != 401 {
		t.Fatalf("the logged-out key still works: %d", code)
	}
	code, _, errOut = runCmd(t, w.env, "apps")
	if code != 1 || !strings.Contains(errOut, "not logged in: run `openmini login --server") {
		t.Fatalf("apps after logout: %d %q", code, errOut)
	}
	if out := w.cli(t, "logout"); out != "Not logged in.\n" {
		t.Fatalf("second logout: %q", out)
	}
}

func TestCLILoginWithTokenAndEnvironment(t *testing.T) {
	w := newCLIWorld(t)
	token := w.key(t, "CI deploy")

	code, _, errOut := runCmd(t, w.env, "login", "--server", w.p.URL, "--token", "omk_not-a-real-key")
	if code != 1 || !strings.Contains(errOut, "the API key is not valid") {
		t.Fatalf("login with a bad token: %d %q", code, errOut)
	}
	if _, err := os.Stat(w.env["OPENMINI_CONFIG"]); !os.IsNotExist(err) {
		t.Fatal("a refused token was stored")
	}
	if code, _, errOut := runCmd(t, w.env, "login", "--server", "mini.example.com", "--token", token); code != 2 || !strings.Contains(errOut, "--server:") {
		t.Fatalf("server without a scheme: %d %q", code, errOut)
	}
	if out := w.cli(t, "login", "--server", w.p.URL, "--token", token); !strings.Contains(out, "organisation Noodle Bar Ltd") {
		t.Fatalf("login --token: %s", out)
	}
	w.cli(t, "versions", "--app", w.appID)

	// OPENMINI_SERVER and OPENMINI_TOKEN, with no config file at all.
	ci := map[string]string{"OPENMINI_CONFIG": filepath.Join(t.TempDir(), "none.json"), "OPENMINI_SERVER": w.p.URL, "OPENMINI_TOKEN": token, "OPENMINI_APP": w.appID}
	if code, out, errOut := runCmd(t, ci, "versions"); code != 0 || !strings.Contains(out, "has no versions yet") {
		t.Fatalf("versions from the environment: %d %s %s", code, out, errOut)
	}
	// OPENMINI_TOKEN wins over the stored key.
	env := map[string]string{"OPENMINI_CONFIG": w.env["OPENMINI_CONFIG"], "OPENMINI_TOKEN": "omk_revoked-or-wrong"}
	if code, _, errOut := runCmd(t, env, "apps"); code != 1 || !strings.Contains(errOut, "the API key is not valid") {
		t.Fatalf("OPENMINI_TOKEN over the stored key: %d %q", code, errOut)
	}
	// The stored key is never sent to another server.
	env = map[string]string{"OPENMINI_CONFIG": w.env["OPENMINI_CONFIG"], "OPENMINI_SERVER": "http://127.0.0.1:1"}
	if code, _, errOut := runCmd(t, env, "apps"); code != 1 || !strings.Contains(errOut, "no API key for http://127.0.0.1:1: set OPENMINI_TOKEN") {
		t.Fatalf("another server: %d %q", code, errOut)
	}
	env["OPENMINI_TOKEN"] = token
	if code, _, errOut := runCmd(t, env, "apps"); code != 1 || !strings.Contains(errOut, "cannot reach http://127.0.0.1:1") {
		t.Fatalf("server down: %d %q", code, errOut)
	}
	for _, cmd := range [][]string{{"apps"}, {"versions", "--app", "x"}, {"upload", ".", "--app", "x"}, {"status", "--app", "x"}, {"release", "--app", "x"}} {
		code, _, errOut := runCmd(t, map[string]string{"OPENMINI_CONFIG": ci["OPENMINI_CONFIG"]}, cmd...)
		if code != 1 || !strings.Contains(errOut, "not logged in") {
			t.Errorf("%v without a login: %d %q", cmd, code, errOut)
		}
	}
	// Logging out of a --token login forgets the key but leaves it valid.
	if out := w.cli(t, "logout"); !strings.Contains(out, "stays valid") {
		t.Fatalf("logout: %s", out)
	}
	w.p.KeyAPI(token).Must(t, 200, "GET", "/api/v1/me", nil, nil)
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// zipDir writes the files under dir into a ZIP without any checks, as a
// careless packer would.
func zipDir(t *testing.T, dir, out string) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, _ := os.ReadFile(p)
		fw, _ := zw.Create(filepath.ToSlash(rel))
		fw.Write(b)
		return nil
	})
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestCLIUploadRejectedPackage(t *testing.T) {
	w := newCLIWorld(t)
	env := map[string]string{"OPENMINI_SERVER": w.p.URL, "OPENMINI_TOKEN": w.key(t, "CI"), "OPENMINI_CONFIG": w.env["OPENMINI_CONFIG"]}
	// A project whose manifest lists three pages that do not exist.
	dir := filepath.Join(t.TempDir(), "broken")
	runCmd(t, nil, "init", dir)
	m, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	writeFile(t, filepath.Join(dir, "manifest.json"), bytes.Replace(m, []byte(`["pages/index"]`), []byte(`["pages/index", "pages/gone", "pages/lost", "pages/away"]`), 1))
	ma := filepath.Join(t.TempDir(), "broken.ma")
	zipDir(t, dir, ma)

	// The server refuses the package: one line per problem.
	code, out, errOut := runCmd(t, env, "upload", ma, "--app", w.appID)
	want := []string{
		"pages/gone.html: listed in manifest.json pages",
		"pages/lost.html: listed in manifest.json pages",
		"pages/away.html: listed in manifest.json pages",
	}
	for _, line := range want {
		if n := len(regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(line)).FindAllString(errOut, -1)); n != 1 {
			t.Errorf("stderr has %d lines %q:\n%s", n, line, errOut)
		}
	}
	if code != 1 || out != "" || !strings.HasSuffix(errOut, "openmini upload: the server refused the package (3 problems); nothing was stored\n") {
		t.Fatalf("upload of a broken package: %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// The project directory is checked before anything is sent.
	code, _, errOut = runCmd(t, env, "upload", dir, "--app", w.appID)
	if code != 1 || !strings.Contains(errOut, want[0]) || !strings.Contains(errOut, "nothing was uploaded") {
		t.Fatalf("upload of a broken project: %d\n%s", code, errOut)
	}
	// Not a ZIP at all.
	junk := filepath.Join(t.TempDir(), "junk.ma")
	os.WriteFile(junk, []byte("this is not a zip file"), 0o644)
	code, _, errOut = runCmd(t, env, "upload", junk, "--app", w.appID)
	if code != 1 || !strings.Contains(errOut, "junk.ma: not a ZIP archive") {
		t.Fatalf("upload of junk: %d\n%s", code, errOut)
	}
	vs, err := w.p.Apps.Versions(context.Background(), staff, w.appID)
	if err != nil || len(vs) != 0 {
		t.Fatalf("refused uploads left versions: %v %+v", err, vs)
	}
	// Flags: --app is required, the path must exist, the version is
	// checked by the server.
	if code, _, errOut := runCmd(t, env, "upload", ma); code != 2 || !strings.Contains(errOut, "--app is required") {
		t.Errorf("no --app: %d %q", code, errOut)
	}
	good := filepath.Join(t.TempDir(), "good")
	runCmd(t, nil, "init", good)
	if code, _, errOut := runCmd(t, env, "upload", good, "--app", w.appID, "--version", "1 0"); code != 1 || !strings.Contains(errOut, `version: "1 0" must be`) {
		t.Errorf("bad version name: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, env, "upload", good, "--app", "nosuchapp"); code != 1 || !strings.HasSuffix(errOut, "\nopenmini upload: no mini program \"nosuchapp\"\n") {
		t.Errorf("unknown app: %d %q", code, errOut)
	}
}

func TestProgressBar(t *testing.T) {
	var tty syncBuffer
	p := newProgress(&tty, true, "uploading x.ma", 4000)
	p.start()
	for i := 0; i < 4; i++ {
		p.add(1000)
	}
	p.finish()
	s := tty.String()
	if strings.Count(s, "\r") != 5 || !strings.Contains(s, "[==============================] 100%") || !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 {
		t.Errorf("terminal bar: %q", s)
	}
	var plain syncBuffer
	p = newProgress(&plain, false, "uploading x.ma", 4000)
	p.start()
	for i := 0; i < 40; i++ {
		p.add(100)
	}
	p.finish()
	if got := plain.String(); strings.Contains(got, "\r") || strings.Count(got, "\n") != 5 || !strings.Contains(got, " 50% sent (2.0 KB)") {
		t.Errorf("plain progress: %q", got)
	}
}

func TestDevHelpListsFlags(t *testing.T) {
	for cmd, flagName := range map[string]string{
		"login": "-token", "logout": "Usage: openmini logout", "upload": "OPENMINI_APP", "apps": "-json", "versions": "-json",
		"submit": "-version", "trial": "-clear", "release": "-percent", "rollback": "-to", "status": "-user",
	} {
		code, _, errOut := runCmd(t, nil, cmd, "--help")
		if code != 0 || !strings.Contains(errOut, flagName) || !strings.Contains(errOut, "Usage: openmini "+cmd) {
			t.Errorf("%s --help: %d %s", cmd, code, errOut)
		}
	}
	if code, _, errOut := runCmd(t, nil, "release", "--app", "x", "--percent", "0"); code != 2 || !strings.Contains(errOut, "--percent: 0 is not between 1 and 100") {
		t.Errorf("release --percent 0: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, nil, "versions"); code != 2 || !strings.Contains(errOut, "--app is required") {
		t.Errorf("versions without --app: %d %q", code, errOut)
	}
}
