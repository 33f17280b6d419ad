package discovery

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
)

// FeedRequest asks for one page of the public directory feed.
type FeedRequest struct {
	// Cursor is the previous page's NextCursor; empty for the first page.
	Cursor string
	// Limit is items per page: default 100, at most 500.
	Limit int
	// UpdatedSince, when set, returns only apps whose listing changed at or
	// after it (inclusive, so a client that passes the last UpdatedAt it saw
	// never misses a change made in the same millisecond), and includes
	// apps that left the directory as {"id", "removed": true}.
	UpdatedSince time.Time
}

// FeedItem is one published mini program in the feed.
type FeedItem struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	IconURL     string `json:"icon_url,omitempty"`
	Description string `json:"description,omitempty"`
	Category    string `json:"category,omitempty"`
	LaunchURL   string `json:"launch_url,omitempty"`
	QRImageURL  string `json:"qr_image_url,omitempty"`
	// ReleasedAt is when the app's published content last changed.
	ReleasedAt time.Time `json:"released_at,omitzero"`
	// UpdatedAt is when this entry last changed (content, removal,
	// restoration): the feed's order and what UpdatedSince compares.
	UpdatedAt time.Time `json:"updated_at"`
	// Removed marks an app that left the directory (only with
	// UpdatedSince).
	Removed bool `json:"removed,omitempty"`
}

// FeedPage is one page, oldest change first.
type FeedPage struct {
	Items []FeedItem `json:"items"`
	// NextCursor fetches the next page; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

const (
	maxFeedLimit = 500
	cursorPrefix = "v1."
)

func encodeCursor(changedAt int64, appID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(changedAt, 10) + "." + appID))
}

func decodeCursor(c string) (int64, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) {
		return 0, "", invalid("cursor: malformed; use next_cursor from the previous page")
	}
	at, app, ok := strings.Cut(strings.TrimPrefix(string(raw), cursorPrefix), ".")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || app == "" {
		return 0, "", invalid("cursor: malformed; use next_cursor from the previous page")
	}
	return n, app, nil
}

// Feed returns a page of the directory feed: published apps that are not
// removed from discovery (nor games while they are disallowed), ordered by
// when their entry last changed. Errors: invalid (bad cursor), too_large.
func (s *Service) Feed(ctx context.Context, req FeedRequest) (FeedPage, error) {
	if req.Limit <= 0 {
		req.Limit = 100
	}
	if req.Limit > maxFeedLimit {
		return FeedPage{}, openmini.Errorf(openmini.ETOOLARGE, "limit: at most %d items per page", maxFeedLimit)
	}
	afterAt, afterApp := int64(-1), ""
	if req.Cursor != "" {
		var err error
		if afterAt, afterApp, err = decodeCursor(req.Cursor); err != nil {
			return FeedPage{}, err
		}
	}
	games, err := s.gamesAllowed(ctx)
	if err != nil {
		return FeedPage{}, err
	}
	cond := ` WHERE (d.changed_at, d.app_id) > (?, ?)` + gamesFilter(games)
	args := []any{afterAt, afterApp}
	if req.UpdatedSince.IsZero() {
		cond += ` AND d.listed = 1 AND d.removed = 0`
	} else {
		cond += ` AND d.changed_at >= ?`
		args = append(args, ms(req.UpdatedSince))
	}
	rows, err := s.db.Query(ctx, `SELECT d.app_id, d.name, d.icon_url, d.description, d.category, d.listed, d.removed,
			d.updated_at, d.changed_at
		FROM discovery_apps d`+cond+` ORDER BY d.changed_at, d.app_id LIMIT ?`, append(args, req.Limit+1)...)
	if err != nil {
		return FeedPage{}, fmt.Errorf("feed: %w", err)
	}
	defer rows.Close()
	page := FeedPage{Items: []FeedItem{}}
	var lastAt int64
	for rows.Next() {
		var it FeedItem
		var listed, removed, released, changed int64
		if err := rows.Scan(&it.ID, &it.Name, &it.IconURL, &it.Description, &it.Category, &listed, &removed, &released, &changed); err != nil {
			return FeedPage{}, fmt.Errorf("feed: %w", err)
		}
		if len(page.Items) == req.Limit {
			last := page.Items[len(page.Items)-1]
			page.NextCursor = encodeCursor(lastAt, last.ID)
			break
		}
		it.UpdatedAt = fromMS(changed)
		if listed == 0 || removed == 1 {
			it = FeedItem{ID: it.ID, UpdatedAt: it.UpdatedAt, Removed: true}
		} else {
			it.ReleasedAt = fromMS(released)
			it.LaunchURL = s.opts.LaunchURL(it.ID)
			it.QRImageURL = s.opts.QRImageURL(it.ID)
		}
		lastAt = changed
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return FeedPage{}, fmt.Errorf("feed: %w", err)
	}
	return page, nil
}

// FeedJSON is Feed encoded for the HTTP handler: the JSON body and its
// strong ETag (quoted, derived from the body, so equal pages have equal
// tags on every replica).
func (s *Service) FeedJSON(ctx context.Context, req FeedRequest) (body []byte, etag string, err error) {
	page, err := s.Feed(ctx, req)
	if err != nil {
		return nil, "", err
	}
	body, err = json.Marshal(page)
	if err != nil {
		return nil, "", fmt.Errorf("feed: %w", err)
	}
	return body, ETag(body), nil
}

// ETag returns a strong entity tag for body.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// ETagMatch reports whether an If-None-Match header value matches etag
// (weak comparison, as RFC 9110 prescribes for If-None-Match), so the
// handler can answer 304 Not Modified.
func ETagMatch(ifNoneMatch, etag string) bool {
	ifNoneMatch = strings.TrimSpace(ifNoneMatch)
	if ifNoneMatch == "" {
		return false
	}
	if ifNoneMatch == "*" {
		return true
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(ifNoneMatch, ",") {
		if strings.TrimPrefix(strings.TrimSpace(t), "W/") == want {
			return true
		}
	}
	return false
}
