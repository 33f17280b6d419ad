package discovery

import (
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

// TestRemovedAppsAndDocuments: the operator's list of removed apps, most
// recent first, and the document count the platform checks at start.
func TestRemovedAppsAndDocuments(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		if n, err := f.svc.Documents(f.ctx); err != nil || n != 0 {
			t.Fatalf("documents of an empty index: %d, %v", n, err)
		}
		for _, id := range []string{"aaa", "bbb", "ccc"} {
			f.index(Doc{AppID: id, Name: "App " + id})
		}
		if n, _ := f.svc.Documents(f.ctx); n != 3 {
			t.Fatalf("documents: %d, want 3", n)
		}
		if err := f.svc.RemoveFromDiscovery(f.ctx, "aaa", "spam"); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(time.Second)
		if err := f.svc.RemoveFromDiscovery(f.ctx, "ccc", "copycat"); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.RemovedApps(f.ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].AppID != "ccc" || got[0].RemovedReason != "copycat" || got[1].AppID != "aaa" || !got[1].Removed {
			t.Fatalf("removed apps: %+v", got)
		}
		if err := f.svc.RestoreToDiscovery(f.ctx, "ccc"); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.RemovedApps(f.ctx, 10); len(got) != 1 || got[0].AppID != "aaa" {
			t.Fatalf("removed apps after a restore: %+v", got)
		}
	})
}

// TestRecordScanTx: a scan recorded inside the caller's transaction
// commits and rolls back with it, and a bad reference is an error that
// leaves the transaction usable (PostgreSQL aborts a transaction on a
// failed statement).
func TestRecordScanTx(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.index(Doc{AppID: "shop", Name: "Shop"})
		user := f.account("u")
		count := func() int {
			var n int
			if err := db.QueryRow(f.ctx, `SELECT COUNT(*) FROM discovery_scans`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		err := db.WithTx(f.ctx, func(tx *sqldb.Tx) error {
			if err := f.svc.RecordScanTx(f.ctx, tx, Scan{AppID: "nope", QRSlug: "s1", At: t0}); openmini.ErrorCode(err) != openmini.ENOTFOUND {
				t.Errorf("scan of a missing app: %v", err)
			}
			if err := f.svc.RecordScanTx(f.ctx, tx, Scan{AppID: "shop", QRSlug: "s1", AccountID: user + 100, At: t0}); openmini.ErrorCode(err) != openmini.ENOTFOUND {
				t.Errorf("scan by a missing account: %v", err)
			}
			return f.svc.RecordScanTx(f.ctx, tx, Scan{AppID: "shop", QRSlug: "s1", AccountID: user, At: t0})
		})
		if err != nil || count() != 1 {
			t.Fatalf("scan in a committed transaction: %v, %d rows", err, count())
		}
		_ = db.WithTx(f.ctx, func(tx *sqldb.Tx) error {
			if err := f.svc.RecordScanTx(f.ctx, tx, Scan{AppID: "shop", QRSlug: "s2", At: t0}); err != nil {
				t.Fatal(err)
			}
			return openmini.Errorf(openmini.ECONFLICT, "roll back")
		})
		if count() != 1 {
			t.Fatalf("a rolled back scan stayed: %d rows", count())
		}
	})
}
