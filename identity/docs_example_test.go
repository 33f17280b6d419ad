package identity_test

// The backend code from docs/identity.md, run against a real server: if
// this test breaks, the guide is wrong.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/openmini/openmini/identity"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

// --- from docs/identity.md: launch data ---

// LaunchClaims is the payload of OpenMini launch data.
type LaunchClaims struct {
	jwt.Claims
	Scene string `json:"scene"`
	Query string `json:"query"`
	Path  string `json:"path"`
}

// fetchJWKS downloads the platform's public keys.
func fetchJWKS(ctx context.Context, issuer string) (*jose.JSONWebKeySet, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", issuer+"/oauth/jwks", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("jwks: %s", resp.Status)
	}
	var set jose.JSONWebKeySet
	return &set, json.NewDecoder(resp.Body).Decode(&set)
}

// verifyLaunch checks launch data offline against keys.
func verifyLaunch(token string, keys *jose.JSONWebKeySet, issuer, appID string, now time.Time) (*LaunchClaims, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, err
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "openmini-launch+jwt" {
		return nil, errors.New("not OpenMini launch data")
	}
	found := keys.Key(h.KeyID)
	if len(found) == 0 {
		return nil, errors.New("unknown key: refetch the JWKS once, then refuse")
	}
	var c LaunchClaims
	if err := tok.Claims(found[0].Key, &c); err != nil {
		return nil, err // bad signature
	}
	expect := jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{appID}, Time: now}
	if err := c.Claims.ValidateWithLeeway(expect, time.Minute); err != nil {
		return nil, err // wrong issuer or app, expired
	}
	return &c, nil
}

// --- end of the launch data example ---

func TestDocsBackendExample(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		issuer, appID, appSecret := e.srv.URL, "shop", shopSecret
		mona := e.user("mona@example.com", "Mona")

		// Launch data.
		launch, err := e.svc.SignLaunch(ctx, identity.LaunchClaims{AppID: appID, AccountID: mona, Scene: "qr", Query: "table=12"})
		if err != nil {
			t.Fatal(err)
		}
		keys, err := fetchJWKS(ctx, issuer)
		if err != nil {
			t.Fatal(err)
		}
		c, err := verifyLaunch(launch, keys, issuer, appID, e.clock.now())
		if err != nil || c.Subject == "" || c.Query != "table=12" || c.Scene != "qr" {
			t.Fatalf("launch example: %+v %v", c, err)
		}
		if _, err := verifyLaunch(launch, keys, issuer, "menu", e.clock.now()); err == nil {
			t.Fatal("launch example accepted another app's data")
		}
		if _, err := verifyLaunch(launch, keys, issuer, appID, e.clock.now().Add(7*time.Minute)); err == nil {
			t.Fatal("launch example accepted expired data")
		}

		// --- from docs/identity.md: code exchange ---
		provider, err := oidc.NewProvider(ctx, issuer)
		if err != nil {
			t.Fatal(err)
		}
		conf := oauth2.Config{
			ClientID:     appID,
			ClientSecret: appSecret,
			Endpoint:     provider.Endpoint(), // token URL from discovery
		}
		conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
		verifier := provider.Verifier(&oidc.Config{ClientID: appID, Now: e.clock.now})

		code := e.code(mona, appID, "profile") // what the mini program sent
		tok, err := conf.Exchange(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		rawID, _ := tok.Extra("id_token").(string)
		idToken, err := verifier.Verify(ctx, rawID)
		if err != nil {
			t.Fatal(err)
		}
		var profile struct {
			Name string `json:"name"`
		}
		_ = idToken.Claims(&profile)
		// idToken.Subject is the user's id in this app; keep it.
		info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatal(err)
		}
		// --- end of the code exchange example ---
		if idToken.Subject != c.Subject || profile.Name != "Mona" || info.Subject != idToken.Subject {
			t.Fatalf("exchange example: sub %s launch sub %s name %q userinfo sub %s", idToken.Subject, c.Subject, profile.Name, info.Subject)
		}

		// The curl form in the guide (client_secret_post) works too.
		form := url.Values{"grant_type": {"authorization_code"}, "code": {e.code(mona, appID)}, "client_id": {appID}, "client_secret": {appSecret}}
		resp, err := http.Post(issuer+"/oauth/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("curl form: %v %v", resp.Status, err)
		}
		resp.Body.Close()
	})
}

// TestDocsNodeLaunchVerifier runs docs/identity.md's Node.js (jose)
// launch-data verifier, as printed but for the issuer's URL, against
// launch data the server signed and the JWKS it serves.
func TestDocsNodeLaunchVerifier(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node (make test installs nodejs)")
	}
	modules := filepath.Join("..", "testdata", "node")
	if _, err := os.Stat(filepath.Join(modules, "node_modules", "jose")); err != nil {
		testenv.Missing(t, "jose: run npm ci in testdata/node (make test does)")
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "identity.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)### Example: Node\\.js \\(`jose`\\)\\s*```js\\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/identity.md has no Node.js launch data example")
	}
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		mona := e.user("mona@example.com", "Mona")
		sign := func(app string) string {
			tok, err := e.svc.SignLaunch(ctx, identity.LaunchClaims{AppID: app, AccountID: mona, Scene: "qr", Query: "table=12", Path: "pages/menu"})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		good := sign("shop")
		tampered := good[:len(good)-4] + strings.Map(func(r rune) rune {
			if r == 'A' {
				return 'B'
			}
			return 'A'
		}, good[len(good)-4:])
		tokens := []string{good, sign("menu"), tampered, "not.a.token"}
		in, _ := json.Marshal(tokens)

		script := strings.ReplaceAll(string(m[1]), "https://openmini.example.com", e.srv.URL) + `
const tokens = JSON.parse(readFileSync(0, "utf8"));
for (const t of tokens) {
  try {
    const p = await verifyLaunch(t);
    console.log(JSON.stringify({ ok: true, sub: p.sub, scene: p.scene, query: p.query, path: p.path, jti: p.jti }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, code: e.code || e.message }));
  }
}`
		script = "import { readFileSync } from 'node:fs';\n" + script
		cmd := exec.Command(node, "--input-type=module", "-e", script)
		cmd.Dir = modules
		cmd.Stdin = strings.NewReader(string(in))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		type result struct {
			OK                            bool
			Code, Sub, Scene, Query, Path string
			JTI                           string `json:"jti"`
		}
		var got []result
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var r result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("node printed %q: %v\n%s", line, err, out)
			}
			got = append(got, r)
		}
		if len(got) != len(tokens) {
			t.Fatalf("%d results for %d tokens:\n%s", len(got), len(tokens), out)
		}
		if r := got[0]; !r.OK || r.Sub == "" || r.Scene != "qr" || r.Query != "table=12" || r.Path != "pages/menu" || r.JTI == "" {
			t.Errorf("the docs' verifier on real launch data: %+v", r)
		}
		for i, name := range []string{"", "another app's launch data", "a tampered signature", "garbage"} {
			if i > 0 && got[i].OK {
				t.Errorf("the docs' verifier accepted %s: %+v", name, got[i])
			}
		}
		t.Logf("refusals: %s / %s / %s", got[1].Code, got[2].Code, got[3].Code)
	})
}
