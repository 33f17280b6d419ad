// Package audit is the append-only record of who changed what, when: every
// state change of organisations, apps, versions and releases. An
// organisation reads its own entries; the operator reads all of them.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Entry is one recorded action.
type Entry struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"org_id,omitempty"`
	AppID     string    `json:"app_id,omitempty"`
	ActorID   int64     `json:"actor_id,omitempty"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"` // e.g. "version.submit"
	Detail    string    `json:"detail,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Record appends an entry through q, normally the transaction that made
// the change, so the change and its record commit together. detail is
// encoded as JSON unless it is already a string.
func Record(ctx context.Context, q sqldb.Querier, actor openmini.Actor, orgID int64, appID, action string, detail any) error {
	var d string
	switch v := detail.(type) {
	case nil:
	case string:
		d = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
		d = string(b)
	}
	var org, actorID any
	if orgID != 0 {
		org = orgID
	}
	if actor.AccountID != 0 {
		actorID = actor.AccountID
	}
	label := actor.Label
	if label == "" {
		label = "system"
	}
	_, err := q.Exec(ctx, `INSERT INTO audit_log (org_id, app_id, actor_id, actor, action, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		org, appID, actorID, label, action, d, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Filter selects entries, newest first.
type Filter struct {
	OrgID    int64  // 0 = any
	AppID    string // "" = any
	BeforeID int64  // for paging: entries with a smaller ID
	Limit    int    // default 100, at most 500
}

// List returns entries matching f, newest first.
func List(ctx context.Context, q sqldb.Querier, f Filter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	query := `SELECT id, COALESCE(org_id, 0), app_id, COALESCE(actor_id, 0), actor, action, detail, created_at FROM audit_log WHERE 1 = 1`
	var args []any
	if f.OrgID != 0 {
		query += ` AND org_id = ?`
		args = append(args, f.OrgID)
	}
	if f.AppID != "" {
		query += ` AND app_id = ?`
		args = append(args, f.AppID)
	}
	if f.BeforeID > 0 {
		query += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	query += fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, f.Limit)
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&e.ID, &e.OrgID, &e.AppID, &e.ActorID, &e.Actor, &e.Action, &e.Detail, &at); err != nil {
			return nil, fmt.Errorf("list audit log: %w", err)
		}
		e.CreatedAt = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
