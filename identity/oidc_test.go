package identity_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/identity"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

// verifier is coreos/go-oidc's ID token verifier for app, configured only
// from the discovery document and JWKS over HTTP.
func (e *env) verifier(app string) *oidc.IDTokenVerifier {
	e.t.Helper()
	ctx := oidc.ClientContext(context.Background(), e.srv.Client())
	p, err := oidc.NewProvider(ctx, e.srv.URL)
	if err != nil {
		e.t.Fatalf("discovery: %v", err)
	}
	return p.VerifierContext(ctx, &oidc.Config{ClientID: app, Now: e.clock.now})
}

func TestCodeExchangeWithGoOIDC(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		alice := e.user("alice@example.com", "Alice")

		// Consent is needed for profile and email, not for the base scope.
		_, err := e.svc.GetAuthCode(ctx, alice, "shop", []string{"profile", "email"})
		wantCode(t, err, openmini.EFORBIDDEN)
		miss, err := e.svc.MissingConsent(ctx, alice, "shop", []string{"profile", "email"})
		if err != nil || strings.Join(miss, ",") != "email,profile" {
			t.Fatalf("MissingConsent = %v, %v", miss, err)
		}
		code := e.code(alice, "shop", "profile", "email")

		status, body, hdr := e.exchange("shop", shopSecret, code, true)
		if status != 200 {
			t.Fatalf("token: %d %v", status, body)
		}
		if hdr.Get("Cache-Control") != "no-store" || body["token_type"] != "Bearer" || body["scope"] != "email openid profile" {
			t.Fatalf("token response: %v %v", hdr, body)
		}
		idTok, err := e.verifier("shop").Verify(ctx, body["id_token"].(string))
		if err != nil {
			t.Fatalf("go-oidc verify: %v", err)
		}
		wantSub, _ := e.svc.AppUserID(ctx, alice, "shop")
		var claims struct {
			Name          string `json:"name"`
			Email         string `json:"email"`
			EmailVerified bool   `json:"email_verified"`
			Phone         string `json:"phone_number"`
			OrgUserID     string `json:"org_user_id"`
		}
		if err := idTok.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		wantOrg, _ := e.svc.OrgUserID(ctx, alice, e.orgs[0])
		if idTok.Subject != wantSub || idTok.Issuer != e.srv.URL || claims.Name != "Alice" || claims.Email != "alice@example.com" ||
			!claims.EmailVerified || claims.Phone != "" || claims.OrgUserID != wantOrg {
			t.Fatalf("ID token: sub %s claims %+v", idTok.Subject, claims)
		}
		// The ID token is for shop only.
		if _, err := e.verifier("menu").Verify(ctx, body["id_token"].(string)); err == nil {
			t.Fatal("the ID token verified for another app")
		}

		status, info, _ := e.userinfo(body["access_token"].(string))
		if status != 200 || info["sub"] != wantSub || info["email"] != "alice@example.com" || info["name"] != "Alice" {
			t.Fatalf("userinfo: %d %v", status, info)
		}
		if _, ok := info["phone_number"]; ok {
			t.Fatal("userinfo shows a phone number without the phone scope")
		}

		// client_secret_post works too, with the base scope only: no
		// profile claims, and a nonce carried into the ID token.
		ac, err := e.svc.GetAuthCodeWithNonce(ctx, alice, "menu", nil, "n-0S6_WzA2Mj")
		if err != nil {
			t.Fatal(err)
		}
		status, body, _ = e.exchange("menu", menuSecret, ac.Code, false)
		if status != 200 {
			t.Fatalf("token (post): %d %v", status, body)
		}
		menuTok, err := e.verifier("menu").Verify(ctx, body["id_token"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var menuClaims map[string]any
		_ = menuTok.Claims(&menuClaims)
		if menuTok.Subject == wantSub || menuTok.Subject != ac.AppUserID || menuTok.Nonce != "n-0S6_WzA2Mj" || menuClaims["name"] != nil || menuClaims["org_user_id"] != wantOrg {
			t.Fatalf("menu ID token: sub %s (shop %s), claims %v", menuTok.Subject, wantSub, menuClaims)
		}
	})
}

func TestDiscoveryAndJWKS(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		req, _ := http.NewRequest("GET", e.srv.URL+"/.well-known/openid-configuration", nil)
		status, doc, _ := doJSON(t, req)
		if status != 200 || doc["issuer"] != e.srv.URL || doc["jwks_uri"] != e.srv.URL+"/oauth/jwks" || doc["token_endpoint"] != e.srv.URL+"/oauth/token" {
			t.Fatalf("discovery: %d %v", status, doc)
		}
		req, _ = http.NewRequest("GET", e.srv.URL+"/oauth/jwks", nil)
		status, set, hdr := doJSON(t, req)
		keys, _ := set["keys"].([]any)
		if status != 200 || len(keys) != 1 || !strings.HasPrefix(hdr.Get("Cache-Control"), "public, max-age=") {
			t.Fatalf("jwks: %d %v %v", status, set, hdr)
		}
		k := keys[0].(map[string]any)
		if k["kty"] != "EC" || k["alg"] != "ES256" || k["d"] != nil {
			t.Fatalf("jwks key %v (must be public EC)", k)
		}
	})
}

func TestTokenEndpointRefusals(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		bob := e.user("+4915112345678", "Bob")

		t.Run("reused code revokes its tokens", func(t *testing.T) {
			code := e.code(bob, "shop")
			status, first, _ := e.exchange("shop", shopSecret, code, true)
			if status != 200 {
				t.Fatalf("first use: %d %v", status, first)
			}
			access := first["access_token"].(string)
			if s, _, _ := e.userinfo(access); s != 200 {
				t.Fatalf("userinfo before replay: %d", s)
			}
			status, body, _ := e.exchange("shop", shopSecret, code, true)
			if status != 400 || body["error"] != "invalid_grant" {
				t.Fatalf("second use: %d %v", status, body)
			}
			status, body, hdr := e.userinfo(access)
			if status != 401 || body["error"] != "invalid_token" || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("userinfo after replay: %d %v %v", status, body, hdr)
			}
		})

		t.Run("expired code", func(t *testing.T) {
			code := e.code(bob, "shop")
			e.clock.add(5*time.Minute + time.Second)
			status, body, _ := e.exchange("shop", shopSecret, code, true)
			if status != 400 || body["error"] != "invalid_grant" {
				t.Fatalf("expired code: %d %v", status, body)
			}
		})

		t.Run("wrong secret", func(t *testing.T) {
			code := e.code(bob, "shop")
			status, body, hdr := e.exchange("shop", "not-the-secret", code, true)
			if status != 401 || body["error"] != "invalid_client" || hdr.Get("WWW-Authenticate") == "" {
				t.Fatalf("wrong secret: %d %v", status, body)
			}
			status, body, _ = e.exchange("shop", otherSecret, code, false)
			if status != 401 || body["error"] != "invalid_client" {
				t.Fatalf("another app's secret: %d %v", status, body)
			}
			// The code was not spent by the failed attempts.
			if status, body, _ := e.exchange("shop", shopSecret, code, true); status != 200 {
				t.Fatalf("right secret after wrong ones: %d %v", status, body)
			}
		})

		t.Run("code for another app", func(t *testing.T) {
			code := e.code(bob, "shop")
			status, body, _ := e.exchange("other", otherSecret, code, true)
			if status != 400 || body["error"] != "invalid_grant" || !strings.Contains(body["error_description"].(string), "another app") {
				t.Fatalf("code for another app: %d %v", status, body)
			}
			status, body, _ = e.exchange("menu", menuSecret, code, true)
			if status != 400 || body["error"] != "invalid_grant" {
				t.Fatalf("code for a sibling app: %d %v", status, body)
			}
		})

		t.Run("revoked consent", func(t *testing.T) {
			// Revoked between code and token request: the exchange fails.
			code := e.code(bob, "shop", "phone")
			if err := e.svc.Revoke(ctx, bob, "shop", "phone"); err != nil {
				t.Fatal(err)
			}
			status, body, _ := e.exchange("shop", shopSecret, code, true)
			if status != 400 || body["error"] != "invalid_grant" || !strings.Contains(body["error_description"].(string), "revoked") {
				t.Fatalf("token after revoke: %d %v", status, body)
			}
			// Revoked after the token: userinfo refuses it.
			code = e.code(bob, "shop", "phone")
			status, body, _ = e.exchange("shop", shopSecret, code, true)
			if status != 200 {
				t.Fatalf("token: %d %v", status, body)
			}
			access := body["access_token"].(string)
			if s, info, _ := e.userinfo(access); s != 200 || info["phone_number"] != "+4915112345678" {
				t.Fatalf("userinfo: %d %v", s, info)
			}
			if err := e.svc.Revoke(ctx, bob, "shop", "phone"); err != nil {
				t.Fatal(err)
			}
			if s, body, _ := e.userinfo(access); s != 401 || body["error"] != "invalid_token" {
				t.Fatalf("userinfo after revoking phone: %d %v", s, body)
			}
			// Revoking the whole app also refuses base-scope tokens.
			code = e.code(bob, "shop")
			_, body, _ = e.exchange("shop", shopSecret, code, true)
			access = body["access_token"].(string)
			if err := e.svc.Revoke(ctx, bob, "shop"); err != nil {
				t.Fatal(err)
			}
			if s, _, _ := e.userinfo(access); s != 401 {
				t.Fatalf("userinfo after revoking the app: %d", s)
			}
			grants, err := e.svc.ListGrants(ctx, bob)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range grants {
				if g.AppID == "shop" {
					t.Fatalf("shop still listed after revoking it: %+v", g)
				}
			}
		})

		t.Run("malformed requests", func(t *testing.T) {
			post := func(form url.Values) (int, map[string]any) {
				req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				s, b, _ := doJSON(t, req)
				return s, b
			}
			for _, c := range []struct {
				form   url.Values
				status int
				err    string
			}{
				{url.Values{"code": {"x"}, "client_id": {"shop"}, "client_secret": {shopSecret}}, 400, "invalid_request"},
				{url.Values{"grant_type": {"refresh_token"}, "client_id": {"shop"}, "client_secret": {shopSecret}}, 400, "unsupported_grant_type"},
				{url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, 401, "invalid_client"},
				{url.Values{"grant_type": {"authorization_code"}, "client_id": {"shop"}, "client_secret": {shopSecret}}, 400, "invalid_request"},
				{url.Values{"grant_type": {"authorization_code"}, "code": {"oc_nonsense"}, "client_id": {"shop"}, "client_secret": {shopSecret}}, 400, "invalid_grant"},
			} {
				if s, b := post(c.form); s != c.status || b["error"] != c.err {
					t.Errorf("%v: %d %v, want %d %s", c.form, s, b, c.status, c.err)
				}
			}
		})
	})
}

func TestTokenEndpointLockout(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		carol := e.user("carol@example.com", "Carol")
		code := e.code(carol, "shop")
		for i := 0; i < 5; i++ {
			if s, b, _ := e.exchange("shop", "guess", code, true); s != 401 {
				t.Fatalf("guess %d: %d %v", i+1, s, b)
			}
		}
		s, b, hdr := e.exchange("shop", "guess", code, true)
		if s != 429 || hdr.Get("Retry-After") == "" {
			t.Fatalf("sixth guess: %d %v %v", s, b, hdr)
		}
		// Locked: even the right secret waits.
		if s, b, _ := e.exchange("shop", shopSecret, code, true); s != 429 {
			t.Fatalf("right secret while locked: %d %v", s, b)
		}
		e.clock.add(31 * time.Second)
		if s, b, _ := e.exchange("shop", shopSecret, code, true); s != 200 {
			t.Fatalf("right secret after the lock: %d %v", s, b)
		}
	})
}

func TestAuthCodeRules(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		dave := e.user("dave@example.com", "Dave")
		_, err := e.svc.GetAuthCode(ctx, dave, "shop", []string{"wallet"})
		wantCode(t, err, openmini.EINVALID)
		_, err = e.svc.GetAuthCode(ctx, dave, "nope", nil)
		wantCode(t, err, openmini.ENOTFOUND)
		_, err = e.svc.GetAuthCode(ctx, 999999, "shop", nil)
		wantCode(t, err, openmini.ENOTFOUND)
		ac, err := e.svc.GetAuthCode(ctx, dave, "shop", nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := ac.ExpiresAt.Sub(e.clock.now()); d <= 0 || d > 5*time.Minute {
			t.Fatalf("code lives %v", d)
		}
		// The silent base grant is recorded and listed.
		grants, err := e.svc.ListGrants(ctx, dave)
		if err != nil || len(grants) != 1 || grants[0].AppName != "Corner Shop" || grants[0].Scopes[0].Scope != identity.ScopeOpenID {
			t.Fatalf("grants %+v %v", grants, err)
		}
		id, err := e.svc.AccountForAppUser(ctx, "shop", ac.AppUserID)
		if err != nil || id != dave {
			t.Fatalf("AccountForAppUser = %d, %v", id, err)
		}
		_, err = e.svc.AccountForAppUser(ctx, "menu", ac.AppUserID)
		wantCode(t, err, openmini.ENOTFOUND)
	})
}

// TestConcurrentCodeExchange: racing exchanges of one code issue at most
// one token set, and the race itself counts as a replay that revokes it.
func TestConcurrentCodeExchange(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		nina := e.user("nina@example.com", "Nina")
		code := e.code(nina, "shop")
		const n = 8
		type result struct {
			status int
			body   map[string]any
		}
		results := make(chan result, n)
		for i := 0; i < n; i++ {
			go func() {
				s, b, _ := e.exchange("shop", shopSecret, code, i%2 == 0)
				results <- result{s, b}
			}()
		}
		var access []string
		for i := 0; i < n; i++ {
			r := <-results
			switch {
			case r.status == 200:
				access = append(access, r.body["access_token"].(string))
			case r.status != 400 || r.body["error"] != "invalid_grant":
				t.Errorf("racing exchange: %d %v", r.status, r.body)
			}
		}
		if len(access) != 1 {
			t.Fatalf("%d racing exchanges succeeded, want exactly 1", len(access))
		}
		if s, _, _ := e.userinfo(access[0]); s != 401 {
			t.Fatalf("the winner's token survived the replays: userinfo %d", s)
		}
	})
}

// TestTokenRequestCeiling: with a per-app ceiling configured, requests past
// it in one minute are refused with 429, and the next minute is fresh.
func TestTokenRequestCeiling(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnvConfig(t, db, identity.Config{TokenRequestsPerMinute: 2})
		olga := e.user("olga@example.com", "Olga")
		e.clock.add(time.Minute - time.Duration(e.clock.now().UnixMilli()%60000)*time.Millisecond) // start of a window
		for i := 0; i < 2; i++ {
			if s, b, _ := e.exchange("shop", shopSecret, e.code(olga, "shop"), true); s != 200 {
				t.Fatalf("request %d: %d %v", i+1, s, b)
			}
		}
		code := e.code(olga, "shop")
		if s, b, hdr := e.exchange("shop", shopSecret, code, true); s != 429 || hdr.Get("Retry-After") == "" {
			t.Fatalf("third request: %d %v", s, b)
		}
		// Another app has its own ceiling.
		if s, b, _ := e.exchange("menu", menuSecret, e.code(olga, "menu"), true); s != 200 {
			t.Fatalf("other app: %d %v", s, b)
		}
		e.clock.add(time.Minute)
		if s, b, _ := e.exchange("shop", shopSecret, code, true); s != 200 {
			t.Fatalf("next minute: %d %v", s, b)
		}
	})
}
