package discovery

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

// feedServer is the handler the web layer is expected to write: one call
// and a 304 when the client has the page.
func feedServer(t *testing.T, svc *Service) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		req := FeedRequest{Cursor: q.Get("cursor")}
		req.Limit, _ = strconv.Atoi(q.Get("limit"))
		if s := q.Get("updated_since"); s != "" {
			var err error
			if req.UpdatedSince, err = time.Parse(time.RFC3339Nano, s); err != nil {
				http.Error(w, "updated_since", http.StatusBadRequest)
				return
			}
		}
		body, etag, err := svc.FeedJSON(r.Context(), req)
		if err != nil {
			status := http.StatusInternalServerError
			if openmini.ErrorCode(err) == openmini.EINVALID {
				status = http.StatusBadRequest
			}
			http.Error(w, openmini.ErrorMessage(err), status)
			return
		}
		w.Header().Set("ETag", etag)
		if ETagMatch(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// feedClient is a third-party directory that mirrors the feed.
type feedClient struct {
	t       *testing.T
	base    string
	etags   map[string]string // page URL -> ETag
	pages   map[string]FeedPage
	fetched int // pages transferred (200)
	cached  int // pages answered 304
}

func (c *feedClient) get(params url.Values) FeedPage {
	c.t.Helper()
	u := c.base + "?" + params.Encode()
	req, _ := http.NewRequest("GET", u, nil)
	if tag := c.etags[u]; tag != "" {
		req.Header.Set("If-None-Match", tag)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		c.cached++
		return c.pages[u]
	case http.StatusOK:
		var p FeedPage
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			c.t.Fatal(err)
		}
		c.fetched++
		c.etags[u], c.pages[u] = resp.Header.Get("ETag"), p
		return p
	}
	c.t.Fatalf("GET %s: %s", u, resp.Status)
	return FeedPage{}
}

// crawl follows next_cursor to the end and returns every item.
func (c *feedClient) crawl(params url.Values) []FeedItem {
	c.t.Helper()
	var all []FeedItem
	for i := 0; ; i++ {
		if i > 100 {
			c.t.Fatal("feed does not end")
		}
		p := c.get(params)
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			return all
		}
		params.Set("cursor", p.NextCursor)
	}
}

func TestFeed(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		for i := 0; i < 23; i++ {
			f.clock.Add(time.Second)
			f.index(Doc{AppID: fmt.Sprintf("app-%02d", i), Name: fmt.Sprintf("App %d", i), Description: "d", Category: "food",
				IconURL: "https://cdn.example.com/i.png", Games: i == 22})
		}
		f.svc.RemoveFromDiscovery(f.ctx, "app-05", "")
		c := &feedClient{t: t, base: feedServer(t, f.svc).URL, etags: map[string]string{}, pages: map[string]FeedPage{}}

		items := c.crawl(url.Values{"limit": {"5"}})
		if len(items) != 22 || c.fetched != 5 {
			t.Fatalf("%d items in %d pages, want 22 in 5", len(items), c.fetched)
		}
		seen := map[string]bool{}
		for i, it := range items {
			if seen[it.ID] || it.ID == "app-05" || it.Removed {
				t.Errorf("item %d: %+v (duplicate, removed or tombstone)", i, it)
			}
			seen[it.ID] = true
			if i > 0 && it.UpdatedAt.Before(items[i-1].UpdatedAt) {
				t.Errorf("items out of order at %d", i)
			}
		}
		first := items[0]
		if first.ID != "app-00" || first.Name != "App 0" || first.LaunchURL != "https://mini.example.com/apps/app-00" ||
			first.QRImageURL != "https://mini.example.com/apps/app-00/qr.png" || first.Category != "food" ||
			first.IconURL != "https://cdn.example.com/i.png" || first.ReleasedAt.IsZero() {
			t.Errorf("first item %+v", first)
		}
		// Crawling again changes nothing: every page is a 304.
		c.crawl(url.Values{"limit": {"5"}})
		if c.fetched != 5 || c.cached != 5 {
			t.Errorf("second crawl: %d fetched, %d cached", c.fetched, c.cached)
		}
		// Games disallowed: the game leaves the feed.
		f.games = false
		if items := c.crawl(url.Values{"limit": {"50"}}); len(items) != 21 {
			t.Errorf("without games: %d items", len(items))
		}
		f.games = true

		// Changes after the first crawl: an update, a removal, a new app.
		since := items[len(items)-1].UpdatedAt
		f.clock.Add(time.Minute)
		f.svc.IndexApp(f.ctx, Doc{AppID: "app-03", OrgID: f.org, Name: "App 3, renamed"})
		f.svc.RemoveApp(f.ctx, "app-07")
		f.index(Doc{AppID: "app-new", Name: "Newcomer"})
		f.svc.IndexApp(f.ctx, Doc{AppID: "app-04", OrgID: f.org, Name: "App 4", Description: "d", Category: "food",
			IconURL: "https://cdn.example.com/i.png"}) // unchanged: not an update
		before := c.fetched
		all := c.crawl(url.Values{"limit": {"5"}})
		if c.fetched == before {
			t.Error("no page changed after updates")
		}
		if len(all) != 22 { // 22 - app-07 + app-new
			t.Errorf("%d items after changes", len(all))
		}
		changes := c.crawl(url.Values{"limit": {"2"}, "updated_since": {since.Add(time.Millisecond).Format(time.RFC3339Nano)}})
		got := map[string]FeedItem{}
		for _, it := range changes {
			got[it.ID] = it
		}
		if len(changes) != 3 || got["app-03"].Name != "App 3, renamed" || !got["app-07"].Removed || got["app-07"].Name != "" ||
			got["app-new"].Name != "Newcomer" {
			t.Errorf("changes since %s: %+v", since, changes)
		}
		// updated_since is inclusive: the last item of the first crawl, and
		// app-05's removal in the same millisecond, come again.
		incl := c.crawl(url.Values{"updated_since": {since.Format(time.RFC3339Nano)}})
		if len(incl) != 5 || incl[0].ID != "app-05" || !incl[0].Removed || incl[1].ID != "app-22" {
			t.Errorf("inclusive updated_since: %+v", incl)
		}
		// A bad cursor is a clear error.
		_, err := f.svc.Feed(f.ctx, FeedRequest{Cursor: "not-a-cursor"})
		wantCode(t, err, openmini.EINVALID)
		_, err = f.svc.Feed(f.ctx, FeedRequest{Limit: 501})
		wantCode(t, err, openmini.ETOOLARGE)
	})
}

func TestETagMatch(t *testing.T) {
	tag := ETag([]byte("body"))
	for _, c := range []struct {
		header string
		want   bool
	}{
		{tag, true},
		{"W/" + tag, true},
		{`"other", ` + tag, true},
		{"*", true},
		{"", false},
		{`"other"`, false},
	} {
		if got := ETagMatch(c.header, tag); got != c.want {
			t.Errorf("ETagMatch(%q) = %v", c.header, got)
		}
	}
	if ETag([]byte("a")) == ETag([]byte("b")) || ETag([]byte("a")) != ETag([]byte("a")) {
		t.Error("ETag not a function of the body")
	}
}
