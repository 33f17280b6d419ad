package host_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/blob/fsblob"
	"github.com/openmini/openmini/host"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/policy"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

// world is an organisation with two registered apps.
type world struct {
	db    *sqldb.DB
	apps  *app.Service
	limit *ratelimit.Limiter
	a, b  string
}

func newWorld(t *testing.T, db *sqldb.DB) *world {
	t.Helper()
	ctx := context.Background()
	st, err := fsblob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lim := ratelimit.New(db, nil)
	acct := account.New(db, lim, nil)
	pol := policy.New(db)
	orgs := org.New(db, acct, pol)
	keys, err := app.LoadKeys(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	apps := app.New(db, st, orgs, pol, keys, testenvLogger())
	who, o, err := orgs.SignUp(ctx, org.SignUp{Email: "dev@host.example", Name: "Dev", Password: "developer-password-1", OrgName: "Host Test"})
	if err != nil {
		t.Fatal(err)
	}
	actor := openmini.Actor{AccountID: who.ID, Label: who.Email}
	w := &world{db: db, apps: apps, limit: lim}
	for i, p := range []*string{&w.a, &w.b} {
		name, cat := fmt.Sprintf("App %d", i), "tools"
		a, _, err := apps.Create(ctx, actor, o.ID, app.Settings{Name: &name, Category: &cat})
		if err != nil {
			t.Fatal(err)
		}
		*p = a.ID
	}
	return w
}

func TestStorageQuotasAndOwners(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		st := host.NewStorage(db)
		mona, lena, device := host.AccountOwner(1), host.AccountOwner(2), host.DeviceOwner(strings.Repeat("ab", 16))

		if err := st.Set(ctx, mona, w.a, "cart", json.RawMessage(`{"noodles":2}`)); err != nil {
			t.Fatal(err)
		}
		got, err := st.Get(ctx, mona, w.a, "cart")
		if err != nil || string(got) != `{"noodles":2}` {
			t.Fatalf("get: %s %v", got, err)
		}
		// Nobody else sees it: not another person, not a device, not another app.
		for _, c := range []struct {
			who host.Owner
			app string
		}{{lena, w.a}, {device, w.a}, {mona, w.b}} {
			if _, err := st.Get(ctx, c.who, c.app, "cart"); openmini.ErrorCode(err) != openmini.ENOTFOUND {
				t.Errorf("%s in %s reads mona's cart: %v", c.who, c.app, err)
			}
		}

		// 1 MB a key.
		big := json.RawMessage(`"` + strings.Repeat("x", host.MaxValueBytes) + `"`)
		if err := st.Set(ctx, mona, w.a, "big", big); openmini.ErrorCode(err) != openmini.ETOOLARGE || !strings.Contains(err.Error(), "1 MB") {
			t.Errorf("value over 1 MB: %v", err)
		}
		// 10 MB an app: ten keys of ~1 MB fit, the eleventh does not, and
		// replacing a key counts its new size only.
		val := json.RawMessage(`"` + strings.Repeat("y", 1_040_000) + `"`)
		for i := 0; i < 10; i++ {
			if err := st.Set(ctx, mona, w.a, fmt.Sprintf("k%d", i), val); err != nil {
				t.Fatalf("key %d: %v", i, err)
			}
		}
		if err := st.Set(ctx, mona, w.a, "k10", val); openmini.ErrorCode(err) != openmini.ETOOLARGE || !strings.Contains(err.Error(), "10 MB") {
			t.Errorf("past 10 MB: %v", err)
		}
		if err := st.Set(ctx, mona, w.a, "k3", val); err != nil {
			t.Errorf("rewriting a key at the quota: %v", err)
		}
		// Another app of the same person has its own 10 MB.
		if err := st.Set(ctx, mona, w.b, "k0", val); err != nil {
			t.Errorf("the other app's quota: %v", err)
		}
		info, err := st.Info(ctx, mona, w.a)
		if err != nil || len(info.Keys) != 11 || info.CurrentSize < 10_000 || info.LimitSize != 10240 {
			t.Errorf("info: %+v %v", info, err)
		}
		// Bad input names the problem; an unknown app is not_found.
		if err := st.Set(ctx, mona, w.a, "", val); openmini.ErrorCode(err) != openmini.EINVALID {
			t.Errorf("empty key: %v", err)
		}
		if err := st.Set(ctx, mona, w.a, "x", json.RawMessage(`{nope`)); openmini.ErrorCode(err) != openmini.EINVALID {
			t.Errorf("not JSON: %v", err)
		}
		if err := st.Set(ctx, mona, "mpnosuchapp", "x", json.RawMessage(`1`)); openmini.ErrorCode(err) != openmini.ENOTFOUND {
			t.Errorf("unknown app: %v", err)
		}
		if err := st.Clear(ctx, mona, w.a); err != nil {
			t.Fatal(err)
		}
		if info, _ := st.Info(ctx, mona, w.a); len(info.Keys) != 0 {
			t.Errorf("after clear: %+v", info)
		}
		if _, err := st.Get(ctx, mona, w.b, "k0"); err != nil {
			t.Errorf("clearing one app cleared another: %v", err)
		}
	})
}

// TestStorageQuotaUnderConcurrentWrites: many writes racing for the last
// megabytes never together pass 10 MB.
func TestStorageQuotaUnderConcurrentWrites(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		st := host.NewStorage(db)
		owner := host.AccountOwner(7)
		val := json.RawMessage(`"` + strings.Repeat("z", 1_000_000) + `"`)
		var wg sync.WaitGroup
		for i := 0; i < 14; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				st.Set(ctx, owner, w.a, fmt.Sprintf("k%02d", i), val)
			}(i)
		}
		wg.Wait()
		var used int64
		if err := db.QueryRow(ctx, `SELECT COALESCE(SUM(size), 0) FROM host_storage WHERE owner = ? AND app_id = ?`, string(owner), w.a).Scan(&used); err != nil {
			t.Fatal(err)
		}
		if used > host.MaxAppBytes || used < 9_000_000 {
			t.Errorf("%d bytes stored by racing writes (quota %d)", used, host.MaxAppBytes)
		}
	})
}

func TestAdoptMovesADevicesStorageToTheAccount(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		st := host.NewStorage(db)
		dev, acct := host.DeviceOwner(strings.Repeat("cd", 16)), host.AccountOwner(9)
		st.Set(ctx, dev, w.a, "cart", json.RawMessage(`"device"`))
		st.Set(ctx, dev, w.a, "seen", json.RawMessage(`true`))
		st.Set(ctx, acct, w.a, "cart", json.RawMessage(`"account"`))
		if err := st.Adopt(ctx, dev, acct); err != nil {
			t.Fatal(err)
		}
		if v, _ := st.Get(ctx, acct, w.a, "cart"); string(v) != `"account"` {
			t.Errorf("adopt overwrote the account's value: %s", v)
		}
		if v, _ := st.Get(ctx, acct, w.a, "seen"); string(v) != `true` {
			t.Errorf("adopt lost the device's key: %s", v)
		}
		if _, err := st.Get(ctx, dev, w.a, "seen"); openmini.ErrorCode(err) != openmini.ENOTFOUND {
			t.Errorf("the device still has data after adopt: %v", err)
		}
	})
}

func TestConsents(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		c := host.NewConsents(db)
		mona := host.AccountOwner(1)
		if decided, _, err := c.Decision(ctx, mona, w.a, host.PermLocation); decided || err != nil {
			t.Fatalf("undecided: %v %v", decided, err)
		}
		if err := c.Decide(ctx, mona, w.a, host.CanonicalPermission("scope.userLocation"), true); err != nil {
			t.Fatal(err)
		}
		if err := c.Decide(ctx, mona, w.a, host.PermClipboard, false); err != nil {
			t.Fatal(err)
		}
		if d, g, _ := c.Decision(ctx, mona, w.a, host.PermLocation); !d || !g {
			t.Errorf("location: decided %v granted %v", d, g)
		}
		if d, g, _ := c.Decision(ctx, mona, w.b, host.PermLocation); d || g {
			t.Errorf("a decision for one app applies to another")
		}
		if d, _, _ := c.Decision(ctx, host.AccountOwner(2), w.a, host.PermLocation); d {
			t.Errorf("a decision of one person applies to another")
		}
		list, err := c.List(ctx, mona)
		if err != nil || len(list) != 2 {
			t.Errorf("list: %+v %v", list, err)
		}
		if err := c.Forget(ctx, mona, w.a, host.PermLocation); err != nil {
			t.Fatal(err)
		}
		if d, _, _ := c.Decision(ctx, mona, w.a, host.PermLocation); d {
			t.Errorf("forgotten decision still there")
		}
		if err := c.Decide(ctx, mona, w.a, "microphone", true); openmini.ErrorCode(err) != openmini.EINVALID {
			t.Errorf("unknown permission: %v", err)
		}
		if err := c.Decide(ctx, mona, "mpnosuchapp", host.PermLocation, true); openmini.ErrorCode(err) != openmini.ENOTFOUND {
			t.Errorf("unknown app: %v", err)
		}
	})
}

func TestReportsAreAuditedAndLimited(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		r := host.NewReports(db, w.apps, w.limit)
		dev := host.DeviceOwner(strings.Repeat("ef", 16))
		bad := []host.Report{
			{AppID: w.a, Reason: "boring"},
			{AppID: w.a, Reason: "other", Note: strings.Repeat("é", host.MaxReportNote+1)},
		}
		for _, b := range bad {
			if err := r.Submit(ctx, dev, b); openmini.ErrorCode(err) != openmini.EINVALID {
				t.Errorf("%+v: %v", b, err)
			}
		}
		if err := r.Submit(ctx, dev, host.Report{AppID: "mpnosuchapp", Reason: "fraud"}); openmini.ErrorCode(err) != openmini.ENOTFOUND {
			t.Errorf("unknown app: %v", err)
		}
		for i := 0; i < host.ReportsPerHour; i++ {
			if err := r.Submit(ctx, dev, host.Report{AppID: w.a, Reason: "fraud", Note: "asks for my bank PIN", Page: "pages/pay", Version: "1.2.0"}); err != nil {
				t.Fatalf("report %d: %v", i, err)
			}
		}
		if err := r.Submit(ctx, dev, host.Report{AppID: w.b, Reason: "broken"}); openmini.ErrorCode(err) != openmini.ERATELIMITED {
			t.Errorf("report past the limit: %v", err)
		}
		entries, err := audit.List(ctx, db, audit.Filter{AppID: w.a})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			if e.Action != "app.report" {
				continue
			}
			n++
			var d map[string]string
			json.Unmarshal([]byte(e.Detail), &d)
			if d["reason"] != "fraud" || d["note"] != "asks for my bank PIN" || d["page"] != "pages/pay" || d["version"] != "1.2.0" || e.ActorID != 0 || e.OrgID == 0 {
				t.Errorf("entry: %+v %v", e, d)
			}
		}
		if n != host.ReportsPerHour {
			t.Errorf("%d report entries", n)
		}
	})
}

func testenvLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
