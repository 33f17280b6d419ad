package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/pay"
)

// Developer analytics: the console's Analytics tab of an app (figures,
// SVG charts, a table per day, the QR funnel, a CSV download) and the same
// report in the REST API, as JSON and as CSV. Members of the app's
// organisation (viewers and up) and its API keys may read them.

func init() {
	appTabs = append(appTabs, tabDef{"analytics", "/analytics", "Analytics"})
}

// routesAnalytics: the Analytics tab and the analytics API.
func (s *Server) routesAnalytics(mux *http.ServeMux) {
	s.api(mux, "GET /api/v1/apps/{appID}/analytics", s.apiAnalytics)
	s.api(mux, "GET /api/v1/apps/{appID}/analytics/csv", s.apiAnalyticsCSV)
	mux.HandleFunc("GET /console/apps/{appID}/analytics", s.requireAccount(s.consoleAnalytics))
}

// analyticsDays is the default range: the last 30 days, today included.
const analyticsDays = 30

// analyticsQuery reads ?from=&to= (YYYY-MM-DD, inclusive; default the last
// 30 days), ?tz= (an IANA time zone, default UTC) and ?currency= (default
// the payments currency) for appID.
func (s *Server) analyticsQuery(r *http.Request, appID string) (discovery.AnalyticsQuery, error) {
	q := r.URL.Query()
	loc := time.UTC
	if tz := q.Get("tz"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return discovery.AnalyticsQuery{}, openmini.Errorf(openmini.EINVALID, "tz: %q is not a time zone such as Asia/Shanghai or UTC", tz)
		}
		loc = l
	}
	today := time.Now().In(loc)
	to, err := analyticsDate("to", q.Get("to"), loc, today)
	if err != nil {
		return discovery.AnalyticsQuery{}, err
	}
	from, err := analyticsDate("from", q.Get("from"), loc, to.AddDate(0, 0, -(analyticsDays-1)))
	if err != nil {
		return discovery.AnalyticsQuery{}, err
	}
	cur := strings.ToUpper(q.Get("currency"))
	if cur == "" && s.pay != nil {
		cur = s.pay.Currency()
	}
	return discovery.AnalyticsQuery{AppID: appID, From: from, To: to, Location: loc, Currency: cur}, nil
}

func analyticsDate(field, v string, loc *time.Location, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, loc)
	if err != nil {
		return time.Time{}, openmini.Errorf(openmini.EINVALID, "%s: %q is not a date like 2025-01-31", field, v)
	}
	return t, nil
}

// analytics checks the caller may read appID's figures and computes them.
func (s *Server) analytics(r *http.Request, actor openmini.Actor, appID string) (*discovery.Report, error) {
	a, err := s.apps.Require(r.Context(), actor, appID, org.RoleViewer)
	if err != nil {
		return nil, err
	}
	q, err := s.analyticsQuery(r, a.ID)
	if err != nil {
		return nil, err
	}
	return s.discovery.Analytics(r.Context(), q)
}

// apiAnalytics is GET /api/v1/apps/{appID}/analytics.
func (s *Server) apiAnalytics(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	rep, err := s.analytics(r, actor, r.PathValue("appID"))
	s.respond(w, r, http.StatusOK, rep, err)
}

// apiAnalyticsCSV is GET /api/v1/apps/{appID}/analytics/csv: one row per
// day, for spreadsheets.
func (s *Server) apiAnalyticsCSV(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	rep, err := s.analytics(r, actor, r.PathValue("appID"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="analytics-%s-%s-%s.csv"`, rep.AppID, rep.From, rep.To))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, no-cache")
	if err := rep.WriteCSV(w); err != nil {
		s.log.WarnContext(r.Context(), "analytics csv", "app", rep.AppID, "err", err)
	}
}

// sceneLabels are the people's words for launch sources.
var sceneLabels = map[discovery.Scene]string{
	discovery.SceneQR:             "QR code",
	discovery.SceneSearch:         "Search",
	discovery.SceneRecommendation: "Recommendation",
	discovery.SceneChannel:        "Channel",
	discovery.SceneShare:          "Shared link",
	discovery.SceneRecent:         "Recent",
	discovery.SceneFavourite:      "Favourite",
	discovery.SceneLink:           "Direct link",
	discovery.SceneMiniProgram:    "Another mini program",
}

// chartTitles are the titles of the analytics charts.
var chartTitles = []string{"Launches and users", "Sources", "Average session (seconds)", "Payments", "Payment amount", "QR scans"}

// analyticsData is the Analytics tab.
type analyticsData struct {
	*appData
	From, To, TZ string
	Report       *discovery.Report
	Charts       []template.HTML
	Scenes       []sceneRow
	CSV          string
	Currency     string
}

// sceneRow is one source's launches over the range.
type sceneRow struct {
	Label   string // English; the template translates it
	Count   int64
	Percent string
}

// Amount formats minor units of the report's currency.
func (d *analyticsData) Amount(minor int64) string {
	if d.Currency == "" {
		return fmt.Sprintf("%.2f", float64(minor)/100)
	}
	return pay.FormatAmount(minor, d.Currency)
}

// Rate formats a share, or "–" when it is not known yet.
func (d *analyticsData) Rate(r *float64) string {
	if r == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", *r*100)
}

// Duration formats a session length in milliseconds.
func (d *analyticsData) Duration(ms int64) string {
	if ms <= 0 {
		return "–"
	}
	sec := int64(math.Round(float64(ms) / 1000))
	if sec < 60 {
		return fmt.Sprintf("%ds", sec)
	}
	return fmt.Sprintf("%dm %02ds", sec/60, sec%60)
}

// consoleAnalytics is the Analytics tab of an app.
func (s *Server) consoleAnalytics(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadApp(r, r.PathValue("appID"), "analytics")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	v := s.page(w, r, d.App.Name, nil)
	ad := &analyticsData{appData: d}
	v.Data = ad
	q, err := s.analyticsQuery(r, d.App.ID)
	if err == nil {
		ad.Report, err = s.discovery.Analytics(r.Context(), q)
	}
	qv := r.URL.Query()
	ad.From, ad.To, ad.TZ = qv.Get("from"), qv.Get("to"), qv.Get("tz")
	if err != nil {
		s.renderFormError(w, r, "console_analytics", v, err)
		return
	}
	rep := ad.Report
	ad.From, ad.To, ad.TZ, ad.Currency = rep.From, rep.To, rep.TimeZone, rep.Currency
	ad.CSV = "/api/v1/apps/" + d.App.ID + "/analytics/csv?from=" + rep.From + "&to=" + rep.To + "&tz=" + rep.TimeZone
	for _, sc := range discovery.Scenes {
		n := rep.Totals.Scenes[sc]
		if n == 0 {
			continue
		}
		ad.Scenes = append(ad.Scenes, sceneRow{Label: sceneLabels[sc], Count: n,
			Percent: fmt.Sprintf("%.0f%%", 100*float64(n)/float64(max(1, rep.Totals.Launches)))})
	}
	ad.Charts, err = analyticsCharts(v, rep)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_analytics", v)
}

// analyticsCharts draws the tab's charts with translated titles and
// series names. discovery's SVG escapes every text it writes and holds no
// script, so the markup is trusted as it is.
func analyticsCharts(v *view, rep *discovery.Report) ([]template.HTML, error) {
	specs := []struct {
		title   string
		kind    discovery.ChartKind
		metrics []string
	}{
		{chartTitles[0], discovery.LineChart, []string{"launches", "unique_users", "new_users"}},
		{chartTitles[1], discovery.BarChart, []string{"scenes"}},
		{chartTitles[2], discovery.LineChart, []string{"avg_session"}},
		{chartTitles[3], discovery.BarChart, []string{"payments"}},
		{chartTitles[4], discovery.LineChart, []string{"payment_amount"}},
		{chartTitles[5], discovery.BarChart, []string{"scans"}},
	}
	var out []template.HTML
	for _, sp := range specs {
		c, err := rep.Chart(sp.kind, sp.metrics...)
		if err != nil {
			return nil, err
		}
		c.Title = v.T(sp.title)
		for i, ser := range c.Series {
			if l, ok := sceneLabels[discovery.Scene(ser.Name)]; ok {
				c.Series[i].Name = v.T(l)
			} else {
				c.Series[i].Name = v.T(ser.Name)
			}
		}
		out = append(out, template.HTML(c.SVG()))
	}
	return out, nil
}

// chartSeriesNames are the English names discovery gives chart series.
var chartSeriesNames = []string{"Launches", "Unique users", "New users", "Average session (s)", "Payments", "Payment amount", "QR scans"}
