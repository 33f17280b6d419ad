package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/discovery"
)

// The host's home and "my mini programs" views. The shell (host.html)
// leaves two blocks for them, host_home and host_my;
// templates/host_discovery.tmpl defines both, and extendHostTemplates
// parses it into the host page's template set. The server renders the view
// a URL asks for (/, /?q=..., /my) with its data, so the first screen
// needs no script; host-discovery.js fetches the same fragments from
// /host/api/discovery/home and /my when a view is shown again (after a
// launch, with the user's location, with a search), so there is one
// renderer.

// hostHome is what the two blocks show.
type hostHome struct {
	View     string // om-home or om-my: the block it fills
	SignedIn bool
	// Home view.
	Query     string
	Result    *discovery.SearchResult
	Problem   string // a search that could not run, in English (the template translates it)
	Channels  []homeChannel
	Recs      []homeRec
	Nearby    bool // the recommendations used the user's location
	Recent    []discovery.MyApp
	MoreQuery string // the next page's search, "" without one
	// "My mini programs" view.
	My *discovery.MyApps
}

// homeChannel is a channel in the page's language.
type homeChannel struct {
	Slug  string
	Title string
	Apps  []discovery.AppCard
}

// homeRec is a recommendation with its reason rendered in the page's
// language.
type homeRec struct {
	discovery.AppCard
	Kind   string
	Reason string
}

// For is h when it fills view's block, else nil (the block then waits
// for the script to load it).
func (h *hostHome) For(view string) *hostHome {
	if h == nil || h.View != view {
		return nil
	}
	return h
}

// Open is the launch link of an app from one of the home's lists, with
// the scene the launch is recorded with.
func (*hostHome) Open(appID, scene string) string {
	return "/app/" + url.PathEscape(appID) + "/?om_scene=" + url.QueryEscape(scene)
}

// Snippet is the start of a description, for a result line.
func (*hostHome) Snippet(s string) string {
	const n = 90
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// extendHostTemplates parses the home and "my mini programs" blocks into
// the host page's templates. A template that does not parse is a
// programming error, found by every test that starts a server.
func (s *Server) extendHostTemplates() {
	if t, ok := s.tmpl.pages["host"]; ok {
		template.Must(t.ParseFS(templateFS, "templates/host_discovery.tmpl"))
	}
}

// hostViewData is what a host view rendered by the server shows (host.go
// calls it for /, /my and the other views): the home view's lists, or
// "my mini programs". Views that are not discovery's get nil.
func (s *Server) hostViewData(r *http.Request, view string) any {
	if s.discovery == nil {
		return nil
	}
	switch view {
	case "om-home":
		return s.loadHostHome(r, nil)
	case "om-my":
		return s.loadHostMy(r)
	}
	return nil
}

// loadHostHome gathers the home view: a search's results (?q=), else the
// user's recent mini programs, recommendations (nearby ones when loc is
// given) and the operator's channels. A part that fails is logged and
// left out, so the home page always opens.
func (s *Server) loadHostHome(r *http.Request, loc *discovery.Point) *hostHome {
	ctx := r.Context()
	lang := requestLang(r)
	a, signed := accountFrom(ctx)
	h := &hostHome{View: "om-home", SignedIn: signed, Nearby: loc != nil}
	warn := func(what string, err error) {
		s.log.WarnContext(ctx, "discovery: home view", "part", what, "err", err)
	}
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" {
		h.Query = q
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		res, err := s.discovery.Search(ctx, discovery.SearchQuery{Text: q, Limit: 20, Offset: max(0, min(offset, 100))})
		switch openmini.ErrorCode(err) {
		case "":
			h.Result = &res
			if res.More && offset+20 <= 100 {
				h.MoreQuery = "/?q=" + url.QueryEscape(q) + "&offset=" + strconv.Itoa(offset+20)
			}
		case openmini.EINVALID, openmini.ETOOLARGE:
			h.Problem = errMessage(err)
		default:
			warn("search", err)
			h.Problem = "Search is not available right now. Try again in a moment."
		}
		return h
	}
	if signed {
		rec, err := s.discovery.Recent(ctx, a.ID, 8)
		if err != nil {
			warn("recent", err)
		}
		h.Recent = rec
	}
	recs, err := s.discovery.Recommend(ctx, discovery.RecommendRequest{AccountID: a.ID, At: nowIn(userLocation(r)), Location: loc, Limit: 8})
	if err != nil {
		warn("recommendations", err)
	}
	if len(recs) > 0 {
		names := s.categoryNames(r, lang)
		for _, rc := range recs {
			h.Recs = append(h.Recs, homeRec{AppCard: rc.AppCard, Kind: string(rc.Reason.Kind), Reason: reasonText(lang, rc.Reason, names)})
		}
	}
	chans, err := s.discovery.HomeChannels(ctx, 12)
	if err != nil {
		warn("channels", err)
	}
	for _, c := range chans {
		title := c.TitleEN
		if lang == "zh-Hans" && c.TitleZH != "" {
			title = c.TitleZH
		}
		h.Channels = append(h.Channels, homeChannel{Slug: c.Slug, Title: title, Apps: c.Apps})
	}
	return h
}

// loadHostMy gathers "my mini programs" for a signed-in user.
func (s *Server) loadHostMy(r *http.Request) *hostHome {
	a, ok := accountFrom(r.Context())
	h := &hostHome{View: "om-my", SignedIn: ok}
	if !ok {
		return h
	}
	my, err := s.discovery.MyApps(r.Context(), a.ID)
	if err != nil {
		s.log.WarnContext(r.Context(), "discovery: my mini programs", "err", err)
		return h
	}
	h.My = &my
	return h
}

// nowIn is the time now in the user's time zone.
func nowIn(loc *time.Location) time.Time { return time.Now().In(loc) }

// categoryNames maps category slugs to their names in lang, for reasons.
func (s *Server) categoryNames(r *http.Request, lang string) map[string]string {
	out := map[string]string{}
	cats, err := s.policy.Categories(r.Context(), true)
	if err != nil {
		return out
	}
	for _, c := range cats {
		out[c.Slug] = c.Name(lang)
	}
	return out
}

// Reason texts. Each is translated in zh-Hans.discovery.json.
var (
	dayPartReasons = map[string]string{
		"morning":   "You often use it in the morning",
		"afternoon": "You often use it in the afternoon",
		"evening":   "You often use it in the evening",
		"night":     "You often use it at night",
	}
	reasonTexts = map[discovery.ReasonKind]string{
		discovery.ReasonFrequent: "You use it often",
		discovery.ReasonAlsoUsed: "Because you use %s",
		discovery.ReasonSpending: "You often pay for %s",
		discovery.ReasonMerchant: "From %s, where you paid",
		discovery.ReasonNearby:   "Nearby: %s away",
		discovery.ReasonTrending: "Trending now",
		discovery.ReasonPopular:  "Popular",
	}
	otherReasonTexts = []string{"From the shop behind %s", "Recommended for you", "%d m", "%.1f km"}
)

// reasonText renders a recommendation's reason for a person, with the
// category's name in their language.
func reasonText(lang string, r discovery.Reason, categories map[string]string) string {
	switch r.Kind {
	case discovery.ReasonTimeOfDay:
		if t, ok := dayPartReasons[r.DayPart]; ok {
			return translate(lang, t)
		}
		return translate(lang, reasonTexts[discovery.ReasonFrequent])
	case discovery.ReasonAlsoUsed:
		return translate(lang, reasonTexts[r.Kind], r.AppName)
	case discovery.ReasonSpending:
		name := categories[r.Category]
		if name == "" {
			name = r.Category
		}
		return translate(lang, reasonTexts[r.Kind], name)
	case discovery.ReasonMerchant:
		if r.Merchant == "" {
			return translate(lang, "From the shop behind %s", r.AppName)
		}
		return translate(lang, reasonTexts[r.Kind], r.Merchant)
	case discovery.ReasonNearby:
		d := translate(lang, "%d m", (r.DistanceM+5)/10*10)
		if r.DistanceM >= 1000 {
			d = translate(lang, "%.1f km", float64(r.DistanceM)/1000)
		}
		return translate(lang, reasonTexts[r.Kind], d)
	}
	if t, ok := reasonTexts[r.Kind]; ok {
		return translate(lang, t)
	}
	return translate(lang, "Recommended for you")
}

// renderHostFragment renders one of the discovery blocks for the shell.
func (s *Server) renderHostFragment(w http.ResponseWriter, r *http.Request, block string, h *hostHome) {
	v := s.newView(r, "OpenMini", &hostData{Discovery: h})
	var buf bytes.Buffer
	if err := s.tmpl.pages["host"].ExecuteTemplate(&buf, block, v); err != nil {
		s.renderError(w, r, fmt.Errorf("render %s: %w", block, err))
		return
	}
	writeJSON(w, http.StatusOK, HostFragment{HTML: buf.String()})
}

// HostFragment is a server-rendered part of a host view.
type HostFragment struct {
	HTML string `json:"html"`
}

// handleDiscoveryHome answers the home view's body: ?q= searches;
// ?lat=&lng= (decimal degrees, when the user shared their location) adds
// nearby recommendations.
func (s *Server) handleDiscoveryHome(w http.ResponseWriter, r *http.Request) {
	var loc *discovery.Point
	q := r.URL.Query()
	if q.Get("lat") != "" || q.Get("lng") != "" {
		lat, err1 := strconv.ParseFloat(q.Get("lat"), 64)
		lng, err2 := strconv.ParseFloat(q.Get("lng"), 64)
		if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
			s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "lat, lng: %q, %q are not a position in degrees", q.Get("lat"), q.Get("lng")))
			return
		}
		p := discovery.Degrees(lat, lng)
		loc = &p
	}
	s.renderHostFragment(w, r, "host_home", s.loadHostHome(r, loc))
}

// handleDiscoveryMy answers the "my mini programs" view's body.
func (s *Server) handleDiscoveryMy(w http.ResponseWriter, r *http.Request) {
	s.renderHostFragment(w, r, "host_my", s.loadHostMy(r))
}

// SuggestResponse lists the apps suggested for what was typed.
type SuggestResponse struct {
	Apps []discovery.AppCard `json:"apps"`
}

// handleDiscoverySuggest answers the search box's suggestions.
func (s *Server) handleDiscoverySuggest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if utf8.RuneCountInString(q) > 100 {
		s.renderError(w, r, openmini.Errorf(openmini.ETOOLARGE, "q: at most 100 characters"))
		return
	}
	apps, err := s.discovery.Suggest(r.Context(), q, 8)
	if apps == nil {
		apps = []discovery.AppCard{}
	}
	s.respond(w, r, http.StatusOK, SuggestResponse{Apps: apps}, err)
}
