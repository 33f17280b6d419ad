package pay_test

import (
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/sqldb"
)

func TestMerchants(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		bad := []pay.MerchantSpec{
			{OrgID: e.org, Name: "", Category: "restaurant"},
			{OrgID: e.org, Name: "x", Category: "casino"},
			{OrgID: e.org, Name: "x", Category: "hotel", Latitude: 90_000_001},
			{OrgID: e.org, Name: "x", Category: "hotel", Longitude: -180_000_001},
		}
		for _, spec := range bad {
			_, err := e.svc.CreateMerchant(e.ctx, spec)
			wantCode(t, err, openmini.EINVALID)
		}
		_, err := e.svc.CreateMerchant(e.ctx, pay.MerchantSpec{OrgID: 999999, Name: "x", Category: "hotel"})
		wantCode(t, err, openmini.ENOTFOUND)

		m := e.newMerchant("restaurant")
		if m.Latitude != 31_230_416 || m.Longitude != 121_473_701 || m.Status != pay.MerchantActive || m.AccountID == 0 {
			t.Fatalf("merchant %+v", m)
		}
		// Mini programs of the same organisation only.
		e.newApp(e.org, "noodles")
		otherOrg := e.newOrg("other")
		e.newApp(otherOrg, "elsewhere")
		if err := e.svc.LinkApp(e.ctx, m.ID, "noodles"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, e.svc.LinkApp(e.ctx, m.ID, "elsewhere"), openmini.EFORBIDDEN)
		wantCode(t, e.svc.LinkApp(e.ctx, m.ID, "missing"), openmini.ENOTFOUND)
		got, _ := e.svc.Merchant(e.ctx, m.ID)
		if len(got.Apps) != 1 || got.Apps[0] != "noodles" {
			t.Fatalf("apps %v", got.Apps)
		}
		if list, _ := e.svc.MerchantsForApp(e.ctx, "noodles"); len(list) != 1 || list[0].ID != m.ID {
			t.Fatalf("merchants for app %v", list)
		}
		if _, err := e.svc.CreateOrder(e.ctx, m.ID, "a1", pay.OrderRequest{Amount: 1_00, AppID: "noodles"}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.CreateOrder(e.ctx, m.ID, "a2", pay.OrderRequest{Amount: 1_00, AppID: "elsewhere"})
		wantCode(t, err, openmini.EINVALID)

		// API credentials: the secret is shown once and stored hashed.
		key, err := e.svc.CreateAPIKey(e.ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := e.count(`SELECT COUNT(*) FROM pay_merchant_keys WHERE secret_hash = ?`, key.Secret); n != 0 {
			t.Fatal("secret stored in clear")
		}
		who, err := e.svc.Authenticate(e.ctx, key.KeyID, key.Secret)
		if err != nil || who.ID != m.ID {
			t.Fatalf("authenticate: %v, %v", who, err)
		}
		_, err = e.svc.Authenticate(e.ctx, key.KeyID, key.Secret+"x")
		wantCode(t, err, openmini.EUNAUTHORIZED)
		_, err = e.svc.Authenticate(e.ctx, "mk_unknown", key.Secret)
		wantCode(t, err, openmini.EUNAUTHORIZED)
		keys, _ := e.svc.APIKeys(e.ctx, m.ID)
		if len(keys) != 1 || keys[0].Secret != "" || keys[0].LastUsedAt.IsZero() {
			t.Fatalf("keys %+v", keys)
		}
		if err := e.svc.SetMerchantStatus(e.ctx, m.ID, pay.MerchantSuspended); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Authenticate(e.ctx, key.KeyID, key.Secret)
		wantCode(t, err, openmini.EFORBIDDEN)
		_, err = e.svc.CreateOrder(e.ctx, m.ID, "a3", pay.OrderRequest{Amount: 1_00})
		wantCode(t, err, openmini.EFORBIDDEN)
		_, err = e.svc.CreateOrder(e.ctx, 999999, "a3", pay.OrderRequest{Amount: 1_00})
		wantCode(t, err, openmini.ENOTFOUND)
		if err := e.svc.SetMerchantStatus(e.ctx, m.ID, pay.MerchantActive); err != nil {
			t.Fatal(err)
		}
		// The refused request left nothing behind: its key works now.
		if o, err := e.svc.CreateOrder(e.ctx, m.ID, "a3", pay.OrderRequest{Amount: 1_00}); err != nil || o.State != pay.StateCreated {
			t.Fatalf("the key of a refused order: %v %v", o, err)
		}
		if err := e.svc.RevokeAPIKey(e.ctx, m.ID, key.KeyID); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Authenticate(e.ctx, key.KeyID, key.Secret)
		wantCode(t, err, openmini.EUNAUTHORIZED)

		// Order validation names the field.
		for _, req := range []pay.OrderRequest{
			{Amount: 0}, {Amount: -5}, {Amount: 1_00, Currency: "USD"}, {Amount: 1_00, ExpiresIn: 5},
			{Amount: 1_00, MerchantOrderNo: "has space"}, {Amount: 3_00, Items: []pay.Item{{Name: "tea", Quantity: 1, UnitPrice: 2_00}}},
		} {
			_, err := e.svc.CreateOrder(e.ctx, m.ID, "v", req)
			wantCode(t, err, openmini.EINVALID)
		}
		_, err = e.svc.CreateOrder(e.ctx, m.ID, "v", pay.OrderRequest{Amount: 1_000_000_000_01})
		wantCode(t, err, openmini.ETOOLARGE)
		_, err = e.svc.CreateOrder(e.ctx, m.ID, "", pay.OrderRequest{Amount: 1_00})
		wantCode(t, err, openmini.EINVALID)
	})
}

func TestWebhookURLs(t *testing.T) {
	db := openAny(t)
	strict, err := pay.New(db, pay.Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: t.Context(), db: db, svc: strict}
	e.org = e.newOrg("hooks")
	m := e.newMerchant("retail")
	for _, u := range []string{"http://example.com/h", "https://127.0.0.1/h", "https://10.1.2.3/h", "https://[::1]/h",
		"https://localhost/h", "https://user:pw@example.com/h", "ftp://example.com", "example.com/h", "https://169.254.169.254/latest"} {
		_, err := strict.SetWebhook(e.ctx, m.ID, u)
		wantCode(t, err, openmini.EINVALID)
	}
	secret, err := strict.SetWebhook(e.ctx, m.ID, "https://shop.example.com/openmini/hooks")
	if err != nil || len(secret) < 40 {
		t.Fatalf("secret %q, %v", secret, err)
	}
	again, _ := strict.SetWebhook(e.ctx, m.ID, "https://shop.example.com/v2")
	if again != secret {
		t.Fatal("changing the URL changed the secret")
	}
	rotated, err := strict.RotateWebhookSecret(e.ctx, m.ID)
	if err != nil || rotated == secret {
		t.Fatalf("rotate: %q, %v", rotated, err)
	}
}

// TestFees: the category rate, rounding, a period waiver and a volume
// waiver that an order crosses.
func TestFees(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		if err := e.svc.SetFeeRate(e.ctx, "supermarket", 38); err != nil {
			t.Fatal(err)
		}
		wantCode(t, e.svc.SetFeeRate(e.ctx, "supermarket", 10001), openmini.EINVALID)
		wantCode(t, e.svc.SetFeeRate(e.ctx, "moon", 10), openmini.EINVALID)
		rates, _ := e.svc.FeeRates(e.ctx)
		if rates["supermarket"] != 38 || rates["hotel"] != 60 {
			t.Fatalf("rates %v", rates)
		}
		user := e.newUser(10_000_00)
		shop := e.newMerchant("supermarket")
		if o := e.pay(user, e.order(shop, 100_00)); o.Fee != 38 {
			t.Fatalf("fee %d on 100.00 at 0.38%%, want 38", o.Fee)
		}
		hotel := e.newMerchant("hotel")
		if o := e.pay(user, e.order(hotel, 84)); o.Fee != 1 {
			t.Fatalf("fee %d on 0.84 at 0.6%%, want 1 (0.504 rounds up)", o.Fee)
		}
		if o := e.pay(user, e.order(hotel, 83)); o.Fee != 0 {
			t.Fatalf("fee %d on 0.83 at 0.6%%, want 0 (0.498 rounds down)", o.Fee)
		}
		// A waiver for a period: no fee inside it, the normal fee after.
		now := e.clock.Now()
		if _, err := e.svc.GrantFeeWaiver(e.ctx, pay.FeeWaiver{MerchantID: hotel.ID, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour), Note: "launch"}); err != nil {
			t.Fatal(err)
		}
		if o := e.pay(user, e.order(hotel, 500_00)); o.Fee != 0 || o.Net != 500_00 {
			t.Fatalf("fee %d inside the waiver", o.Fee)
		}
		e.clock.Advance(2 * time.Hour)
		if o := e.pay(user, e.order(hotel, 500_00)); o.Fee != 3_00 {
			t.Fatalf("fee %d after the waiver, want 300", o.Fee)
		}
		// A volume waiver: the first 150.00 free; an order crossing it pays
		// on the part above.
		now = e.clock.Now()
		if _, err := e.svc.GrantFeeWaiver(e.ctx, pay.FeeWaiver{MerchantID: hotel.ID, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour), VolumeCap: 150_00}); err != nil {
			t.Fatal(err)
		}
		wantFees := []int64{0, 30, 60}
		for i, want := range wantFees {
			if o := e.pay(user, e.order(hotel, 100_00)); o.Fee != want {
				t.Fatalf("order %d: fee %d, want %d", i, o.Fee, want)
			}
		}
		ws, _ := e.svc.FeeWaivers(e.ctx, hotel.ID)
		if len(ws) != 2 || ws[0].VolumeUsed != 150_00 {
			t.Fatalf("waivers %+v", ws)
		}
		_, err := e.svc.GrantFeeWaiver(e.ctx, pay.FeeWaiver{MerchantID: hotel.ID, StartsAt: now, EndsAt: now})
		wantCode(t, err, openmini.EINVALID)
	})
}
