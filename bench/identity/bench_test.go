package identitybench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/openmini/openmini/identity"
)

// BenchmarkSignLaunch signs launch data with the service's active ES256 key
// (pseudonym HMAC, JSON payload, JWS), on all CPUs.
func BenchmarkSignLaunch(b *testing.B) {
	ctx := context.Background()
	f, err := Open(ctx, "", b.TempDir(), "https://openmini.example")
	if err != nil {
		b.Fatal(err)
	}
	defer f.DB.Close()
	claims := identity.LaunchClaims{AppID: AppID, AccountID: f.Account, Scene: "qr", Query: "table=12&store=88", Path: "pages/menu/index"}
	if _, err := f.Service.SignLaunch(ctx, claims); err != nil { // creates the key
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.Service.SignLaunch(ctx, claims); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkRawES256 is the reference: crypto/ecdsa signing a SHA-256 digest
// with a P-256 key, on all CPUs, nothing else.
func BenchmarkRawES256(b *testing.B) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	digest := sha256.Sum256([]byte("eyJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJiZW5jaCJ9"))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
}

// TestExchangeFixture keeps the fixture honest: its codes exchange.
func TestExchangeFixture(t *testing.T) {
	ctx := context.Background()
	f, err := Open(ctx, "", t.TempDir(), "https://openmini.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.DB.Close()
	codes, err := f.Codes(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		tok, err := f.Service.ExchangeCode(ctx, AppID, AppSecret, c, "127.0.0.1")
		if err != nil || tok.IDToken == "" || tok.Scope != "openid profile" {
			t.Fatalf("exchange: %+v %v", tok, err)
		}
	}
}
