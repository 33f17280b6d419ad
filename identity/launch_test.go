package identity_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/identity"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

// fetchJWKS gets the published keys over HTTP, as a backend would.
func (e *env) fetchJWKS() jose.JSONWebKeySet {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + "/oauth/jwks")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		e.t.Fatal(err)
	}
	return set
}

func TestLaunchData(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		jack := e.user("jack@example.com", "Jack")
		tok, err := e.svc.SignLaunch(ctx, identity.LaunchClaims{AppID: "shop", AccountID: jack, Scene: "qr", Query: "table=12&store=88", Path: "pages/menu/index"})
		if err != nil {
			t.Fatal(err)
		}
		// Offline verification with only the JWKS from the server.
		d, err := identity.VerifyLaunchWithKeys(tok, e.fetchJWKS(), e.srv.URL, "shop", e.clock.now())
		if err != nil {
			t.Fatal(err)
		}
		sub, _ := e.svc.AppUserID(ctx, jack, "shop")
		if d.AppUserID != sub || d.Scene != "qr" || d.Query != "table=12&store=88" || d.Path != "pages/menu/index" || d.ID == "" ||
			d.ExpiresAt.Sub(d.IssuedAt) != 5*time.Minute {
			t.Fatalf("launch data %+v", d)
		}
		// The payload never carries internal ids or contact details.
		parts := strings.Split(tok, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		if strings.Contains(string(raw), "jack@") || strings.Contains(string(raw), `"sub":"`+itoa(jack)+`"`) {
			t.Fatalf("payload reveals the account: %s", raw)
		}
		other, _ := e.svc.SignLaunch(ctx, identity.LaunchClaims{AppID: "shop", AccountID: jack, Scene: "qr"})
		if od, _ := e.svc.VerifyLaunch(ctx, other, "shop"); od.ID == d.ID {
			t.Fatal("two launches share a jti")
		}

		tamper := func(f func(map[string]any)) string {
			var p map[string]any
			_ = json.Unmarshal(raw, &p)
			f(p)
			b, _ := json.Marshal(p)
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
		}
		sig := []byte(parts[2])
		sig[10] ^= 1
		for name, bad := range map[string]string{
			"changed query":     tamper(func(p map[string]any) { p["query"] = "table=13&store=88" }),
			"changed user":      tamper(func(p map[string]any) { p["sub"] = "au_someoneelse" }),
			"changed signature": parts[0] + "." + parts[1] + "." + string(sig),
			"no signature":      parts[0] + "." + parts[1] + ".",
			"garbage":           "not.a.token",
			"alg none":          base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"openmini-launch+jwt"}`)) + "." + parts[1] + ".",
		} {
			_, err := e.svc.VerifyLaunch(ctx, bad, "shop")
			wantCode(t, err, openmini.EUNAUTHORIZED)
			if err == nil {
				t.Errorf("%s: verified", name)
			}
		}
		// Another app's launch data is refused.
		_, err = e.svc.VerifyLaunch(ctx, tok, "menu")
		wantCode(t, err, openmini.EUNAUTHORIZED)

		// An ID token is not launch data (typ differs), even for the same app.
		_, body, _ := e.exchange("shop", shopSecret, e.code(jack, "shop"), true)
		if _, err := e.svc.VerifyLaunch(ctx, body["id_token"].(string), "shop"); err == nil {
			t.Fatal("an ID token passed as launch data")
		}

		// Expired: past exp plus the minute of allowed skew.
		e.clock.add(4 * time.Minute)
		if _, err := e.svc.VerifyLaunch(ctx, tok, "shop"); err != nil {
			t.Fatalf("launch data within its lifetime: %v", err)
		}
		e.clock.add(2*time.Minute + time.Second)
		_, err = e.svc.VerifyLaunch(ctx, tok, "shop")
		wantCode(t, err, openmini.EUNAUTHORIZED)

		// Oversized fields are refused.
		_, err = e.svc.SignLaunch(ctx, identity.LaunchClaims{AppID: "shop", AccountID: jack, Query: strings.Repeat("a", 2049)})
		wantCode(t, err, openmini.EINVALID)
	})
}

func TestKeyRotationOverlap(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		kate := e.user("kate@example.com", "Kate")
		verifier := e.verifier("shop")

		_, body, _ := e.exchange("shop", shopSecret, e.code(kate, "shop"), true)
		oldToken := body["id_token"].(string)
		oldKid := kidOf(t, oldToken)
		launch, _ := e.svc.SignLaunch(ctx, identity.LaunchClaims{AppID: "shop", AccountID: kate})

		// Not due yet.
		if rotated, err := e.svc.RotateKeysIfDue(ctx); err != nil || rotated {
			t.Fatalf("RotateKeysIfDue on a new key = %v, %v", rotated, err)
		}
		newKid, err := e.svc.RotateKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Published at once, but not signing yet.
		if set := e.fetchJWKS(); len(set.Key(newKid)) != 1 || len(set.Key(oldKid)) != 1 {
			t.Fatalf("JWKS after rotation lacks a key: %+v", set)
		}
		_, body, _ = e.exchange("shop", shopSecret, e.code(kate, "shop"), true)
		if k := kidOf(t, body["id_token"].(string)); k != oldKid {
			t.Fatalf("signed with %s before the new key's activation, want %s", k, oldKid)
		}

		// After KeyPublishAhead the new key signs; old tokens still verify.
		e.clock.add(10*time.Minute + time.Second)
		_, body, _ = e.exchange("shop", shopSecret, e.code(kate, "shop"), true)
		newToken := body["id_token"].(string)
		if k := kidOf(t, newToken); k != newKid {
			t.Fatalf("signed with %s after activation, want %s", k, newKid)
		}
		for _, tok := range []string{oldToken, newToken} {
			if _, err := verifier.Verify(ctx, tok); err != nil {
				t.Fatalf("go-oidc during the overlap (kid %s): %v", kidOf(t, tok), err)
			}
		}
		if _, err := identity.VerifyLaunchWithKeys(launch, e.fetchJWKS(), e.srv.URL, "shop", e.clock.now().Add(-10*time.Minute)); err != nil {
			t.Fatalf("old launch data against the JWKS during the overlap: %v", err)
		}

		// Once everything the old key signed has expired, it is withdrawn.
		e.clock.add(2 * time.Hour)
		if n, err := e.svc.Purge(ctx); err != nil || n == 0 {
			t.Fatalf("Purge = %d, %v", n, err)
		}
		set := e.fetchJWKS()
		if len(set.Key(oldKid)) != 0 || len(set.Key(newKid)) != 1 || len(set.Keys) != 1 {
			t.Fatalf("JWKS after the overlap: %d keys, old present %v", len(set.Keys), len(set.Key(oldKid)) > 0)
		}

		// The scheduled rotation happens once the key is 30 days old.
		e.clock.add(30 * 24 * time.Hour)
		if rotated, err := e.svc.RotateKeysIfDue(ctx); err != nil || !rotated {
			t.Fatalf("RotateKeysIfDue after 30 days = %v, %v", rotated, err)
		}
		if keys, _ := e.svc.Keys(ctx); len(keys) != 2 {
			t.Fatalf("keys after scheduled rotation: %+v", keys)
		}
	})
}

// TestReplicasShareKeys: two services on one database (two replicas) sign
// with, and publish, the same key.
func TestReplicasShareKeys(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		lee := e.user("lee@example.com", "Lee")
		other, err := identity.New(db, nil, identity.Config{Issuer: e.srv.URL, Now: e.clock.now, Logger: e.log()})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := other.SignLaunch(ctx, identity.LaunchClaims{AppID: "shop", AccountID: lee})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.VerifyLaunch(ctx, tok, "shop"); err != nil {
			t.Fatalf("replica B's launch data at replica A: %v", err)
		}
		a, _ := e.svc.Keys(ctx)
		b, _ := other.Keys(ctx)
		if len(a) != 1 || len(b) != 1 || a[0].KeyID != b[0].KeyID {
			t.Fatalf("replicas disagree on keys: %+v vs %+v", a, b)
		}
	})
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.KeyID
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
