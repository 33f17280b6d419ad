package qr

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openmini/openmini/sqldb"
)

// This file holds the SQL. Every function takes a sqldb.Querier so it runs
// inside or outside a transaction.

const codeColumns = `id, slug, org_id, app_id, batch_id, kind, page, query, version, merchant_id, order_id,
	label, sublabel, expires_at, disabled_at, created_by, created_at, updated_at`

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
func nullInt(v int64) sql.NullInt64      { return sql.NullInt64{Int64: v, Valid: v != 0} }

type scanner interface{ Scan(dest ...any) error }

func scanCode(row scanner) (*Code, error) {
	var (
		c                                   Code
		appID                               sql.NullString
		batchID, createdBy                  sql.NullInt64
		kind, query                         string
		expires, disabled, created, updated int64
	)
	err := row.Scan(&c.ID, &c.Slug, &c.OrgID, &appID, &batchID, &kind, &c.Target.Page, &query, &c.Target.Version,
		&c.Target.MerchantID, &c.Target.OrderID, &c.Label, &c.Sublabel, &expires, &disabled, &createdBy, &created, &updated)
	if err != nil {
		return nil, err
	}
	c.Target.Kind = Kind(kind)
	c.Target.AppID = appID.String
	c.AppID = appID.String
	c.BatchID = batchID.Int64
	c.CreatedBy = createdBy.Int64
	c.ExpiresAt, c.DisabledAt = fromMS(expires), fromMS(disabled)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	if query != "" {
		q, err := decodeQuery(query)
		if err != nil {
			return nil, fmt.Errorf("code %d: stored query: %w", c.ID, err)
		}
		c.Target.Query = q
	}
	return &c, nil
}

// insertCode stores c with a fresh random slug, retrying on the (rare)
// slug collision without aborting the transaction, and fills c.ID and
// c.Slug.
func insertCode(ctx context.Context, q sqldb.Querier, c *Code) error {
	t := c.Target
	for attempt := 0; attempt < 8; attempt++ {
		slug, err := newSlug()
		if err != nil {
			return fmt.Errorf("new slug: %w", err)
		}
		var id int64
		err = q.QueryRow(ctx, `INSERT INTO qr_codes (slug, org_id, app_id, batch_id, kind, page, query, version, merchant_id, order_id,
			label, sublabel, expires_at, disabled_at, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
			ON CONFLICT (slug) DO NOTHING RETURNING id`,
			slug, c.OrgID, nullString(c.AppID), nullInt(c.BatchID), string(t.Kind), t.Page, encodeQuery(t.Query), t.Version,
			t.MerchantID, t.OrderID, c.Label, c.Sublabel, ms(c.ExpiresAt), nullInt(c.CreatedBy), ms(c.CreatedAt), ms(c.UpdatedAt),
		).Scan(&id)
		if errors.Is(err, sqldb.ErrNotFound) {
			continue // slug taken: draw again
		}
		if err != nil {
			return err
		}
		c.ID, c.Slug = id, slug
		return nil
	}
	return errors.New("insert code: no free slug after 8 draws")
}

func getCode(ctx context.Context, q sqldb.Querier, where string, args ...any) (*Code, error) {
	return scanCode(q.QueryRow(ctx, `SELECT `+codeColumns+` FROM qr_codes WHERE `+where, args...))
}

func listCodes(ctx context.Context, q sqldb.Querier, f ListFilter) ([]*Code, error) {
	var (
		where = []string{"org_id = ?"}
		args  = []any{f.OrgID}
	)
	if f.AppID != "" {
		where = append(where, "app_id = ?")
		args = append(args, f.AppID)
	}
	if f.BatchID != 0 {
		where = append(where, "batch_id = ?")
		args = append(args, f.BatchID)
	}
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, string(f.Kind))
	}
	if f.AfterID != 0 {
		where = append(where, "id > ?")
		args = append(args, f.AfterID)
	}
	args = append(args, f.Limit)
	rows, err := q.Query(ctx, `SELECT `+codeColumns+` FROM qr_codes WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Code
	for rows.Next() {
		c, err := scanCode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func updateCode(ctx context.Context, q sqldb.Querier, c *Code) error {
	t := c.Target
	res, err := q.Exec(ctx, `UPDATE qr_codes SET kind = ?, page = ?, query = ?, version = ?, merchant_id = ?, order_id = ?,
		label = ?, sublabel = ?, expires_at = ?, disabled_at = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
		string(t.Kind), t.Page, encodeQuery(t.Query), t.Version, t.MerchantID, t.OrderID,
		c.Label, c.Sublabel, ms(c.ExpiresAt), ms(c.DisabledAt), ms(c.UpdatedAt), c.ID, c.OrgID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqldb.ErrNotFound
	}
	return nil
}

func insertBatch(ctx context.Context, q sqldb.Querier, b *Batch) error {
	return q.QueryRow(ctx, `INSERT INTO qr_batches (org_id, app_id, name, param, label_template, first_n, last_n, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		b.OrgID, nullString(b.AppID), b.Name, b.Param, b.LabelTemplate, b.From, b.To, nullInt(b.CreatedBy), ms(b.CreatedAt),
	).Scan(&b.ID)
}

func getBatch(ctx context.Context, q sqldb.Querier, orgID, id int64) (*Batch, error) {
	var (
		b                 Batch
		appID             sql.NullString
		createdBy         sql.NullInt64
		created, from, to int64
	)
	err := q.QueryRow(ctx, `SELECT id, org_id, app_id, name, param, label_template, first_n, last_n, created_by, created_at
		FROM qr_batches WHERE id = ? AND org_id = ?`, id, orgID).Scan(
		&b.ID, &b.OrgID, &appID, &b.Name, &b.Param, &b.LabelTemplate, &from, &to, &createdBy, &created)
	if err != nil {
		return nil, err
	}
	b.AppID, b.CreatedBy, b.CreatedAt = appID.String, createdBy.Int64, fromMS(created)
	b.From, b.To = int(from), int(to)
	return &b, nil
}

// insertEvent records a scan, launch or payment. For payments with a
// reference already recorded it inserts nothing and reports false.
func insertEvent(ctx context.Context, q sqldb.Querier, codeID int64, kind string, v Visitor, p Payment, at time.Time) (bool, error) {
	var ref sql.NullString
	if kind == "payment" {
		ref = nullString(p.Ref)
	}
	res, err := q.Exec(ctx, `INSERT INTO qr_events (code_id, kind, account_id, visitor, amount, currency, payment_ref, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (payment_ref) DO NOTHING`,
		codeID, kind, nullInt(v.AccountID), v.Visitor, p.Amount, p.Currency, ref, ms(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// statsWhere is the event filter shared by the stats queries; scope is a
// condition on qr_codes c.
func statsWhere(scope string, r StatsRange) (string, []any) {
	where := scope
	var args []any
	if !r.Since.IsZero() {
		where += " AND e.at >= ?"
		args = append(args, ms(r.Since))
	}
	if !r.Until.IsZero() {
		where += " AND e.at < ?"
		args = append(args, ms(r.Until))
	}
	return where, args
}

// userKey identifies a user for "unique users": the account when signed in,
// else the anonymous visitor id.
const userKey = `CASE WHEN e.account_id IS NOT NULL THEN 'a' || CAST(e.account_id AS TEXT)
	WHEN e.visitor <> '' THEN 'v' || e.visitor END`

// queryStats returns per-code totals for the codes matching scope (a
// condition on qr_codes c with its args), keyed by code id.
func queryStats(ctx context.Context, q sqldb.Querier, scope string, scopeArgs []any, r StatsRange) (map[int64]*Stats, error) {
	where, args := statsWhere(scope, r)
	rows, err := q.Query(ctx, `SELECT e.code_id,
			SUM(CASE WHEN e.kind = 'scan' THEN 1 ELSE 0 END),
			COUNT(DISTINCT CASE WHEN e.kind = 'scan' THEN `+userKey+` END),
			SUM(CASE WHEN e.kind = 'launch' THEN 1 ELSE 0 END),
			SUM(CASE WHEN e.kind = 'payment' THEN 1 ELSE 0 END),
			COALESCE(MIN(CASE WHEN e.kind = 'scan' THEN e.at END), 0),
			COALESCE(MAX(CASE WHEN e.kind = 'scan' THEN e.at END), 0)
		FROM qr_events e JOIN qr_codes c ON c.id = e.code_id
		WHERE `+where+` GROUP BY e.code_id`, append(append([]any{}, scopeArgs...), args...)...)
	if err != nil {
		return nil, err
	}
	out := map[int64]*Stats{}
	for rows.Next() {
		var id, first, last int64
		s := &Stats{}
		if err := rows.Scan(&id, &s.Scans, &s.UniqueUsers, &s.Launches, &s.Payments, &first, &last); err != nil {
			rows.Close()
			return nil, err
		}
		s.FirstScanAt, s.LastScanAt = fromMS(first), fromMS(last)
		out[id] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT e.code_id, e.currency, CAST(SUM(e.amount) AS BIGINT)
		FROM qr_events e JOIN qr_codes c ON c.id = e.code_id
		WHERE e.kind = 'payment' AND `+where+` GROUP BY e.code_id, e.currency ORDER BY e.code_id, e.currency`,
		append(append([]any{}, scopeArgs...), args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var a Amount
		if err := rows.Scan(&id, &a.Currency, &a.Minor); err != nil {
			return nil, err
		}
		if s := out[id]; s != nil {
			s.Paid = append(s.Paid, a)
		}
	}
	return out, rows.Err()
}

// queryUnique counts distinct scanning users over all codes in scope (a
// sum of per-code counts would count a user once per code).
func queryUnique(ctx context.Context, q sqldb.Querier, scope string, scopeArgs []any, r StatsRange) (int64, error) {
	where, args := statsWhere(scope, r)
	var n int64
	err := q.QueryRow(ctx, `SELECT COUNT(DISTINCT `+userKey+`)
		FROM qr_events e JOIN qr_codes c ON c.id = e.code_id
		WHERE e.kind = 'scan' AND `+where, append(append([]any{}, scopeArgs...), args...)...).Scan(&n)
	return n, err
}

// queryDays returns per-day (UTC) counts for the codes in scope.
func queryDays(ctx context.Context, q sqldb.Querier, scope string, scopeArgs []any, r StatsRange) ([]DayStats, error) {
	where, args := statsWhere(scope, r)
	rows, err := q.Query(ctx, `SELECT e.at / 86400000 AS day,
			SUM(CASE WHEN e.kind = 'scan' THEN 1 ELSE 0 END),
			SUM(CASE WHEN e.kind = 'launch' THEN 1 ELSE 0 END),
			SUM(CASE WHEN e.kind = 'payment' THEN 1 ELSE 0 END)
		FROM qr_events e JOIN qr_codes c ON c.id = e.code_id
		WHERE `+where+` GROUP BY e.at / 86400000 ORDER BY day`, append(append([]any{}, scopeArgs...), args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DayStats
	for rows.Next() {
		var day int64
		var d DayStats
		if err := rows.Scan(&day, &d.Scans, &d.Launches, &d.Payments); err != nil {
			return nil, err
		}
		d.Day = time.UnixMilli(day * 86400000).UTC().Format(time.DateOnly)
		out = append(out, d)
	}
	return out, rows.Err()
}
