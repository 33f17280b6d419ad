package discovery

import (
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

func viewIDs(vs []ChannelView) []string {
	return ids(vs, func(v ChannelView) string { return v.Slug + ":" + joinIDs(cardIDs(v.Apps)) })
}

func joinIDs(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func TestChannels(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		for _, id := range []string{"noodles", "dumplings", "metro", "bus", "chess", "go"} {
			f.index(Doc{AppID: id, Name: id, Games: id == "chess" || id == "go"})
		}
		mk := func(in ChannelInput) Channel {
			t.Helper()
			c, err := f.svc.CreateChannel(f.ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		food := mk(ChannelInput{Slug: "food", TitleEN: "Food near you", TitleZH: "附近美食"})
		transport := mk(ChannelInput{Slug: "transport", TitleEN: "Transport", TitleZH: "出行"})
		games := mk(ChannelInput{Slug: "games", TitleEN: "Games", TitleZH: "小游戏", Games: true})
		// A festival channel shown for one week, starting tomorrow.
		fest := mk(ChannelInput{Slug: "festival", TitleEN: "Spring Festival", TitleZH: "春节",
			StartsAt: t0.Add(24 * time.Hour), EndsAt: t0.Add(8 * 24 * time.Hour)})
		add := func(ch Channel, app string, in EntryInput) {
			t.Helper()
			if err := f.svc.AddToChannel(f.ctx, ch.ID, app, in); err != nil {
				t.Fatal(err)
			}
		}
		add(food, "noodles", EntryInput{})
		add(food, "dumplings", EntryInput{})
		add(transport, "metro", EntryInput{})
		add(transport, "bus", EntryInput{StartsAt: t0.Add(2 * time.Hour)}) // a promotion starting later today
		add(games, "chess", EntryInput{})
		add(games, "go", EntryInput{})
		add(fest, "dumplings", EntryInput{})
		add(food, "noodles", EntryInput{}) // again: stays where it is

		home := func() []string {
			t.Helper()
			v, err := f.svc.HomeChannels(f.ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			return viewIDs(v)
		}
		want := []string{"food:noodles,dumplings", "transport:metro", "games:chess,go"}
		if got := home(); !eq(got, want) {
			t.Fatalf("home = %v, want %v", got, want)
		}
		// Games switched off: the games channel and game apps disappear.
		f.games = false
		if got := home(); !eq(got, want[:2]) {
			t.Errorf("without games: %v", got)
		}
		f.games = true
		// Later today the bus promotion starts; tomorrow the festival.
		f.clock.Set(t0.Add(3 * time.Hour))
		if got := home(); !eq(got, []string{"food:noodles,dumplings", "transport:metro,bus", "games:chess,go"}) {
			t.Errorf("after the bus entry starts: %v", got)
		}
		f.clock.Set(t0.Add(25 * time.Hour))
		if got := home(); len(got) != 4 || got[3] != "festival:dumplings" {
			t.Errorf("during the festival: %v", got)
		}
		// The operator moves the festival first and promotes dumplings.
		if err := f.svc.MoveChannel(f.ctx, fest.ID, 1); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.PromoteEntry(f.ctx, food.ID, "dumplings"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.PromoteEntry(f.ctx, food.ID, "dumplings"); err != nil { // already first
			t.Fatal(err)
		}
		if err := f.svc.DemoteEntry(f.ctx, transport.ID, "bus"); err != nil { // already last
			t.Fatal(err)
		}
		want = []string{"festival:dumplings", "food:dumplings,noodles", "transport:metro,bus", "games:chess,go"}
		if got := home(); !eq(got, want) {
			t.Errorf("after moves: %v, want %v", got, want)
		}
		// After the festival ends it is gone again.
		f.clock.Set(t0.Add(9 * 24 * time.Hour))
		if got := home(); !eq(got, want[1:]) {
			t.Errorf("after the festival: %v", got)
		}
		// An app removed from discovery leaves every channel; the operator
		// still sees it, marked not visible.
		f.svc.RemoveFromDiscovery(f.ctx, "noodles", "")
		if got := home(); !eq(got, []string{"food:dumplings", "transport:metro,bus", "games:chess,go"}) {
			t.Errorf("after removing noodles: %v", got)
		}
		c, err := f.svc.Channel(f.ctx, food.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Entries) != 2 || c.Entries[1].AppID != "noodles" || c.Entries[1].Visible || !c.Entries[0].Visible || !c.Live {
			t.Errorf("operator view: %+v", c)
		}
		all, _ := f.svc.ListChannels(f.ctx)
		if got := ids(all, func(c Channel) string { return c.Slug }); !eq(got, []string{"festival", "food", "transport", "games"}) {
			t.Errorf("operator list: %v", got)
		}
		if all[0].Live {
			t.Error("ended festival reported live")
		}
		// See all.
		v, err := f.svc.ChannelView(f.ctx, "transport")
		if err != nil || !eq(cardIDs(v.Apps), []string{"metro", "bus"}) || v.TitleZH != "出行" {
			t.Errorf("channel view: %+v %v", v, err)
		}
		_, err = f.svc.ChannelView(f.ctx, "festival")
		wantCode(t, err, openmini.ENOTFOUND)
		// Remove an entry; delete a channel; positions close up.
		if err := f.svc.RemoveFromChannel(f.ctx, transport.ID, "metro"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteChannel(f.ctx, fest.ID); err != nil {
			t.Fatal(err)
		}
		all, _ = f.svc.ListChannels(f.ctx)
		for i, c := range all {
			if c.Position != i+1 {
				t.Errorf("channel %s at position %d, want %d", c.Slug, c.Position, i+1)
			}
		}
		if tr := all[1]; len(tr.Entries) != 1 || tr.Entries[0].Position != 1 {
			t.Errorf("transport entries: %+v", tr.Entries)
		}
		// Errors.
		_, err = f.svc.CreateChannel(f.ctx, ChannelInput{Slug: "food", TitleEN: "x", TitleZH: "x"})
		wantCode(t, err, openmini.ECONFLICT)
		_, err = f.svc.CreateChannel(f.ctx, ChannelInput{Slug: "Bad Slug", TitleEN: "x", TitleZH: "x"})
		wantCode(t, err, openmini.EINVALID)
		_, err = f.svc.CreateChannel(f.ctx, ChannelInput{Slug: "x", TitleEN: "x"})
		wantCode(t, err, openmini.EINVALID)
		_, err = f.svc.CreateChannel(f.ctx, ChannelInput{Slug: "x", TitleEN: "x", TitleZH: "x", StartsAt: t0, EndsAt: t0})
		wantCode(t, err, openmini.EINVALID)
		wantCode(t, f.svc.AddToChannel(f.ctx, food.ID, "ghost", EntryInput{}), openmini.ENOTFOUND)
		wantCode(t, f.svc.AddToChannel(f.ctx, 9999, "metro", EntryInput{}), openmini.ENOTFOUND)
		wantCode(t, f.svc.MoveEntry(f.ctx, food.ID, "metro", 1), openmini.ENOTFOUND)
		wantCode(t, f.svc.DeleteChannel(f.ctx, 9999), openmini.ENOTFOUND)
		_, err = f.svc.UpdateChannel(f.ctx, food.ID, ChannelInput{Slug: "games", TitleEN: "x", TitleZH: "x"})
		wantCode(t, err, openmini.ECONFLICT)
		up, err := f.svc.UpdateChannel(f.ctx, food.ID, ChannelInput{Slug: "eat", TitleEN: "Eat", TitleZH: "吃"})
		if err != nil || up.Slug != "eat" || up.Position != 1 || len(up.Entries) != 2 {
			t.Errorf("update: %+v %v", up, err)
		}
	})
}
