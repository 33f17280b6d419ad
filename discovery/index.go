package discovery

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Doc is the search document of one published mini program. The app
// service sends it whenever a version is released or the app's settings
// change.
type Doc struct {
	AppID        string
	OrgID        int64
	Name         string   // required, at most 64 characters
	ShortName    string   // at most 32
	Keywords     []string // at most 20, each at most 32 characters
	Description  string   // at most 2,000
	Category     string   // at most 64; payment merchant categories match it
	MerchantName string   // at most 100
	IconURL      string   // http(s) URL or a path starting with "/"
	Location     *Point   // a merchant's shop, for "nearby"; nil if none
	Games        bool     // a game: hidden when the operator disallows games
	// UpdatedAt is when the published content last changed (the feed shows
	// it); zero means now.
	UpdatedAt time.Time
}

// Point is a position in microdegrees (degrees x 1,000,000).
type Point struct {
	Lat int64 `json:"lat"`
	Lng int64 `json:"lng"`
}

// Degrees makes a Point from decimal degrees.
func Degrees(lat, lng float64) Point {
	return Point{Lat: int64(lat*1e6 + 0.5*sign(lat)), Lng: int64(lng*1e6 + 0.5*sign(lng))}
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

func (p Point) valid() bool {
	return p.Lat >= -90_000_000 && p.Lat <= 90_000_000 && p.Lng >= -180_000_000 && p.Lng <= 180_000_000
}

// Limits of a Doc.
const (
	maxName        = 64
	maxShortName   = 32
	maxKeywords    = 20
	maxKeyword     = 32
	maxDescription = 2000
	maxCategory    = 64
	maxMerchant    = 100
	maxURL         = 2048
	maxBatch       = 1000
)

// validate checks d and names the first problem.
func (d Doc) validate() error {
	if err := checkAppID("app_id", d.AppID); err != nil {
		return err
	}
	p := "app " + d.AppID + ": "
	if strings.TrimSpace(d.Name) == "" {
		return invalid("%sname is empty", p)
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"name", d.Name, maxName},
		{"short_name", d.ShortName, maxShortName},
		{"description", d.Description, maxDescription},
		{"category", d.Category, maxCategory},
		{"merchant_name", d.MerchantName, maxMerchant},
		{"icon_url", d.IconURL, maxURL},
	} {
		if !utf8.ValidString(f.value) {
			return invalid(p+"%s is not valid UTF-8", f.name)
		}
		if n := utf8.RuneCountInString(f.value); n > f.max {
			return openmini.Errorf(openmini.ETOOLARGE, p+"%s has %d characters; the limit is %d", f.name, n, f.max)
		}
	}
	if len(d.Keywords) > maxKeywords {
		return openmini.Errorf(openmini.ETOOLARGE, p+"%d keywords; the limit is %d", len(d.Keywords), maxKeywords)
	}
	for _, k := range d.Keywords {
		if !utf8.ValidString(k) || utf8.RuneCountInString(k) > maxKeyword {
			return invalid(p+"keyword %.40q is not valid UTF-8 or longer than %d characters", k, maxKeyword)
		}
		if strings.Contains(k, ",") {
			return invalid(p+"keyword %q contains a comma", k)
		}
	}
	if d.IconURL != "" && !strings.HasPrefix(d.IconURL, "/") {
		u, err := url.Parse(d.IconURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return invalid(p+"icon_url %.80q is not an http(s) URL or a path", d.IconURL)
		}
	}
	if d.Location != nil && !d.Location.valid() {
		return invalid(p+"location %d,%d is outside -90..90, -180..180 degrees", d.Location.Lat, d.Location.Lng)
	}
	return nil
}

// docRow is a row of discovery_apps.
type docRow struct {
	ID                                             int64
	AppID                                          string
	OrgID                                          int64
	Name, ShortName, Keywords, Description         string
	Category, MerchantName, IconURL, RemovedReason string
	Lat, Lng                                       sql.NullInt64
	Games, Listed, Removed                         bool
	Launches, Tier, UpdatedAt, ChangedAt           int64
}

const docColumns = `id, app_id, org_id, name, short_name, keywords, description, category,
	merchant_name, icon_url, removed_reason, lat, lng, games, listed, removed, launches, search_tier, updated_at, changed_at`

func (r *docRow) scan(sc interface{ Scan(...any) error }) error {
	var games, listed, removed int64
	err := sc.Scan(&r.ID, &r.AppID, &r.OrgID, &r.Name, &r.ShortName, &r.Keywords, &r.Description, &r.Category,
		&r.MerchantName, &r.IconURL, &r.RemovedReason, &r.Lat, &r.Lng, &games, &listed, &removed,
		&r.Launches, &r.Tier, &r.UpdatedAt, &r.ChangedAt)
	r.Games, r.Listed, r.Removed = games == 1, listed == 1, removed == 1
	return err
}

// indexed reports whether the row belongs in the full-text index.
func (r *docRow) indexed() bool { return r.Listed && !r.Removed }

// sameContent reports whether two rows would be indexed and listed alike.
func (r *docRow) sameContent(o *docRow) bool {
	return r.OrgID == o.OrgID && r.Name == o.Name && r.ShortName == o.ShortName && r.Keywords == o.Keywords &&
		r.Description == o.Description && r.Category == o.Category && r.MerchantName == o.MerchantName &&
		r.IconURL == o.IconURL && r.Lat == o.Lat && r.Lng == o.Lng && r.Games == o.Games &&
		r.Listed == o.Listed && r.UpdatedAt == o.UpdatedAt
}

// indexedDoc is what a search engine stores for one document.
type indexedDoc struct {
	ID               int64
	Name, Tags, Body []string
	Tier             int64 // popularity tier (tierOf)
}

// tokens returns what the search engines index for the row: its text and
// its popularity tier.
func (r *docRow) tokens() indexedDoc {
	return indexedDoc{
		ID:   r.ID,
		Name: append(indexTokens(r.Name, 0), indexTokens(r.ShortName, 0)...),
		Tags: indexTokens(r.Keywords+" , "+r.MerchantName+" , "+r.Category, 0),
		Body: indexTokens(r.Description, maxBodyTokens),
		Tier: tierOf(r.Launches),
	}
}

func (r *docRow) words(into map[string]bool) {
	for _, f := range []string{r.Name, r.ShortName, r.Keywords, r.MerchantName, r.Category, r.Description} {
		vocabularyWords(f, into)
	}
}

// geoCell numbers the 0.01 x 0.01 degree square holding a point.
func geoCell(lat, lng int64) int64 {
	return (floorDiv(lat, 10_000)+9_000)*40_000 + floorDiv(lng, 10_000) + 18_000
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// IndexApp adds or replaces the search document of a published app and
// lists it again if RemoveApp had unlisted it. An operator's removal stays
// in force. Calling it with unchanged content changes nothing (the feed does
// not see an update). Errors: invalid or too_large for a bad Doc,
// not_found when the app does not exist.
func (s *Service) IndexApp(ctx context.Context, d Doc) error {
	return s.IndexApps(ctx, []Doc{d})
}

// IndexApps is IndexApp for up to 1,000 documents in one transaction (for
// bulk loads and re-indexing). Either all are stored or none.
func (s *Service) IndexApps(ctx context.Context, docs []Doc) error {
	if len(docs) > maxBatch {
		return openmini.Errorf(openmini.ETOOLARGE, "index: %d documents; at most %d per call", len(docs), maxBatch)
	}
	seen := map[string]bool{}
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		if err := d.validate(); err != nil {
			return err
		}
		if seen[d.AppID] {
			return invalid("index: app %s given twice", d.AppID)
		}
		seen[d.AppID] = true
		ids = append(ids, d.AppID)
	}
	if len(docs) == 0 {
		return nil
	}
	now := s.now()
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if err := checkAppsExist(ctx, tx, ids); err != nil {
			return err
		}
		old, err := loadDocs(ctx, tx, ids)
		if err != nil {
			return err
		}
		var changed []*docRow
		var before []*docRow // old versions of changed rows, nil when new
		for _, d := range docs {
			row := &docRow{
				AppID: d.AppID, OrgID: d.OrgID, Name: d.Name, ShortName: d.ShortName,
				Keywords: strings.Join(d.Keywords, ", "), Description: d.Description, Category: d.Category,
				MerchantName: d.MerchantName, IconURL: d.IconURL, Games: d.Games, Listed: true,
				UpdatedAt: ms(d.UpdatedAt), ChangedAt: ms(now),
			}
			if d.UpdatedAt.IsZero() {
				row.UpdatedAt = ms(now)
			}
			if d.Location != nil {
				row.Lat = sql.NullInt64{Int64: d.Location.Lat, Valid: true}
				row.Lng = sql.NullInt64{Int64: d.Location.Lng, Valid: true}
			}
			o := old[d.AppID]
			if o != nil {
				if d.UpdatedAt.IsZero() {
					row.UpdatedAt = o.UpdatedAt // unchanged content keeps its time
				}
				if o.sameContent(row) {
					continue
				}
				if d.UpdatedAt.IsZero() {
					row.UpdatedAt = ms(now)
				}
				row.ID, row.Removed, row.RemovedReason, row.Launches = o.ID, o.Removed, o.RemovedReason, o.Launches
				row.ChangedAt = max(row.ChangedAt, o.ChangedAt+1)
			}
			changed = append(changed, row)
			before = append(before, o)
		}
		if len(changed) == 0 {
			return nil
		}
		if err := upsertDocs(ctx, tx, changed); err != nil {
			return err
		}
		var drop []*docRow
		var add []*docRow
		for i, row := range changed {
			if o := before[i]; o != nil && o.indexed() {
				drop = append(drop, o)
			}
			if row.indexed() {
				add = append(add, row)
			}
		}
		return s.reindex(ctx, tx, drop, add)
	})
	if err != nil {
		return fmt.Errorf("index apps: %w", err)
	}
	return nil
}

// checkAppsExist returns not_found naming the first id with no apps row.
func checkAppsExist(ctx context.Context, q sqldb.Querier, ids []string) error {
	found := map[string]bool{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(len(ids), start+500)]
		rows, err := q.Query(ctx, `SELECT id FROM apps WHERE id IN (`+placeholders(len(chunk))+`)`, anyStrings(chunk)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			found[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, id := range ids {
		if !found[id] {
			return notFound("app %s does not exist", id)
		}
	}
	return nil
}

// loadDocs returns the discovery_apps rows of ids that exist.
func loadDocs(ctx context.Context, q sqldb.Querier, ids []string) (map[string]*docRow, error) {
	out := map[string]*docRow{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(len(ids), start+500)]
		rows, err := q.Query(ctx, `SELECT `+docColumns+` FROM discovery_apps WHERE app_id IN (`+placeholders(len(chunk))+`)`, anyStrings(chunk)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			r := &docRow{}
			if err := r.scan(rows); err != nil {
				rows.Close()
				return nil, err
			}
			out[r.AppID] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// loadDoc returns one row, or not_found.
func loadDoc(ctx context.Context, q sqldb.Querier, appID string) (*docRow, error) {
	r := &docRow{}
	err := r.scan(q.QueryRow(ctx, `SELECT `+docColumns+` FROM discovery_apps WHERE app_id = ?`, appID))
	if isNotFound(err) {
		return nil, notFound("app %s is not in discovery", appID)
	}
	return r, err
}

// upsertDocs writes rows and fills in the ids of new ones.
func upsertDocs(ctx context.Context, q sqldb.Querier, rows []*docRow) error {
	byApp := map[string]*docRow{}
	for start := 0; start < len(rows); start += 400 {
		chunk := rows[start:min(len(rows), start+400)]
		var b strings.Builder
		b.WriteString(`INSERT INTO discovery_apps (app_id, org_id, name, short_name, keywords, description, category,
			merchant_name, icon_url, lat, lng, geo_cell, games, listed, removed, removed_reason, launches, search_tier,
			updated_at, changed_at) VALUES `)
		args := make([]any, 0, len(chunk)*20)
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + placeholders(20) + ")")
			var cell any
			if r.Lat.Valid {
				cell = geoCell(r.Lat.Int64, r.Lng.Int64)
			}
			args = append(args, r.AppID, r.OrgID, r.Name, r.ShortName, r.Keywords, r.Description, r.Category,
				r.MerchantName, r.IconURL, r.Lat, r.Lng, cell, boolInt(r.Games), boolInt(r.Listed), boolInt(r.Removed),
				r.RemovedReason, r.Launches, tierOf(r.Launches), r.UpdatedAt, r.ChangedAt)
			byApp[r.AppID] = r
		}
		b.WriteString(` ON CONFLICT (app_id) DO UPDATE SET org_id = excluded.org_id, name = excluded.name,
			short_name = excluded.short_name, keywords = excluded.keywords, description = excluded.description,
			category = excluded.category, merchant_name = excluded.merchant_name, icon_url = excluded.icon_url,
			lat = excluded.lat, lng = excluded.lng, geo_cell = excluded.geo_cell, games = excluded.games,
			listed = excluded.listed, search_tier = excluded.search_tier, updated_at = excluded.updated_at,
			changed_at = excluded.changed_at
			RETURNING id, app_id`)
		res, err := q.Query(ctx, b.String(), args...)
		if err != nil {
			return err
		}
		for res.Next() {
			var id int64
			var app string
			if err := res.Scan(&id, &app); err != nil {
				res.Close()
				return err
			}
			byApp[app].ID = id
		}
		res.Close()
		if err := res.Err(); err != nil {
			return err
		}
	}
	return nil
}

// reindex takes the old versions of documents out of the full-text index
// and vocabulary and puts the new ones in, in one transaction.
func (s *Service) reindex(ctx context.Context, q sqldb.Querier, drop, add []*docRow) error {
	delta := map[string]int{}
	if len(drop) > 0 {
		ids := make([]indexedDoc, len(drop))
		for i, r := range drop {
			ids[i] = indexedDoc{ID: r.ID, Tier: r.Tier}
			words := map[string]bool{}
			r.words(words)
			for w := range words {
				delta[w]--
			}
		}
		if err := s.search.drop(ctx, q, ids); err != nil {
			return err
		}
	}
	if len(add) > 0 {
		docs := make([]indexedDoc, len(add))
		for i, r := range add {
			docs[i] = r.tokens()
			words := map[string]bool{}
			r.words(words)
			for w := range words {
				delta[w]++
			}
		}
		if err := s.search.put(ctx, q, docs); err != nil {
			return err
		}
		for _, r := range add {
			if t := tierOf(r.Launches); t != r.Tier {
				if _, err := q.Exec(ctx, `UPDATE discovery_apps SET search_tier = ? WHERE id = ?`, t, r.ID); err != nil {
					return err
				}
			}
		}
	}
	return s.applyVocabulary(ctx, q, delta)
}

// retier moves indexed rows whose launch count left their popularity
// tier to their new tier's token.
func (s *Service) retier(ctx context.Context, q sqldb.Querier, rows []*docRow) error {
	if len(rows) == 0 {
		return nil
	}
	old := make([]indexedDoc, len(rows))
	docs := make([]indexedDoc, len(rows))
	for i, r := range rows {
		old[i], docs[i] = indexedDoc{ID: r.ID, Tier: r.Tier}, r.tokens()
	}
	if err := s.search.drop(ctx, q, old); err != nil {
		return err
	}
	if err := s.search.put(ctx, q, docs); err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := q.Exec(ctx, `UPDATE discovery_apps SET search_tier = ? WHERE id = ?`, tierOf(r.Launches), r.ID); err != nil {
			return err
		}
	}
	return nil
}

// applyVocabulary adds delta to the document counts of the vocabulary,
// creating and deleting words (and their trigram entries) as counts leave
// and reach zero. Words are written in sorted order so concurrent
// transactions lock them in the same order.
func (s *Service) applyVocabulary(ctx context.Context, q sqldb.Querier, delta map[string]int) error {
	var plus, minus []string
	for w, d := range delta {
		switch {
		case d > 0:
			plus = append(plus, w)
		case d < 0:
			minus = append(minus, w)
		}
	}
	sort.Strings(plus)
	sort.Strings(minus)
	for start := 0; start < len(plus); start += 500 {
		chunk := plus[start:min(len(plus), start+500)]
		args := make([]any, 0, 2*len(chunk))
		vals := make([]string, len(chunk))
		for i, w := range chunk {
			vals[i] = "(?, ?)"
			args = append(args, w, delta[w])
		}
		rows, err := q.Query(ctx, `INSERT INTO discovery_terms (term, docs) VALUES `+strings.Join(vals, ", ")+`
			ON CONFLICT (term) DO UPDATE SET docs = discovery_terms.docs + excluded.docs
			RETURNING id, term, docs`, args...)
		if err != nil {
			return fmt.Errorf("vocabulary: %w", err)
		}
		var created []vocabTerm
		for rows.Next() {
			var t vocabTerm
			if err := rows.Scan(&t.ID, &t.Term, &t.Docs); err != nil {
				rows.Close()
				return err
			}
			if t.Docs == int64(delta[t.Term]) {
				created = append(created, t)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := s.search.addTerms(ctx, q, created); err != nil {
			return fmt.Errorf("vocabulary: %w", err)
		}
	}
	var gone []int64
	for _, w := range minus {
		var id, docs int64
		err := q.QueryRow(ctx, `UPDATE discovery_terms SET docs = docs + ? WHERE term = ? RETURNING id, docs`, delta[w], w).Scan(&id, &docs)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("vocabulary: %w", err)
		}
		if docs <= 0 {
			gone = append(gone, id)
		}
	}
	for start := 0; start < len(gone); start += 500 {
		chunk := gone[start:min(len(gone), start+500)]
		if err := s.search.dropTerms(ctx, q, chunk); err != nil {
			return fmt.Errorf("vocabulary: %w", err)
		}
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if _, err := q.Exec(ctx, `DELETE FROM discovery_terms WHERE id IN (`+placeholders(len(chunk))+`)`, args...); err != nil {
			return fmt.Errorf("vocabulary: %w", err)
		}
	}
	return nil
}

// RemoveApp takes an app out of discovery because it is no longer
// published (the app service calls it on unpublish or deletion). Its usage
// history stays; IndexApp lists it again. Removing an app that is not in
// discovery is not an error.
func (s *Service) RemoveApp(ctx context.Context, appID string) error {
	if err := checkAppID("app_id", appID); err != nil {
		return err
	}
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		r, err := loadDoc(ctx, tx, appID)
		if openmini.ErrorCode(err) == openmini.ENOTFOUND {
			return nil
		}
		if err != nil || !r.Listed {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE discovery_apps SET listed = 0, changed_at = ? WHERE id = ?`,
			max(ms(s.now()), r.ChangedAt+1), r.ID); err != nil {
			return err
		}
		if r.indexed() {
			return s.reindex(ctx, tx, []*docRow{r}, nil)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove app %s: %w", appID, err)
	}
	return nil
}

// RemoveFromDiscovery is the operator's switch: the app disappears from
// search, suggestions, channels, recommendations, trending for users and
// the feed (as a removal), until RestoreToDiscovery. reason (at most 500
// characters) is kept for the operator console. Errors: not_found when
// the app was never indexed.
func (s *Service) RemoveFromDiscovery(ctx context.Context, appID, reason string) error {
	if err := checkAppID("app_id", appID); err != nil {
		return err
	}
	if utf8.RuneCountInString(reason) > 500 {
		return openmini.Errorf(openmini.ETOOLARGE, "reason: longer than 500 characters")
	}
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		r, err := loadDoc(ctx, tx, appID)
		if err != nil {
			return err
		}
		if r.Removed {
			_, err := tx.Exec(ctx, `UPDATE discovery_apps SET removed_reason = ? WHERE id = ?`, reason, r.ID)
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE discovery_apps SET removed = 1, removed_reason = ?, changed_at = ? WHERE id = ?`,
			reason, max(ms(s.now()), r.ChangedAt+1), r.ID); err != nil {
			return err
		}
		if r.indexed() {
			return s.reindex(ctx, tx, []*docRow{r}, nil)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove %s from discovery: %w", appID, err)
	}
	return nil
}

// RestoreToDiscovery undoes RemoveFromDiscovery. Restoring an app that is
// not removed changes nothing. Errors: not_found when the app was never
// indexed.
func (s *Service) RestoreToDiscovery(ctx context.Context, appID string) error {
	if err := checkAppID("app_id", appID); err != nil {
		return err
	}
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		r, err := loadDoc(ctx, tx, appID)
		if err != nil || !r.Removed {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE discovery_apps SET removed = 0, removed_reason = '', changed_at = ? WHERE id = ?`,
			max(ms(s.now()), r.ChangedAt+1), r.ID); err != nil {
			return err
		}
		r.Removed = false
		if r.indexed() {
			return s.reindex(ctx, tx, nil, []*docRow{r})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("restore %s to discovery: %w", appID, err)
	}
	return nil
}

// AppStatus is what the operator console shows about one app.
type AppStatus struct {
	AppID         string    `json:"app_id"`
	Name          string    `json:"name"`
	Listed        bool      `json:"listed"`  // published (IndexApp) and not unlisted (RemoveApp)
	Removed       bool      `json:"removed"` // taken out of discovery by the operator
	RemovedReason string    `json:"removed_reason,omitempty"`
	Launches      int64     `json:"launches"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Status returns an app's discovery state. Errors: not_found.
func (s *Service) Status(ctx context.Context, appID string) (AppStatus, error) {
	if err := checkAppID("app_id", appID); err != nil {
		return AppStatus{}, err
	}
	r, err := loadDoc(ctx, s.db, appID)
	if err != nil {
		return AppStatus{}, fmt.Errorf("discovery status %s: %w", appID, err)
	}
	return AppStatus{AppID: r.AppID, Name: r.Name, Listed: r.Listed, Removed: r.Removed,
		RemovedReason: r.RemovedReason, Launches: r.Launches, UpdatedAt: fromMS(r.UpdatedAt)}, nil
}

// RemovedApps lists the apps the operator took out of discovery, most
// recently removed first, at most limit (default 50, at most 500), for the
// operator console's "removed" list.
func (s *Service) RemovedApps(ctx context.Context, limit int) ([]AppStatus, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	rows, err := s.db.Query(ctx, `SELECT `+docColumns+` FROM discovery_apps WHERE removed = 1 ORDER BY changed_at DESC, app_id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("removed apps: %w", err)
	}
	defer rows.Close()
	out := []AppStatus{}
	for rows.Next() {
		var r docRow
		if err := r.scan(rows); err != nil {
			return nil, fmt.Errorf("removed apps: %w", err)
		}
		out = append(out, AppStatus{AppID: r.AppID, Name: r.Name, Listed: r.Listed, Removed: r.Removed,
			RemovedReason: r.RemovedReason, Launches: r.Launches, UpdatedAt: fromMS(r.UpdatedAt)})
	}
	return out, rows.Err()
}

// Documents reports how many apps have a search document (listed or not),
// so the platform can tell a fresh index from a populated one.
func (s *Service) Documents(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM discovery_apps`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count documents: %w", err)
	}
	return n, nil
}
