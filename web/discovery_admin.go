package web

import (
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/discovery"
)

// The operator console's discovery pages (admins only): what is trending,
// the home page's channels (create, order, schedule, add, remove, promote
// and demote apps), and taking an app out of discovery or back. Every
// change goes to the audit log (actions discovery.*).

func init() {
	adminTabs = append(adminTabs, tabDef{"discovery", "/discovery", "Discovery"})
	maps.Copy(flashes, map[string]string{
		"channel-created": "Channel created.",
		"channel-saved":   "Channel saved.",
		"channel-deleted": "Channel deleted.",
		"channel-moved":   "Channel moved.",
		"entry-added":     "Mini program added to the channel.",
		"entry-moved":     "Order changed.",
		"entry-removed":   "Mini program taken out of the channel.",
		"app-removed":     "The mini program no longer appears in search, channels, recommendations or the directory.",
		"app-restored":    "The mini program appears in discovery again.",
		"refreshed":       "Trending and related mini programs recomputed.",
	})
}

// routesDiscoveryAdmin: /admin/discovery and below.
func (s *Server) routesDiscoveryAdmin(mux *http.ServeMux) {
	admin := func(h http.HandlerFunc) http.HandlerFunc { return s.requireStaff(h, account.RoleAdmin) }
	mux.HandleFunc("GET /admin/discovery", admin(s.adminDiscovery))
	mux.HandleFunc("POST /admin/discovery/refresh", admin(s.adminDiscoveryRefresh))
	mux.HandleFunc("POST /admin/discovery/channels", admin(s.adminChannelCreate))
	mux.HandleFunc("GET /admin/discovery/channels/{channelID}", admin(s.adminChannel))
	mux.HandleFunc("POST /admin/discovery/channels/{channelID}", admin(s.adminChannelSave))
	mux.HandleFunc("POST /admin/discovery/channels/{channelID}/delete", admin(s.adminChannelDelete))
	mux.HandleFunc("POST /admin/discovery/channels/{channelID}/move", admin(s.adminChannelMove))
	mux.HandleFunc("POST /admin/discovery/channels/{channelID}/apps", admin(s.adminEntryAdd))
	mux.HandleFunc("POST /admin/discovery/channels/{channelID}/apps/{appID}/{action}", admin(s.adminEntryChange))
	mux.HandleFunc("POST /admin/discovery/apps/{appID}/remove", admin(s.adminAppRemove))
	mux.HandleFunc("POST /admin/discovery/apps/{appID}/restore", admin(s.adminAppRestore))
}

// channelForm is the channel form's fields as text.
type channelForm struct {
	Slug, TitleEN, TitleZH, StartsAt, EndsAt string
	Games                                    bool
}

// formTime is the value of a datetime-local field in UTC.
func formTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04")
}

// parseFormTime reads a datetime-local field in UTC; empty is zero.
func parseFormTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, openmini.Errorf(openmini.EINVALID, "%s: %q is not a date and time like 2025-01-31T09:00", field, v)
}

func (f channelForm) input() (discovery.ChannelInput, error) {
	in := discovery.ChannelInput{Slug: strings.TrimSpace(f.Slug), TitleEN: strings.TrimSpace(f.TitleEN), TitleZH: strings.TrimSpace(f.TitleZH), Games: f.Games}
	var err error
	if in.StartsAt, err = parseFormTime("starts_at", f.StartsAt); err != nil {
		return in, err
	}
	in.EndsAt, err = parseFormTime("ends_at", f.EndsAt)
	return in, err
}

func readChannelForm(r *http.Request) channelForm {
	return channelForm{Slug: r.PostFormValue("slug"), TitleEN: r.PostFormValue("title_en"), TitleZH: r.PostFormValue("title_zh"),
		StartsAt: r.PostFormValue("starts_at"), EndsAt: r.PostFormValue("ends_at"), Games: r.PostFormValue("games") == "1"}
}

// adminDiscoveryData is the overview page.
type adminDiscoveryData struct {
	adminBase
	Trending []discovery.TrendingApp
	Channels []discovery.Channel
	Removed  []discovery.AppStatus
	Form     channelForm
	// Find: ?app= an app ID or words.
	Find    string
	Found   []discovery.AppStatus
	Missing bool // nothing matched Find
}

func (s *Server) loadAdminDiscovery(r *http.Request) (*adminDiscoveryData, error) {
	ctx := r.Context()
	d := &adminDiscoveryData{adminBase: adminNav(r, "discovery")}
	var err error
	if d.Trending, err = s.discovery.Trending(ctx, 20); err != nil {
		return nil, err
	}
	if d.Channels, err = s.discovery.ListChannels(ctx); err != nil {
		return nil, err
	}
	if d.Removed, err = s.discovery.RemovedApps(ctx, 50); err != nil {
		return nil, err
	}
	d.Find = strings.TrimSpace(r.URL.Query().Get("app"))
	if d.Find == "" {
		return d, nil
	}
	if app.ValidID(d.Find) {
		st, err := s.discovery.Status(ctx, d.Find)
		if err == nil {
			d.Found = append(d.Found, st)
		} else if openmini.ErrorCode(err) != openmini.ENOTFOUND {
			return nil, err
		}
	}
	if res, err := s.discovery.Search(ctx, discovery.SearchQuery{Text: d.Find, Limit: 10}); err == nil {
		for _, h := range res.Apps {
			if len(d.Found) > 0 && d.Found[0].AppID == h.AppID {
				continue
			}
			if st, err := s.discovery.Status(ctx, h.AppID); err == nil {
				d.Found = append(d.Found, st)
			}
		}
	}
	d.Missing = len(d.Found) == 0
	return d, nil
}

// adminDiscovery is the overview: trending, channels, removed apps and a
// search for one app.
func (s *Server) adminDiscovery(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadAdminDiscovery(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_discovery", s.page(w, r, "Discovery", d))
}

// adminDiscoveryFail re-renders the overview with a refused form's error.
func (s *Server) adminDiscoveryFail(w http.ResponseWriter, r *http.Request, err error, refill func(*adminDiscoveryData)) {
	d, lerr := s.loadAdminDiscovery(r)
	if lerr != nil {
		s.renderError(w, r, lerr)
		return
	}
	if refill != nil {
		refill(d)
	}
	s.renderFormError(w, r, "admin_discovery", s.newView(r, "Discovery", d), err)
}

// auditDiscovery records an operator's change (the change has happened:
// a failure to record it is logged).
func (s *Server) auditDiscovery(r *http.Request, orgID int64, appID, action string, detail map[string]any) {
	if err := audit.Record(r.Context(), s.db, sessionActor(r), orgID, appID, action, detail); err != nil {
		s.log.WarnContext(r.Context(), "discovery: audit record failed", "action", action, "err", err)
	}
}

func (s *Server) adminDiscoveryRefresh(w http.ResponseWriter, r *http.Request) {
	if err := s.discovery.Refresh(r.Context()); err != nil {
		s.adminDiscoveryFail(w, r, err, nil)
		return
	}
	s.done(w, r, "/admin/discovery", "refreshed")
}

func (s *Server) adminChannelCreate(w http.ResponseWriter, r *http.Request) {
	f := readChannelForm(r)
	in, err := f.input()
	var c discovery.Channel
	if err == nil {
		c, err = s.discovery.CreateChannel(r.Context(), in)
	}
	if err != nil {
		s.adminDiscoveryFail(w, r, err, func(d *adminDiscoveryData) { d.Form = f })
		return
	}
	s.auditDiscovery(r, 0, "", "discovery.channel.create", map[string]any{"channel": c.ID, "slug": c.Slug})
	s.done(w, r, "/admin/discovery/channels/"+itoa(c.ID), "channel-created")
}

// adminChannelData is one channel's page.
type adminChannelData struct {
	adminBase
	Channel discovery.Channel
	Form    channelForm
	AddApp  string
	AddFrom string
	AddTo   string
	Count   int // channels, for the position field
}

// When formats an entry's schedule.
func (adminChannelData) When(t time.Time) string { return formTime(t) }

func (s *Server) loadAdminChannel(r *http.Request) (*adminChannelData, error) {
	id, err := pathID(r, "channelID")
	if err != nil {
		return nil, err
	}
	c, err := s.discovery.Channel(r.Context(), id)
	if err != nil {
		return nil, err
	}
	all, err := s.discovery.ListChannels(r.Context())
	if err != nil {
		return nil, err
	}
	return &adminChannelData{adminBase: adminNav(r, "discovery"), Channel: c, Count: len(all),
		Form: channelForm{Slug: c.Slug, TitleEN: c.TitleEN, TitleZH: c.TitleZH, Games: c.Games, StartsAt: formTime(c.StartsAt), EndsAt: formTime(c.EndsAt)}}, nil
}

func (s *Server) adminChannel(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadAdminChannel(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_discovery_channel", s.page(w, r, d.Channel.TitleEN, d))
}

// adminChannelFail re-renders a channel's page with a refused form's error.
func (s *Server) adminChannelFail(w http.ResponseWriter, r *http.Request, err error, refill func(*adminChannelData)) {
	d, lerr := s.loadAdminChannel(r)
	if lerr != nil {
		s.renderError(w, r, lerr)
		return
	}
	if refill != nil {
		refill(d)
	}
	s.renderFormError(w, r, "admin_discovery_channel", s.newView(r, d.Channel.TitleEN, d), err)
}

func channelURL(id int64) string { return "/admin/discovery/channels/" + itoa(id) }

func (s *Server) adminChannelSave(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "channelID")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	f := readChannelForm(r)
	in, err := f.input()
	if err == nil {
		_, err = s.discovery.UpdateChannel(r.Context(), id, in)
	}
	if err != nil {
		s.adminChannelFail(w, r, err, func(d *adminChannelData) { d.Form = f })
		return
	}
	s.auditDiscovery(r, 0, "", "discovery.channel.update", map[string]any{"channel": id, "slug": in.Slug})
	s.done(w, r, channelURL(id), "channel-saved")
}

func (s *Server) adminChannelDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "channelID")
	if err == nil {
		err = s.discovery.DeleteChannel(r.Context(), id)
	}
	if err != nil {
		s.adminDiscoveryFail(w, r, err, nil)
		return
	}
	s.auditDiscovery(r, 0, "", "discovery.channel.delete", map[string]any{"channel": id})
	s.done(w, r, "/admin/discovery", "channel-deleted")
}

func (s *Server) adminChannelMove(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "channelID")
	var pos, delta int
	if err == nil {
		pos, err = formInt(r, "position")
	}
	if err == nil {
		delta, err = formInt(r, "delta")
	}
	if err == nil && delta != 0 {
		// One place up or down from where it is now.
		var c discovery.Channel
		if c, err = s.discovery.Channel(r.Context(), id); err == nil {
			pos = max(1, c.Position+delta)
		}
	}
	if err == nil {
		err = s.discovery.MoveChannel(r.Context(), id, pos)
	}
	if err != nil {
		s.adminDiscoveryFail(w, r, err, nil)
		return
	}
	s.auditDiscovery(r, 0, "", "discovery.channel.move", map[string]any{"channel": id, "position": pos})
	to := "/admin/discovery"
	if r.PostFormValue("back") == "channel" {
		to = channelURL(id)
	}
	s.done(w, r, to, "channel-moved")
}

func (s *Server) adminEntryAdd(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "channelID")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	appID := strings.TrimSpace(r.PostFormValue("app_id"))
	from, to := r.PostFormValue("starts_at"), r.PostFormValue("ends_at")
	var in discovery.EntryInput
	in.StartsAt, err = parseFormTime("starts_at", from)
	if err == nil {
		in.EndsAt, err = parseFormTime("ends_at", to)
	}
	if err == nil && !app.ValidID(appID) {
		err = openmini.Errorf(openmini.EINVALID, "app_id: %q is not a mini program ID", appID)
	}
	if err == nil {
		err = s.discovery.AddToChannel(r.Context(), id, appID, in)
	}
	if err != nil {
		s.adminChannelFail(w, r, err, func(d *adminChannelData) { d.AddApp, d.AddFrom, d.AddTo = appID, from, to })
		return
	}
	s.auditDiscovery(r, 0, appID, "discovery.channel.add", map[string]any{"channel": id})
	s.done(w, r, channelURL(id), "entry-added")
}

// adminEntryChange promotes, demotes, moves or removes one app of a
// channel.
func (s *Server) adminEntryChange(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "channelID")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	ctx, appID, action := r.Context(), r.PathValue("appID"), r.PathValue("action")
	flash := "entry-moved"
	detail := map[string]any{"channel": id}
	switch action {
	case "promote":
		err = s.discovery.PromoteEntry(ctx, id, appID)
	case "demote":
		err = s.discovery.DemoteEntry(ctx, id, appID)
	case "move":
		var pos int
		if pos, err = formInt(r, "position"); err == nil {
			err = s.discovery.MoveEntry(ctx, id, appID, pos)
			detail["position"] = pos
		}
	case "remove":
		err, flash = s.discovery.RemoveFromChannel(ctx, id, appID), "entry-removed"
	default:
		err = openmini.Errorf(openmini.ENOTFOUND, "no channel action %q (promote, demote, move or remove)", action)
	}
	if err != nil {
		s.adminChannelFail(w, r, err, nil)
		return
	}
	s.auditDiscovery(r, 0, appID, "discovery.channel."+action, detail)
	s.done(w, r, channelURL(id), flash)
}

// adminAppRemove takes an app out of discovery with a reason; the app's
// organisation sees the entry in its audit log.
func (s *Server) adminAppRemove(w http.ResponseWriter, r *http.Request) {
	appID, reason := r.PathValue("appID"), strings.TrimSpace(r.PostFormValue("reason"))
	var err error
	if reason == "" {
		err = openmini.Errorf(openmini.EINVALID, "reason: say why the mini program leaves discovery (the developers read it)")
	}
	if err == nil {
		err = s.discovery.RemoveFromDiscovery(r.Context(), appID, reason)
	}
	if err != nil {
		s.adminDiscoveryFail(w, r, err, nil)
		return
	}
	s.auditDiscovery(r, s.appOrg(r, appID), appID, "discovery.remove", map[string]any{"reason": reason})
	s.done(w, r, "/admin/discovery?app="+appID, "app-removed")
}

func (s *Server) adminAppRestore(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	if err := s.discovery.RestoreToDiscovery(r.Context(), appID); err != nil {
		s.adminDiscoveryFail(w, r, err, nil)
		return
	}
	s.auditDiscovery(r, s.appOrg(r, appID), appID, "discovery.restore", map[string]any{})
	s.done(w, r, "/admin/discovery?app="+appID, "app-restored")
}

// appOrg is the organisation of an app (0 when it is gone).
func (s *Server) appOrg(r *http.Request, appID string) int64 {
	a, err := s.apps.Get(r.Context(), appID)
	if err != nil {
		return 0
	}
	return a.OrgID
}

// Position options for the channel order select.
func (d adminChannelData) Positions() []int {
	out := make([]int, d.Count)
	for i := range out {
		out[i] = i + 1
	}
	return out
}
