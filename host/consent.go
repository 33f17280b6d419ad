package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Device permissions a mini program can ask for. The manifest declares
// them in req_permissions (with a reason shown to the user); the user
// allows or denies each once per app.
const (
	PermLocation  = "location"
	PermClipboard = "clipboard"
	PermCamera    = "camera"
	PermUserInfo  = "userInfo"
	PermPhone     = "phoneNumber"
)

// CanonicalPermission maps the names developers write (W3C-style
// "system.location", WeChat-style "scope.userLocation") to ours; unknown
// names come back unchanged.
func CanonicalPermission(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "system.")
	n = strings.TrimPrefix(n, "scope.")
	switch n {
	case "location", "userlocation", "geolocation":
		return PermLocation
	case "clipboard":
		return PermClipboard
	case "camera":
		return PermCamera
	case "userinfo", "profile":
		return PermUserInfo
	case "phonenumber", "phone":
		return PermPhone
	}
	return name
}

// Consents remembers the device permissions users granted or refused.
type Consents struct {
	db  *sqldb.DB
	now func() time.Time
}

// NewConsents returns the consent store.
func NewConsents(db *sqldb.DB) *Consents { return &Consents{db: db, now: time.Now} }

// Decision reports whether owner decided on perm for appID, and how.
func (c *Consents) Decision(ctx context.Context, owner Owner, appID, perm string) (decided, granted bool, err error) {
	var g int
	err = c.db.QueryRow(ctx, `SELECT granted FROM host_consents WHERE owner = ? AND app_id = ? AND permission = ?`, string(owner), appID, perm).Scan(&g)
	if errors.Is(err, sqldb.ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("consent: %w", err)
	}
	return true, g != 0, nil
}

// Permissions lists the device permissions by their canonical names.
var Permissions = []string{PermLocation, PermClipboard, PermCamera, PermUserInfo, PermPhone}

// KnownPermission reports whether perm is a canonical permission name.
func KnownPermission(perm string) bool {
	for _, p := range Permissions {
		if p == perm {
			return true
		}
	}
	return false
}

// Decide records the user's answer. perm must be a canonical name
// (invalid otherwise); an unknown app is not_found.
func (c *Consents) Decide(ctx context.Context, owner Owner, appID, perm string, granted bool) error {
	if !KnownPermission(perm) {
		return openmini.Errorf(openmini.EINVALID, "consent: %q is not a permission (one of %s)", perm, strings.Join(Permissions, ", "))
	}
	g := 0
	if granted {
		g = 1
	}
	_, err := c.db.Exec(ctx, `INSERT INTO host_consents (owner, app_id, permission, granted, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (owner, app_id, permission) DO UPDATE SET granted = excluded.granted, updated_at = excluded.updated_at`,
		string(owner), appID, perm, g, c.now().UnixMilli())
	if errors.Is(err, sqldb.ErrForeignKey) {
		return openmini.Errorf(openmini.ENOTFOUND, "consent: there is no mini program %q", appID)
	}
	if err != nil {
		return fmt.Errorf("consent: %w", err)
	}
	return nil
}

// Grant is one recorded decision.
type Grant struct {
	AppID      string    `json:"app_id"`
	Permission string    `json:"permission"`
	Granted    bool      `json:"granted"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// List returns owner's decisions, by app.
func (c *Consents) List(ctx context.Context, owner Owner) ([]Grant, error) {
	rows, err := c.db.Query(ctx, `SELECT app_id, permission, granted, updated_at FROM host_consents WHERE owner = ? ORDER BY app_id, permission`, string(owner))
	if err != nil {
		return nil, fmt.Errorf("consents: %w", err)
	}
	defer rows.Close()
	out := []Grant{}
	for rows.Next() {
		var g Grant
		var granted int
		var at int64
		if err := rows.Scan(&g.AppID, &g.Permission, &granted, &at); err != nil {
			return nil, err
		}
		g.Granted, g.UpdatedAt = granted != 0, time.UnixMilli(at)
		out = append(out, g)
	}
	return out, rows.Err()
}

// Forget removes a decision, so the app must ask again.
func (c *Consents) Forget(ctx context.Context, owner Owner, appID, perm string) error {
	res, err := c.db.Exec(ctx, `DELETE FROM host_consents WHERE owner = ? AND app_id = ? AND permission = ?`, string(owner), appID, perm)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return openmini.Errorf(openmini.ENOTFOUND, "no decision on %s for %s", perm, appID)
	}
	return nil
}
