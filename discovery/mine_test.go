package discovery

import (
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

func TestRecentAndFavourites(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		for _, id := range []string{"a", "b", "c", "game"} {
			f.index(Doc{AppID: id, Name: "App " + id, Games: id == "game"})
		}
		u, other := f.account("u"), f.account("other")
		for _, id := range []string{"a", "b", "c", "a", "game"} {
			f.clock.Add(time.Minute)
			f.launch(u, id, SceneLink)
		}
		f.launch(other, "b", SceneLink)
		recent := func() []string {
			t.Helper()
			r, err := f.svc.Recent(f.ctx, u, 0)
			if err != nil {
				t.Fatal(err)
			}
			return ids(r, func(m MyApp) string { return m.AppID })
		}
		if got := recent(); !eq(got, []string{"game", "a", "c", "b"}) {
			t.Fatalf("recent = %v", got)
		}
		f.games = false
		if got := recent(); !eq(got, []string{"a", "c", "b"}) {
			t.Errorf("recent without games = %v", got)
		}
		f.games = true
		// Switching to b through "recent" moves it to the front.
		f.clock.Add(time.Minute)
		f.launch(u, "b", SceneRecent)
		if got := recent(); !eq(got, []string{"b", "game", "a", "c"}) {
			t.Errorf("after switching to b: %v", got)
		}
		// Removing from recent until launched again.
		if err := f.svc.RemoveRecent(f.ctx, u, "game"); err != nil {
			t.Fatal(err)
		}
		if got := recent(); !eq(got, []string{"b", "a", "c"}) {
			t.Errorf("after removing game: %v", got)
		}
		// Unpublished apps drop out.
		f.svc.RemoveApp(f.ctx, "c")
		if got := recent(); !eq(got, []string{"b", "a"}) {
			t.Errorf("after unpublishing c: %v", got)
		}

		// Favourites.
		f.clock.Add(time.Minute)
		for _, id := range []string{"a", "game", "a"} {
			f.clock.Add(time.Second)
			if err := f.svc.AddFavourite(f.ctx, u, id); err != nil {
				t.Fatal(err)
			}
		}
		my, err := f.svc.MyApps(f.ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		favs := ids(my.Favourites, func(m MyApp) string { return m.AppID })
		if !eq(favs, []string{"game", "a"}) {
			t.Errorf("favourites = %v", favs)
		}
		if !my.Favourites[1].Favourite || my.Favourites[1].LastUsed.IsZero() {
			t.Errorf("favourite a: %+v", my.Favourites[1])
		}
		if my.Recent[1].AppID != "a" || !my.Recent[1].Favourite || my.Recent[0].Favourite {
			t.Errorf("recent favourite flags: %+v", my.Recent)
		}
		wantCode(t, f.svc.AddFavourite(f.ctx, u, "c"), openmini.ENOTFOUND) // unpublished
		wantCode(t, f.svc.AddFavourite(f.ctx, u, "nope"), openmini.ENOTFOUND)
		wantCode(t, f.svc.AddFavourite(f.ctx, 0, "a"), openmini.EINVALID)
		wantCode(t, f.svc.AddFavourite(f.ctx, 9999, "a"), openmini.ENOTFOUND)
		if err := f.svc.RemoveFavourite(f.ctx, u, "game"); err != nil {
			t.Fatal(err)
		}
		favList, _ := f.svc.Favourites(f.ctx, u)
		if got := ids(favList, func(m MyApp) string { return m.AppID }); !eq(got, []string{"a"}) {
			t.Errorf("after removing: %v", got)
		}
		// The other user's lists are their own.
		r, _ := f.svc.Recent(f.ctx, other, 0)
		fo, _ := f.svc.Favourites(f.ctx, other)
		if len(r) != 1 || r[0].AppID != "b" || len(fo) != 0 {
			t.Errorf("other user: recent %v favourites %v", r, fo)
		}
	})
}

func TestFavouritesLimit(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		u := f.account("u")
		var docs []Doc
		for i := 0; i <= maxFavourites; i++ {
			id := "app-" + string(rune('a'+i/26)) + string(rune('a'+i%26))
			f.app(id)
			docs = append(docs, Doc{AppID: id, OrgID: f.org, Name: id})
		}
		if err := f.svc.IndexApps(f.ctx, docs); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs[:maxFavourites] {
			if err := f.svc.AddFavourite(f.ctx, u, d.AppID); err != nil {
				t.Fatal(err)
			}
		}
		wantCode(t, f.svc.AddFavourite(f.ctx, u, docs[maxFavourites].AppID), openmini.ETOOLARGE)
		if err := f.svc.AddFavourite(f.ctx, u, docs[0].AppID); err != nil {
			t.Errorf("re-adding an existing favourite at the limit: %v", err)
		}
	})
}

func TestRecordLaunchErrors(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.index(Doc{AppID: "a", Name: "A"})
		u := f.account("u")
		for _, c := range []struct {
			l    Launch
			code string
		}{
			{Launch{AppID: "a", Scene: "teleport"}, openmini.EINVALID},
			{Launch{AppID: "", Scene: SceneQR}, openmini.EINVALID},
			{Launch{AppID: "a", Scene: SceneQR, At: t0.Add(time.Hour)}, openmini.EINVALID},
			{Launch{AppID: "nope", Scene: SceneQR, AccountID: u}, openmini.ENOTFOUND},
			{Launch{AppID: "nope", Scene: SceneQR}, openmini.ENOTFOUND},
			{Launch{AppID: "a", Scene: SceneQR, AccountID: 9999}, openmini.ENOTFOUND},
		} {
			_, err := f.svc.RecordLaunch(f.ctx, c.l)
			wantCode(t, err, c.code)
		}
		// Nothing was half-written by the failures.
		var n int
		db.QueryRow(f.ctx, `SELECT COUNT(*) FROM discovery_launches`).Scan(&n)
		st, _ := f.svc.Status(f.ctx, "a")
		if n != 0 || st.Launches != 0 {
			t.Errorf("%d launches stored, count %d", n, st.Launches)
		}
		id := f.launch(u, "a", SceneQR)
		wantCode(t, f.svc.RecordSession(f.ctx, Session{LaunchID: id, AccountID: u + 1, Foreground: time.Second}), openmini.ENOTFOUND)
		wantCode(t, f.svc.RecordSession(f.ctx, Session{LaunchID: id, AccountID: u, Foreground: -time.Second}), openmini.EINVALID)
		wantCode(t, f.svc.RecordPayment(f.ctx, u, "a", "food", 0, t0), openmini.EINVALID)
		wantCode(t, f.svc.RecordPayment(f.ctx, u, "nope", "food", 100, t0), openmini.ENOTFOUND)
		wantCode(t, f.svc.RecordScan(f.ctx, Scan{AppID: "a"}), openmini.EINVALID)
	})
}
