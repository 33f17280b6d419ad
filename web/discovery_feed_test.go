package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/openmini/openmini/discovery"
)

// dirClient is what a third-party store runs: it pages through the
// public directory with a plain HTTP client, keeps each page's ETag and
// sends it back, and later syncs changes with updated_since. Every 200
// answer is validated against the platform's OpenAPI document.
type dirClient struct {
	t     *testing.T
	base  string
	v     validator.Validator
	c     *http.Client
	etags map[string]string             // URL -> ETag
	apps  map[string]discovery.FeedItem // the mirror
	mark  time.Time                     // the latest updated_at seen
	not   int                           // 304 answers
	// overlap is how far before the watermark a sync starts (the feed
	// advises a minute across replicas; the test uses 0 to see exactly
	// what changed).
	overlap time.Duration
}

func newDirClient(t *testing.T, base string) *dirClient {
	t.Helper()
	resp, err := http.Get(base + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return &dirClient{t: t, base: base, v: v, c: &http.Client{Timeout: 30 * time.Second}, etags: map[string]string{}, apps: map[string]discovery.FeedItem{}}
}

// get fetches one page (nil on 304) with If-None-Match when it has a tag.
func (d *dirClient) get(path string) (*discovery.FeedPage, *http.Response) {
	d.t.Helper()
	req, _ := http.NewRequest("GET", d.base+path, nil)
	if tag := d.etags[path]; tag != "" {
		req.Header.Set("If-None-Match", tag)
	}
	resp, err := d.c.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		d.not++
		if len(body) != 0 || resp.Header.Get("ETag") != d.etags[path] {
			d.t.Fatalf("GET %s: 304 with a body or another ETag", path)
		}
		return nil, resp
	case http.StatusOK:
	default:
		d.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if resp.Header.Get("ETag") == "" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		d.t.Fatalf("GET %s: headers %v", path, resp.Header)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if ok, errs := d.v.ValidateHttpRequestResponse(req, resp); !ok {
		for _, e := range errs {
			d.t.Errorf("GET %s does not match the OpenAPI document: %s", path, e.Error())
		}
	}
	d.etags[path] = resp.Header.Get("ETag")
	var page discovery.FeedPage
	if err := json.Unmarshal(body, &page); err != nil {
		d.t.Fatal(err)
	}
	return &page, resp
}

// sync follows next_cursor from the first page (with updated_since when
// the mirror has a watermark) and applies every item; it returns the IDs
// seen, in order.
func (d *dirClient) sync(limit string) []string {
	d.t.Helper()
	q := url.Values{"limit": {limit}}
	if !d.mark.IsZero() {
		q.Set("updated_since", d.mark.Add(-d.overlap).Format(time.RFC3339Nano))
	}
	var seen []string
	for pages := 0; ; pages++ {
		if pages > 50 {
			d.t.Fatal("the feed never ends")
		}
		page, _ := d.get("/api/v1/directory?" + q.Encode())
		if page == nil {
			return seen
		}
		for _, it := range page.Items {
			seen = append(seen, it.ID)
			if it.Removed {
				delete(d.apps, it.ID)
			} else {
				d.apps[it.ID] = it
			}
			if it.UpdatedAt.After(d.mark) {
				d.mark = it.UpdatedAt
			}
		}
		if page.NextCursor == "" {
			return seen
		}
		q.Set("cursor", page.NextCursor)
	}
}

// TestDirectoryFeedWithETags: a store mirrors the directory page by page,
// revalidates with ETags (304), then picks up a changed description and an
// app the operator removed through updated_since; the QR image of each
// listed app works, a removed one's does not.
func TestDirectoryFeedWithETags(t *testing.T) {
	w := newDiscoWorld(t)
	var ids []string
	byName := map[string]string{}
	for _, name := range []string{"Alpha Tea", "Bravo Bikes", "Charlie Cinema", "Delta Dumplings", "Echo Ferry"} {
		byName[name] = w.app(t, name, "lifestyle", name+" for everyone.").ID
		ids = append(ids, byName[name])
	}
	sort.Strings(ids)
	d := newDirClient(t, w.p.URL)

	seen := d.sync("2")
	got := slices.Sorted(func(yield func(string) bool) {
		for id := range d.apps {
			if !yield(id) {
				return
			}
		}
	})
	if !slices.Equal(got, ids) || len(seen) != 5 {
		t.Fatalf("mirror after the first sync: %v (seen %v), want %v", got, seen, ids)
	}
	for _, it := range d.apps {
		if it.LaunchURL != w.p.URL+"/app/"+it.ID+"/" || !strings.HasPrefix(it.IconURL, w.p.Web.AppOrigin(it.ID)+"/_v/") ||
			it.Category != "lifestyle" || it.ReleasedAt.IsZero() || !strings.HasSuffix(it.Description, "for everyone.") {
			t.Errorf("feed item: %+v", it)
		}
	}
	// Unchanged: the first page, fetched by the sync, is not sent again.
	first := "/api/v1/directory?limit=2"
	if p, resp := d.get(first); p != nil || resp.StatusCode != 304 {
		t.Fatalf("revalidating an unchanged page: %d", resp.StatusCode)
	}
	// Every listed app's QR image.
	qrURL := d.apps[byName["Charlie Cinema"]].QRImageURL
	resp, err := http.Get(qrURL)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(img, []byte("\x89PNG")) {
		t.Fatalf("QR image %s: %d %s", qrURL, resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// The developer changes a description; the operator removes an app.
	changed, removed := byName["Alpha Tea"], byName["Charlie Cinema"]
	w.dev.Must(t, 200, "PATCH", "/api/v1/apps/"+changed, map[string]any{"description": "Now with oat milk."}, nil)
	admin := w.operator.C
	if resp, body := w.p.PostForm(t, admin, "/admin/discovery/apps/"+removed+"/remove", "reason", "Copies another app."); resp.StatusCode != 303 {
		t.Fatalf("remove from discovery: %d %s", resp.StatusCode, body)
	}
	seen = d.sync("2")
	// Since the watermark: the two changes (and Echo, the last one seen,
	// as the watermark is inclusive), not the untouched ones.
	if !slices.Contains(seen, changed) || !slices.Contains(seen, removed) ||
		slices.Contains(seen, byName["Bravo Bikes"]) || slices.Contains(seen, byName["Delta Dumplings"]) {
		t.Fatalf("changes since the watermark: %v (%v)", seen, byName)
	}
	if d.apps[changed].Description != "Now with oat milk." || len(d.apps) != 4 {
		t.Fatalf("mirror after the changes: %d apps, %q", len(d.apps), d.apps[changed].Description)
	}
	if _, ok := d.apps[removed]; ok {
		t.Fatal("the removed app is still in the mirror")
	}
	// The first page changed, so the old tag no longer matches.
	if p, resp := d.get(first); p == nil || resp.StatusCode != 200 {
		t.Fatal("the first page was not sent again after a change")
	}
	if d.not == 0 {
		t.Fatal("no 304 was ever answered")
	}
	if resp, err := http.Get(w.p.URL + "/api/v1/directory/" + removed + "/qr.png"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("a removed app's QR image: %v %v", resp.StatusCode, err)
	}
	// Bad requests name the problem.
	for q, field := range map[string]string{"cursor=nonsense": "cursor", "limit=0": "limit", "limit=501": "limit", "updated_since=yesterday": "updated_since"} {
		resp, err := http.Get(w.p.URL + "/api/v1/directory?" + q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 && resp.StatusCode != 413 || !strings.Contains(string(b), field) {
			t.Errorf("GET /api/v1/directory?%s: %d %s", q, resp.StatusCode, b)
		}
	}
}
