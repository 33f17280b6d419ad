package platform

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/jobs"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/sqldb"
)

// Traffic distribution (package discovery) in the running platform:
//
//   - the service, whose games rule reads the operator's policy and whose
//     directory feed links to this host;
//   - its search index, fed by the app service's Released hook (a release,
//     a rollback, a settings change of a released app), re-indexed every
//     hour (a merchant linked or moved later, a category that became a game
//     category) and, on a platform whose index is still empty, at start;
//   - an importer that copies payments and QR scans into discovery. The
//     payments engine and the QR service offer no hooks, and a payment must
//     never fail or slow down because of discovery, so the importer reads
//     their append-only records (the ledger's payment entries, qr_events)
//     after a cursor kept in platform_settings. Each batch records its
//     events and moves the cursor in one transaction, so nothing is counted
//     twice or lost; payments carry their order id as discovery's Ref, so
//     even a re-read one counts once.

// Job kinds of discovery's upkeep on this platform.
const (
	JobDiscoveryImport  = "discovery.import"
	JobDiscoveryReindex = "discovery.reindex"
)

const (
	cursorPayments = "discovery.import.pay_entries"
	cursorScans    = "discovery.import.qr_events"
	importBatch    = 500
	// importSettle is how old an event must be before the cursor moves
	// past it: a transaction still open with a smaller id (PostgreSQL
	// hands out ids before commit) has committed by then.
	importSettle = time.Minute
)

// openDiscovery builds the discovery service and registers its jobs. The
// Released hook is set here; it reads the web layer's app origins, which
// exist before any app can be released.
func (p *Platform) openDiscovery() {
	p.Discovery = discovery.New(p.DB, discovery.Options{
		Logger:  p.Log,
		BaseURL: p.URL,
		GamesAllowed: func(ctx context.Context) (bool, error) {
			pol, err := p.Policy.Get(ctx)
			return pol.GamesEnabled, err
		},
		LaunchURL:  func(id string) string { return p.URL + "/app/" + id + "/" },
		QRImageURL: func(id string) string { return p.URL + "/api/v1/directory/" + id + "/qr.png" },
	})
	p.Discovery.RegisterJobs(p.Queue, 15*time.Minute)
	p.Queue.Register(JobDiscoveryImport, jobs.Kind{MaxAttempts: 3, Timeout: 5 * time.Minute,
		Handler: func(ctx context.Context, _ jobs.Job) error {
			_, _, err := p.ImportDiscoveryEvents(ctx, importSettle)
			return err
		}})
	p.Queue.Every(JobDiscoveryImport, time.Minute)
	p.Queue.Register(JobDiscoveryReindex, jobs.Kind{MaxAttempts: 3, Timeout: 10 * time.Minute,
		Handler: func(ctx context.Context, _ jobs.Job) error { return p.ReindexDiscovery(ctx) }})
	p.Queue.Every(JobDiscoveryReindex, time.Hour)
	p.Apps.Hooks.Released = func(ctx context.Context, a app.App, v app.Version) {
		d, err := p.discoveryDoc(ctx, a, v)
		if err == nil {
			err = p.Discovery.IndexApp(ctx, d)
		}
		if err != nil {
			p.Log.WarnContext(ctx, "discovery: indexing a released app failed; the hourly re-index retries", "app", a.ID, "err", err)
		}
	}
}

// indexAtStart indexes every released app when the index is empty: a
// platform that ran before discovery existed, or a restored backup.
func (p *Platform) indexAtStart(ctx context.Context) error {
	n, err := p.Discovery.Documents(ctx)
	if err != nil || n > 0 {
		return err
	}
	return p.ReindexDiscovery(ctx)
}

// ReindexDiscovery sends every released app's current document to the
// index. Unchanged documents change nothing (the feed sees no update).
func (p *Platform) ReindexDiscovery(ctx context.Context) error {
	rows, err := p.DB.Query(ctx, `SELECT app_id, version_id FROM releases ORDER BY app_id`)
	if err != nil {
		return fmt.Errorf("discovery re-index: %w", err)
	}
	type rel struct {
		app     string
		version int64
	}
	var rels []rel
	for rows.Next() {
		var r rel
		if err := rows.Scan(&r.app, &r.version); err != nil {
			rows.Close()
			return fmt.Errorf("discovery re-index: %w", err)
		}
		rels = append(rels, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("discovery re-index: %w", err)
	}
	var docs []discovery.Doc
	flush := func() error {
		if len(docs) == 0 {
			return nil
		}
		err := p.Discovery.IndexApps(ctx, docs)
		docs = docs[:0]
		return err
	}
	for _, r := range rels {
		a, err := p.Apps.Get(ctx, r.app)
		if err != nil {
			continue // deleted since
		}
		v, err := p.Apps.VersionByID(ctx, r.version)
		if err != nil {
			return fmt.Errorf("discovery re-index %s: %w", r.app, err)
		}
		d, err := p.discoveryDoc(ctx, a, v)
		if err != nil {
			return fmt.Errorf("discovery re-index %s: %w", r.app, err)
		}
		if d.UpdatedAt.IsZero() {
			d.UpdatedAt = v.ReleasedAt
		}
		docs = append(docs, d)
		if len(docs) == 200 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// discoveryDoc is the search document of a released app: its settings,
// the icon of the released version on the app's origin, the name and shop
// of the first active merchant that links it, and whether its category is
// a game category.
func (p *Platform) discoveryDoc(ctx context.Context, a app.App, v app.Version) (discovery.Doc, error) {
	d := discovery.Doc{
		AppID: a.ID, OrgID: a.OrgID, Name: clipRunes(a.Name, 64), ShortName: clipRunes(a.ShortName, 32),
		Description: clipRunes(a.Description, 2000), Category: clipRunes(a.Category, 64),
	}
	for _, k := range a.Keywords {
		if len(d.Keywords) < 20 {
			d.Keywords = append(d.Keywords, clipRunes(k, 32))
		}
	}
	if v.Manifest != nil && len(v.Manifest.Icons) > 0 && p.Web != nil {
		d.IconURL = p.Web.AppOrigin(a.ID) + "/_v/" + v.SHA256 + "/" + v.Manifest.Icons[0].Src
	}
	if p.Pay != nil {
		ms, err := p.Pay.MerchantsForApp(ctx, a.ID)
		if err != nil {
			return d, err
		}
		for _, m := range ms {
			if m.Status != pay.MerchantActive {
				continue
			}
			d.MerchantName = clipRunes(m.Name, 100)
			if m.Latitude != 0 || m.Longitude != 0 {
				d.Location = &discovery.Point{Lat: m.Latitude, Lng: m.Longitude}
			}
			break
		}
	}
	if a.Category != "" {
		c, err := p.Policy.Category(ctx, a.Category)
		switch {
		case err == nil:
			d.Games = c.IsGame
		case openmini.ErrorCode(err) != openmini.ENOTFOUND:
			return d, err
		}
	}
	return d, nil
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// ImportDiscoveryEvents copies the payments and QR scans recorded since
// its last run into discovery, in batches that each commit with the
// cursor. Events younger than settle are recorded but the cursor stays
// before them (payments are read again and counted once through their
// reference) or, for scans, which have no reference, they wait for the
// next run. The job runs it every minute with settle a minute; tests call
// it with 0.
func (p *Platform) ImportDiscoveryEvents(ctx context.Context, settle time.Duration) (payments, scans int, err error) {
	for {
		n, more, err := p.importBatch(ctx, cursorPayments, settle, p.importPayments)
		payments += n
		if err != nil {
			return payments, scans, fmt.Errorf("discovery import payments: %w", err)
		}
		if !more {
			break
		}
	}
	for {
		n, more, err := p.importBatch(ctx, cursorScans, settle, p.importScans)
		scans += n
		if err != nil {
			return payments, scans, fmt.Errorf("discovery import scans: %w", err)
		}
		if !more {
			break
		}
	}
	return payments, scans, nil
}

// importer records one batch after cursor through tx and returns the
// count recorded, the new cursor, and whether the batch was full.
type importer func(ctx context.Context, tx *sqldb.Tx, cursor int64, settled time.Time) (n int, next int64, full bool, err error)

// importBatch runs one importer batch in a transaction that holds the
// cursor's row (FOR UPDATE on PostgreSQL; SQLite's write lock), so two
// replicas never import the same events.
func (p *Platform) importBatch(ctx context.Context, key string, settle time.Duration, imp importer) (n int, more bool, err error) {
	settled := time.Now().Add(-settle)
	err = p.DB.WithTx(ctx, func(tx *sqldb.Tx) error {
		now := time.Now().UnixMilli()
		if _, err := tx.Exec(ctx, `INSERT INTO platform_settings (key, value, updated_at) VALUES (?, '0', ?) ON CONFLICT (key) DO NOTHING`, key, now); err != nil {
			return err
		}
		lock := ""
		if tx.Dialect() == sqldb.Postgres {
			lock = " FOR UPDATE"
		}
		var raw string
		if err := tx.QueryRow(ctx, `SELECT value FROM platform_settings WHERE key = ?`+lock, key).Scan(&raw); err != nil {
			return err
		}
		cursor, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("platform setting %s: %q is not a number", key, raw)
		}
		var next int64
		n, next, more, err = imp(ctx, tx, cursor, settled)
		// A full batch whose cursor could not move (all too young) is
		// read again by the next run, not now.
		more = more && next != cursor
		if err != nil || next == cursor {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE platform_settings SET value = ?, updated_at = ? WHERE key = ?`, strconv.FormatInt(next, 10), now, key)
		return err
	})
	return n, more, err
}

// importPayments records the payments of the ledger's entries after
// cursor: the order's app (or, for an order without one, the app of a
// merchant that links exactly one), payer, amount and currency; the
// merchant category discovery matches is the app's category.
func (p *Platform) importPayments(ctx context.Context, tx *sqldb.Tx, cursor int64, settled time.Time) (int, int64, bool, error) {
	rows, err := tx.Query(ctx, `SELECT e.id, e.created_at, o.id, COALESCE(o.app_id, ''), o.merchant_id, COALESCE(o.payer_id, 0),
			o.amount, o.currency, o.paid_at
		FROM pay_entries e JOIN pay_orders o ON o.id = e.ref
		WHERE e.id > ? AND e.kind = 'payment' ORDER BY e.id LIMIT ?`, cursor, importBatch)
	if err != nil {
		return 0, cursor, false, err
	}
	type row struct {
		entry, created, merchant, payer, amount, paidAt int64
		order, app, currency                            string
	}
	var batch []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.entry, &r.created, &r.order, &r.app, &r.merchant, &r.payer, &r.amount, &r.currency, &r.paidAt); err != nil {
			rows.Close()
			return 0, cursor, false, err
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, cursor, false, err
	}
	next, moving, n := cursor, true, 0
	apps := merchantApps{}
	for _, r := range batch {
		if moving && r.created < settled.UnixMilli() {
			next = r.entry
		} else {
			moving = false
		}
		appID := r.app
		if appID == "" {
			if appID, err = apps.only(ctx, tx, r.merchant); err != nil {
				return 0, cursor, false, err
			}
		}
		if appID == "" {
			continue // a merchant's payment with no mini program to count it for
		}
		var category string
		if err := tx.QueryRow(ctx, `SELECT category FROM apps WHERE id = ?`, appID).Scan(&category); err != nil {
			if errors.Is(err, sqldb.ErrNotFound) {
				continue // the app was deleted
			}
			return 0, cursor, false, err
		}
		at := time.UnixMilli(r.paidAt)
		if r.paidAt == 0 {
			at = time.UnixMilli(r.created)
		}
		err := p.Discovery.RecordPaymentTx(ctx, tx, discovery.Payment{Ref: r.order, AccountID: r.payer, AppID: appID,
			MerchantCategory: category, Amount: r.amount, Currency: r.currency, At: at})
		switch {
		case err == nil:
			n++
		case openmini.ErrorCode(err) == openmini.ENOTFOUND:
			// The payer's account is gone: nothing to recommend from.
		default:
			return 0, cursor, false, err
		}
	}
	return n, next, len(batch) == importBatch, nil
}

// importScans records the QR scans after cursor that are older than
// settled, stopping at the first younger one: scans carry no reference,
// so each must be read exactly once. A collection code counts for the app
// of its merchant when the merchant links exactly one.
func (p *Platform) importScans(ctx context.Context, tx *sqldb.Tx, cursor int64, settled time.Time) (int, int64, bool, error) {
	rows, err := tx.Query(ctx, `SELECT ev.id, ev.at, COALESCE(ev.account_id, 0), c.slug, COALESCE(c.app_id, ''), c.merchant_id
		FROM qr_events ev JOIN qr_codes c ON c.id = ev.code_id
		WHERE ev.id > ? AND ev.kind = 'scan' ORDER BY ev.id LIMIT ?`, cursor, importBatch)
	if err != nil {
		return 0, cursor, false, err
	}
	type row struct {
		id, at, account      int64
		slug, app, merchantS string
	}
	var batch []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.at, &r.account, &r.slug, &r.app, &r.merchantS); err != nil {
			rows.Close()
			return 0, cursor, false, err
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, cursor, false, err
	}
	next, n := cursor, 0
	apps := merchantApps{}
	for _, r := range batch {
		if r.at >= settled.UnixMilli() {
			return n, next, false, nil
		}
		next = r.id
		appID := r.app
		if appID == "" {
			if m, err := strconv.ParseInt(r.merchantS, 10, 64); err == nil {
				if appID, err = apps.only(ctx, tx, m); err != nil {
					return 0, cursor, false, err
				}
			}
		}
		if appID == "" {
			continue
		}
		err := p.Discovery.RecordScanTx(ctx, tx, discovery.Scan{AppID: appID, QRSlug: r.slug, AccountID: r.account, At: time.UnixMilli(r.at)})
		switch {
		case err == nil:
			n++
		case openmini.ErrorCode(err) == openmini.ENOTFOUND || openmini.ErrorCode(err) == openmini.EINVALID:
			// The app or account is gone, or a slug discovery cannot hold.
		default:
			return 0, cursor, false, err
		}
	}
	return n, next, len(batch) == importBatch, nil
}

// merchantApps caches, per merchant, the one app it links ("" when it
// links none or several).
type merchantApps map[int64]string

func (c merchantApps) only(ctx context.Context, q sqldb.Querier, merchantID int64) (string, error) {
	if id, ok := c[merchantID]; ok {
		return id, nil
	}
	rows, err := q.Query(ctx, `SELECT app_id FROM pay_merchant_apps WHERE merchant_id = ? ORDER BY app_id LIMIT 2`, merchantID)
	if err != nil {
		return "", err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return "", err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	c[merchantID] = ""
	if len(ids) == 1 {
		c[merchantID] = ids[0]
	}
	return c[merchantID], nil
}
