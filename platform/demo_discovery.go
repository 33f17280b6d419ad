package platform

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/discovery"
)

// The demo's traffic distribution: three channels on the home page ("Food
// near you" with the restaurant, "Games" with the game, "Tools" with the
// bill splitter), two weeks of launches by a few diners (so trending,
// "people who use X also use Y" and the developer's analytics show
// something), and a habit for the demo user (the restaurant most
// evenings), then one refresh so recommendations are ready at once.

// demoChannels are the home page's channels and their apps (demo keys).
var demoChannels = []struct {
	slug, en, zh string
	games        bool
	apps         []string
}{
	{"food-near-you", "Food near you", "附近美食", false, []string{"noodles"}},
	{"games", "Games", "小游戏", true, []string{"game"}},
	{"tools", "Tools", "实用工具", false, []string{"tipsplit"}},
}

// seedDemoDiscovery builds the demo's channels and history; see above.
func (p *Platform) seedDemoDiscovery(ctx context.Context, w *demoWorld) error {
	// The restaurant was released before its merchant linked it: index
	// again, so search knows the shop and "nearby" its place.
	if err := p.ReindexDiscovery(ctx); err != nil {
		return fmt.Errorf("discovery index: %w", err)
	}
	for _, c := range demoChannels {
		ch, err := p.Discovery.CreateChannel(ctx, discovery.ChannelInput{Slug: c.slug, TitleEN: c.en, TitleZH: c.zh, Games: c.games})
		if err != nil {
			return fmt.Errorf("channel %s: %w", c.slug, err)
		}
		for _, k := range c.apps {
			if a, ok := w.apps[k]; ok {
				if err := p.Discovery.AddToChannel(ctx, ch.ID, a.ID, discovery.EntryInput{}); err != nil {
					return fmt.Errorf("channel %s: %w", c.slug, err)
				}
			}
		}
	}

	// Diners who used the mini programs over the last two weeks: most
	// came to the restaurant from its table codes, many also split the
	// bill; some play the game.
	rnd := rand.New(rand.NewPCG(9, 88)) // the same history on every demo
	now := time.Now().UTC()
	noodles, game, tips := w.apps["noodles"].ID, w.apps["game"].ID, w.apps["tipsplit"].ID
	launch := func(acct int64, appID string, scene discovery.Scene, at time.Time, seconds int) error {
		id, err := p.Discovery.RecordLaunch(ctx, discovery.Launch{AccountID: acct, AppID: appID, Scene: scene, At: at})
		if err == nil && seconds > 0 {
			err = p.Discovery.RecordSession(ctx, discovery.Session{LaunchID: id, AccountID: acct, Foreground: time.Duration(seconds) * time.Second})
		}
		return err
	}
	for i := 1; i <= 6; i++ {
		d, err := p.Accounts.Create(ctx, p.DB, account.NewAccount{Email: fmt.Sprintf("diner%d@demo.openmini.dev", i),
			Name: fmt.Sprintf("Diner %d", i), Password: demoPassword()})
		if err != nil {
			return fmt.Errorf("demo diner: %w", err)
		}
		for day := 13; day >= 0; day-- {
			if rnd.IntN(3) == 0 {
				continue // not every day
			}
			at := now.AddDate(0, 0, -day).Truncate(24 * time.Hour).Add(time.Duration(11+rnd.IntN(10)) * time.Hour)
			if at.After(now) {
				at = now.Add(-time.Duration(1+rnd.IntN(60)) * time.Minute)
			}
			scene := []discovery.Scene{discovery.SceneQR, discovery.SceneQR, discovery.SceneSearch, discovery.SceneRecent, discovery.SceneChannel}[rnd.IntN(5)]
			if err := launch(d.ID, noodles, scene, at, 60+rnd.IntN(400)); err != nil {
				return err
			}
			if rnd.IntN(2) == 0 {
				if err := launch(d.ID, tips, discovery.SceneMiniProgram, at.Add(20*time.Minute), 30+rnd.IntN(90)); err != nil {
					return err
				}
			}
			if i%3 == 0 {
				if err := launch(d.ID, game, discovery.SceneChannel, at.Add(3*time.Hour), 120+rnd.IntN(600)); err != nil {
					return err
				}
			}
		}
		// Someone who opened the restaurant's link without signing in.
		if err := launch(0, noodles, discovery.SceneShare, now.Add(-time.Duration(i)*time.Hour), 0); err != nil {
			return err
		}
	}
	// The demo user: dinner at the noodle bar three evenings this week.
	if len(w.users) > 0 {
		u := w.users[0].ID
		for day := 3; day >= 1; day-- {
			if err := launch(u, noodles, discovery.SceneQR, now.AddDate(0, 0, -day).Truncate(24*time.Hour).Add(19*time.Hour), 600); err != nil {
				return err
			}
		}
	}
	if err := p.Discovery.Refresh(ctx); err != nil {
		return fmt.Errorf("discovery refresh: %w", err)
	}
	w.lines = append(w.lines, "Demo discovery: the home page has channels (Food near you, Games, Tools); search 面馆 or noodles;",
		"  the demo user gets recommendations with reasons, the developer analytics under Analytics.")
	return nil
}
