package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/openmini/openmini/identity"
	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/web"
)

// backend is a mini program's server as the backend guide
// (docs/identity.md) builds it: coreos/go-oidc from the discovery document
// and golang.org/x/oauth2 for the code exchange.
type backend struct {
	provider *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newBackend(t *testing.T, issuer, appID, secret string) *backend {
	t.Helper()
	provider, err := oidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatalf("discovery at %s: %v", issuer, err)
	}
	conf := oauth2.Config{ClientID: appID, ClientSecret: secret, Endpoint: provider.Endpoint()}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	return &backend{provider: provider, conf: conf, verifier: provider.Verifier(&oidc.Config{ClientID: appID})}
}

// exchange trades a code at /oauth/token and verifies the ID token.
func (b *backend) exchange(code string) (*oauth2.Token, *oidc.IDToken, error) {
	ctx := context.Background()
	tok, err := b.conf.Exchange(ctx, code)
	if err != nil {
		return nil, nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := b.verifier.Verify(ctx, raw)
	return tok, id, err
}

// userinfo calls the userinfo endpoint with an access token.
func (b *backend) userinfo(tok *oauth2.Token) (*oidc.UserInfo, error) {
	return b.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
}

// oauthError is the "error" of a failed token request.
func oauthError(t *testing.T, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want an OAuth error, got %v", err)
	}
	return re.ErrorCode
}

// authCode asks the host endpoint behind openmini.getAuthCode for a code,
// allowing grant on the way.
func authCode(t *testing.T, api *platformtest.API, appID string, scopes []string, grant ...web.ScopeReason) web.AuthCodeResponse {
	t.Helper()
	var out web.AuthCodeResponse
	api.Must(t, 200, "POST", "/host/api/auth-code", web.AuthCodeRequest{App: appID, Scopes: scopes, Grant: grant}, &out)
	return out
}

// TestOIDCThroughThePlatform: a code from the host endpoint, exchanged by
// a backend at the real token endpoint and verified by coreos/go-oidc
// through discovery and the JWKS; then every way a code must fail (reused,
// expired, wrong secret, another app's, consent revoked), userinfo after
// revocation, and launch data verified offline (and refused when
// tampered with, expired or for another app).
func TestOIDCThroughThePlatform(t *testing.T) {
	w := newIDWorld(t)
	p := w.p
	ctx := context.Background()
	shop, shopSecret := w.createApp(t, "Noodle Bar")
	tea, teaSecret := w.createApp(t, "Tea House")

	// Anonymous visitors get no code and no launch data.
	anon := p.API(p.Client())
	var eb platformtest.ErrorBody
	if code := anon.Do(t, "POST", "/host/api/auth-code", web.AuthCodeRequest{App: shop}, &eb); code != 401 || eb.Error.Code != "unauthorized" {
		t.Fatalf("anonymous auth code: %d %+v", code, eb)
	}
	if code := anon.Do(t, "POST", "/host/api/launch-data", web.LaunchDataRequest{App: shop, Path: "pages/index"}, &eb); code != 401 {
		t.Fatalf("anonymous launch data: %d", code)
	}

	c := p.Client()
	signUpUser(t, p, c, "alice@example.com", "alice@example.com", "alice-password-1", "Alice")
	alice := p.API(c)

	// Bad requests name the problem.
	if code := alice.Do(t, "POST", "/host/api/auth-code", web.AuthCodeRequest{App: shop, Scopes: []string{"wallet"}}, &eb); code != 400 || !strings.Contains(eb.Error.Message, `"wallet"`) {
		t.Fatalf("unknown scope: %d %+v", code, eb)
	}
	if code := alice.Do(t, "POST", "/host/api/auth-code", web.AuthCodeRequest{App: shop, Scopes: []string{"profile"}, Grant: []web.ScopeReason{{Scope: "phone"}}}, &eb); code != 400 {
		t.Fatalf("granting a scope not asked for: %d", code)
	}
	if code := alice.Do(t, "POST", "/host/api/auth-code", web.AuthCodeRequest{App: "nosuchapp"}, &eb); code != 404 {
		t.Fatalf("code for a missing app: %d %+v", code, eb)
	}

	// The base scope is silent; profile needs consent first.
	base := authCode(t, alice, shop, nil)
	if base.Code == "" || base.ExpiresIn <= 0 || base.ExpiresIn > 300 {
		t.Fatalf("base scope code: %+v", base)
	}
	ask := authCode(t, alice, shop, []string{"profile"})
	if ask.Code != "" || len(ask.Consent) != 1 || ask.Consent[0] != "profile" {
		t.Fatalf("profile without consent: %+v", ask)
	}
	first := authCode(t, alice, shop, []string{"profile"}, web.ScopeReason{Scope: "profile", Reason: "To greet you by name."})
	if first.Code == "" {
		t.Fatalf("profile with consent: %+v", first)
	}

	be := newBackend(t, p.URL, shop, shopSecret)
	tok, idTok, err := be.exchange(first.Code)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	var claims struct {
		Name      string `json:"name"`
		OrgUserID string `json:"org_user_id"`
		Email     string `json:"email"`
	}
	if err := idTok.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(idTok.Subject, "au_") || claims.Name != "Alice" || claims.Email != "" || !strings.HasPrefix(claims.OrgUserID, "ou_") || idTok.Issuer != p.URL {
		t.Fatalf("ID token: sub %q iss %q claims %+v", idTok.Subject, idTok.Issuer, claims)
	}
	info, err := be.userinfo(tok)
	if err != nil || info.Subject != idTok.Subject {
		t.Fatalf("userinfo: %+v %v", info, err)
	}
	// The base-scope code gives the same user ID, no name.
	_, baseTok, err := be.exchange(base.Code)
	if err != nil {
		t.Fatal(err)
	}
	var baseClaims map[string]any
	baseTok.Claims(&baseClaims)
	if baseTok.Subject != idTok.Subject || baseClaims["name"] != nil {
		t.Fatalf("base scope ID token: %q %v", baseTok.Subject, baseClaims)
	}

	// Reused code: refused, and the access token it issued stops working.
	if _, _, err := be.exchange(first.Code); oauthError(t, err) != "invalid_grant" {
		t.Fatalf("reused code: %v", err)
	}
	if _, err := be.userinfo(tok); err == nil {
		t.Fatal("userinfo still answers for the tokens of a replayed code")
	}

	// Expired code (its expiry moved into the past, as five minutes would).
	expired := authCode(t, alice, shop, []string{"profile"})
	sum := sha256.Sum256([]byte(expired.Code))
	if _, err := p.DB.Exec(ctx, `UPDATE identity_auth_codes SET expires_at = ? WHERE code_hash = ?`,
		time.Now().Add(-time.Second).UnixMilli(), hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	if _, _, err := be.exchange(expired.Code); oauthError(t, err) != "invalid_grant" {
		t.Fatalf("expired code: %v", err)
	}

	// Wrong secret; another app's secret for this app's code.
	code := authCode(t, alice, shop, []string{"profile"})
	if _, _, err := newBackend(t, p.URL, shop, teaSecret).exchange(code.Code); oauthError(t, err) != "invalid_client" {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, _, err := newBackend(t, p.URL, tea, teaSecret).exchange(code.Code); oauthError(t, err) != "invalid_grant" {
		t.Fatalf("another app's code: %v", err)
	}
	// The code survived those attempts and still works for its own app.
	tok, _, err = be.exchange(code.Code)
	if err != nil {
		t.Fatalf("exchange after failed attempts: %v", err)
	}

	// Settings: the page lists the app with its scope and reason; removing
	// profile refuses a code issued before, and the userinfo of a token
	// issued before.
	pending := authCode(t, alice, shop, []string{"profile"})
	_, page := p.Get(t, c, "/me/apps")
	if !strings.Contains(page, `data-app="`+shop+`"`) || !strings.Contains(page, "To greet you by name.") || !strings.Contains(page, `data-scope="profile"`) {
		t.Fatalf("authorised mini programs:\n%s", page)
	}
	resp, _ := p.PostForm(t, c, "/me/apps/"+shop+"/revoke", "scope", "profile")
	if resp.StatusCode != 303 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if _, _, err := be.exchange(pending.Code); oauthError(t, err) != "invalid_grant" {
		t.Fatalf("code after revocation: %v", err)
	}
	if _, err := be.userinfo(tok); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("userinfo after revocation: %v", err)
	}
	_, page = p.Get(t, c, "/me/apps")
	if strings.Contains(page, `data-scope="profile"`) || !strings.Contains(page, `data-scope="openid"`) {
		t.Fatalf("after removing profile:\n%s", page)
	}
	// Removing everything: a base-scope token stops working too, and the
	// app is gone from the list.
	baseTok2, _, err := be.exchange(authCode(t, alice, shop, nil).Code)
	if err != nil {
		t.Fatal(err)
	}
	p.PostForm(t, c, "/me/apps/"+shop+"/revoke")
	if _, err := be.userinfo(baseTok2); err == nil {
		t.Fatal("userinfo answers after all access was removed")
	}
	if _, page = p.Get(t, c, "/me/apps"); strings.Contains(page, `data-app="`+shop+`"`) {
		t.Fatal("the app is still listed after all access was removed")
	}

	// Launch data: verified offline with the published JWKS.
	var ld web.LaunchDataResponse
	alice.Must(t, 200, "POST", "/host/api/launch-data", web.LaunchDataRequest{App: shop, Path: "pages/index", Query: map[string]string{"table": "12", "store": "88"}, Scene: "qr"}, &ld)
	keys := fetchJWKS(t, p.URL)
	now := time.Now()
	d, err := identity.VerifyLaunchWithKeys(ld.Token, keys, p.URL, shop, now)
	if err != nil {
		t.Fatalf("launch data: %v", err)
	}
	if d.AppUserID != idTok.Subject || d.Scene != "qr" || d.Query != "store=88&table=12" || d.Path != "pages/index" {
		t.Fatalf("launch data: %+v (user %s)", d, idTok.Subject)
	}
	if _, err := identity.VerifyLaunchWithKeys(ld.Token, keys, p.URL, tea, now); err == nil {
		t.Fatal("launch data verified for another app")
	}
	if _, err := identity.VerifyLaunchWithKeys(ld.Token, keys, p.URL, shop, now.Add(7*time.Minute)); err == nil {
		t.Fatal("launch data verified after it expired")
	}
	if _, err := identity.VerifyLaunchWithKeys(tamper(t, ld.Token), keys, p.URL, shop, now); err == nil {
		t.Fatal("tampered launch data verified")
	}
	if code := alice.Do(t, "POST", "/host/api/launch-data", web.LaunchDataRequest{App: "nosuchapp", Path: "pages/index"}, &eb); code != 404 {
		t.Fatalf("launch data for a missing app: %d", code)
	}
	if code := alice.Do(t, "POST", "/host/api/launch-data", web.LaunchDataRequest{App: shop, Scene: "Bad Scene!"}, &eb); code != 400 {
		t.Fatalf("launch data with a bad scene: %d", code)
	}

	// Guessing an app's secret locks the guesser out, with backoff.
	guess := newBackend(t, p.URL, tea, "wrong-secret")
	teaCode := authCode(t, alice, tea, nil).Code
	for i := range 5 {
		if _, _, err := guess.exchange(teaCode); oauthError(t, err) != "invalid_client" {
			t.Fatalf("wrong secret %d: %v", i+1, err)
		}
	}
	for _, b := range []*backend{guess, newBackend(t, p.URL, tea, teaSecret)} {
		_, _, err = b.exchange(teaCode)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusTooManyRequests || re.Response.Header.Get("Retry-After") == "" {
			t.Fatalf("after 5 wrong secrets, secret %q: %v", b.conf.ClientSecret, err)
		}
	}
}

// tamper changes the query in launch data's payload, keeping the
// signature.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(raw), "table=12", "table=13", 1)
	if changed == string(raw) {
		t.Fatalf("nothing to tamper with in %s", raw)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
	return strings.Join(parts, ".")
}

// fetchJWKS downloads the platform's public keys once; everything after
// is offline.
func fetchJWKS(t *testing.T, issuer string) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(issuer + "/oauth/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("JWKS: %v (%d keys)", err, len(set.Keys))
	}
	return set
}
