package identity_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/openmini/openmini/identity"
)

// FuzzParseLogin: any input either fails with an error or yields a
// normalised login that parses to itself.
func FuzzParseLogin(f *testing.F) {
	svc, err := identity.New(nil, nil, identity.Config{Issuer: "https://id.example", DefaultCallingCode: "86"})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"a@example.com", " A@Example.COM ", "+86 138-0013-8000", "13800138000", "(0)20 7946 0958", "+", "@", "a@b", "+1" + "9999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := svc.ParseLogin(s)
		if err != nil {
			return
		}
		again, err := svc.ParseLogin(l.Value)
		if err != nil || again != l {
			t.Fatalf("%q -> %+v, which parses to %+v, %v", s, l, again, err)
		}
	})
}

// FuzzVerifyLaunch: no input verifies under a key it was not signed with,
// and nothing panics.
func FuzzVerifyLaunch(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	for _, s := range []string{"", "a.b.c", "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoib3Blbm1pbmktbGF1bmNoK2p3dCJ9.e30.AAAA", "....", "eyJhbGciOiJub25lIn0.e30."} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := identity.VerifyLaunchWithKeys(s, set, "https://id.example", "shop", now); err == nil {
			t.Fatalf("%q verified without a signature by the key", s)
		}
	})
}
