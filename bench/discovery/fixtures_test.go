package discoverybench

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

// TestFixtures loads a small fixture on both databases and checks that it
// is consistent with what the service would have recorded, and that the
// benchmarked calls find something, so the benchmarks never measure empty
// answers.
func TestFixtures(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := discovery.New(db, discovery.Options{Now: func() time.Time { return Now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		sh := Shape{Apps: 2000, Users: 200, Launches: 6000, Payments: 300, Days: 30}
		if _, err := Load(ctx, db, svc, sh, t.Logf); err != nil {
			t.Fatal(err)
		}
		var launches, perApp, perUser int64
		db.QueryRow(ctx, `SELECT COUNT(*) FROM discovery_launches`).Scan(&launches)
		db.QueryRow(ctx, `SELECT SUM(launches) FROM discovery_apps`).Scan(&perApp)
		db.QueryRow(ctx, `SELECT SUM(launches) FROM discovery_user_apps`).Scan(&perUser)
		if launches != int64(sh.Launches) || perApp != launches || perUser != launches {
			t.Errorf("launches %d, per app %d, per user %d", launches, perApp, perUser)
		}
		for _, q := range []string{"coffee", "咖啡", "cofee", "tea house"} {
			res, err := svc.Search(ctx, discovery.SearchQuery{Text: q})
			if err != nil || len(res.Apps) == 0 {
				t.Errorf("search %q: %d results, %v", q, len(res.Apps), err)
			}
		}
		recs, err := svc.Recommend(ctx, discovery.RecommendRequest{AccountID: 1, At: Now, Location: &Centre})
		if err != nil || len(recs) == 0 {
			t.Errorf("recommend: %v, %v", recs, err)
		}
	})
}
