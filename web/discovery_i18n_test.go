package web

import (
	"testing"

	"github.com/openmini/openmini/discovery"
)

// TestDiscoveryStringsFromGoAreTranslated covers the words discovery's Go
// code puts on pages (reasons, sources, chart titles, titles, messages),
// which the template test cannot see, and checks the reasons read right
// in both languages.
func TestDiscoveryStringsFromGoAreTranslated(t *testing.T) {
	zh := catalogs["zh-Hans"]
	msgs := []string{"Discovery", "Analytics", "Search is not available right now. Try again in a moment.",
		"sign in to hide recommendations", "sign in to keep favourites", "sign in to keep a list of recent mini programs",
		"reason: say why the mini program leaves discovery (the developers read it)"}
	for _, m := range dayPartReasons {
		msgs = append(msgs, m)
	}
	for _, m := range reasonTexts {
		msgs = append(msgs, m)
	}
	msgs = append(msgs, otherReasonTexts...)
	msgs = append(msgs, chartTitles...)
	msgs = append(msgs, chartSeriesNames...)
	for _, sc := range discovery.Scenes {
		l, ok := sceneLabels[sc]
		if !ok {
			t.Errorf("scene %s has no label", sc)
		}
		msgs = append(msgs, l)
	}
	for _, m := range msgs {
		if zh[m] == "" {
			t.Errorf("%q has no zh-Hans translation", m)
		}
	}

	cats := map[string]string{"food": "餐饮美食"}
	for _, c := range []struct {
		lang string
		r    discovery.Reason
		want string
	}{
		{"en", discovery.Reason{Kind: discovery.ReasonAlsoUsed, AppName: "Corner Coffee"}, "Because you use Corner Coffee"},
		{"zh-Hans", discovery.Reason{Kind: discovery.ReasonAlsoUsed, AppName: "街角咖啡"}, "因为你在用「街角咖啡」"},
		{"zh-Hans", discovery.Reason{Kind: discovery.ReasonSpending, Category: "food"}, "你常在「餐饮美食」消费"},
		{"en", discovery.Reason{Kind: discovery.ReasonSpending, Category: "hotel"}, "You often pay for hotel"},
		{"en", discovery.Reason{Kind: discovery.ReasonNearby, DistanceM: 1234}, "Nearby: 1.2 km away"},
		{"en", discovery.Reason{Kind: discovery.ReasonNearby, DistanceM: 346}, "Nearby: 350 m away"},
		{"zh-Hans", discovery.Reason{Kind: discovery.ReasonNearby, DistanceM: 346}, "附近，距你350米"},
		{"zh-Hans", discovery.Reason{Kind: discovery.ReasonTimeOfDay, DayPart: "morning"}, "你常在早上使用"},
		{"en", discovery.Reason{Kind: discovery.ReasonMerchant, Merchant: "Noodle Bar"}, "From Noodle Bar, where you paid"},
		{"en", discovery.Reason{Kind: discovery.ReasonMerchant, AppName: "Noodles"}, "From the shop behind Noodles"},
		{"zh-Hans", discovery.Reason{Kind: discovery.ReasonTrending, Rank: 2}, "正在流行"},
		{"en", discovery.Reason{Kind: "unheard_of"}, "Recommended for you"},
	} {
		if got := reasonText(c.lang, c.r, cats); got != c.want {
			t.Errorf("reason %+v in %s: %q, want %q", c.r, c.lang, got, c.want)
		}
	}
}
