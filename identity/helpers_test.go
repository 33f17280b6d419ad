package identity_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/identity"
	"github.com/openmini/openmini/password"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

// clock is a settable time source shared by the service and its limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// secretClients authenticates apps against a real table of secret hashes
// that the test creates (the app service owns the real one).
type secretClients struct{ db *sqldb.DB }

func (c secretClients) AuthenticateClient(ctx context.Context, appID, secret string) (int64, error) {
	var hash string
	var org int64
	err := c.db.QueryRow(ctx, `SELECT s.secret_hash, a.org_id FROM test_app_secrets s JOIN apps a ON a.id = s.app_id WHERE s.app_id = ?`, appID).Scan(&hash, &org)
	if errors.Is(err, sqldb.ErrNotFound) {
		return 0, openmini.Errorf(openmini.EUNAUTHORIZED, "unknown app")
	}
	if err != nil {
		return 0, err
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(hash)) != 1 {
		return 0, openmini.Errorf(openmini.EUNAUTHORIZED, "wrong secret")
	}
	return org, nil
}

// env is a service on a fresh database with two orgs and three apps:
// org 1 has "shop" and "menu", org 2 has "other".
type env struct {
	t     *testing.T
	db    *sqldb.DB
	clock *clock
	svc   *identity.Service
	srv   *httptest.Server
	orgs  [2]int64
}

const (
	shopSecret  = "shop-secret-0123456789"
	menuSecret  = "menu-secret-0123456789"
	otherSecret = "other-secret-0123456789"
)

func newEnv(t *testing.T, db *sqldb.DB) *env {
	t.Helper()
	return newEnvConfig(t, db, identity.Config{})
}

func newEnvConfig(t *testing.T, db *sqldb.DB, cfg identity.Config) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, db: db, clock: newClock()}
	now := e.clock.now().UnixMilli()
	for i, slug := range []string{"acme", "globex"} {
		if err := db.QueryRow(ctx, `INSERT INTO orgs (slug, name, created_at) VALUES (?, ?, ?) RETURNING id`, slug, slug, now).Scan(&e.orgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, db, `CREATE TABLE test_app_secrets (app_id TEXT PRIMARY KEY REFERENCES apps (id), secret_hash TEXT NOT NULL)`)
	for _, a := range []struct {
		id, name, secret string
		org              int64
	}{{"shop", "Corner Shop", shopSecret, e.orgs[0]}, {"menu", "Menu", menuSecret, e.orgs[0]}, {"other", "Other Co", otherSecret, e.orgs[1]}} {
		mustExec(t, db, `INSERT INTO apps (id, org_id, name, created_at) VALUES (?, ?, ?, ?)`, a.id, a.org, a.name, now)
		sum := sha256.Sum256([]byte(a.secret))
		mustExec(t, db, `INSERT INTO test_app_secrets (app_id, secret_hash) VALUES (?, ?)`, a.id, hex.EncodeToString(sum[:]))
	}
	// The issuer must be the server's URL, so start it first and route
	// requests to the service once it exists.
	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	cfg.Issuer = e.srv.URL
	cfg.Clients = secretClients{db}
	cfg.Now = e.clock.now
	cfg.HashParams = password.Params{Memory: 64, Time: 1, Threads: 1}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := identity.New(db, ratelimit.New(db, e.clock.now), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	h = svc.Handler()
	return e
}

func mustExec(t *testing.T, db *sqldb.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// lastCode returns the 6-digit code in the newest mailbox message to `to`.
func (e *env) lastCode(to string) string {
	e.t.Helper()
	msgs, err := e.svc.Mailbox(context.Background(), 50)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.To == to {
			i := strings.Index(m.Body, " is ")
			return m.Body[i+4 : i+10]
		}
	}
	e.t.Fatalf("no message to %s in the mailbox", to)
	return ""
}

// user signs a user up through the real flow and returns the account id.
func (e *env) user(login, name string) int64 {
	e.t.Helper()
	ctx := context.Background()
	ch, err := e.svc.StartSignUp(ctx, identity.SignUp{Login: login, Password: "correct horse battery", Name: name})
	if err != nil {
		e.t.Fatalf("sign up %s: %v", login, err)
	}
	l, _ := e.svc.ParseLogin(login)
	id, err := e.svc.ConfirmSignUp(ctx, ch.ID, e.lastCode(l.Value))
	if err != nil {
		e.t.Fatalf("confirm sign up %s: %v", login, err)
	}
	return id
}

// code issues an auth code, granting the scopes first.
func (e *env) code(account int64, app string, scopes ...string) string {
	e.t.Helper()
	ctx := context.Background()
	var g []identity.ScopeGrant
	for _, sc := range scopes {
		g = append(g, identity.ScopeGrant{Scope: sc, Reason: "to test " + sc})
	}
	if err := e.svc.Grant(ctx, account, app, g); err != nil {
		e.t.Fatal(err)
	}
	ac, err := e.svc.GetAuthCode(ctx, account, app, scopes)
	if err != nil {
		e.t.Fatal(err)
	}
	return ac.Code
}

// exchange posts to the token endpoint over HTTP, with Basic or form
// client authentication.
func (e *env) exchange(app, secret, code string, basic bool) (int, map[string]any, http.Header) {
	e.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	if !basic {
		form.Set("client_id", app)
		form.Set("client_secret", secret)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(app), url.QueryEscape(secret))
	}
	return doJSON(e.t, req)
}

// userinfo calls the userinfo endpoint with a bearer token.
func (e *env) userinfo(token string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+"/oauth/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return doJSON(e.t, req)
}

func doJSON(t *testing.T, req *http.Request) (int, map[string]any, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: decode: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, body, resp.Header
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := openmini.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func (e *env) log() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
