// Package org holds developer organisations: their members and roles,
// invitations (to join an organisation, or from the operator to admit a
// new one), admission under the operator's policy, and the API keys the CLI
// and CI use.
package org

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/policy"
	"github.com/openmini/openmini/sqldb"
)

// Member roles, from most to least powerful.
const (
	RoleOwner     = "owner"     // everything, including members and API keys
	RoleDeveloper = "developer" // apps, versions, testers, releases
	RoleViewer    = "viewer"    // read only
)

func rank(role string) int {
	switch role {
	case RoleOwner:
		return 3
	case RoleDeveloper:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// ValidRole reports whether role is a member role.
func ValidRole(role string) bool { return rank(role) > 0 }

// Org is a developer organisation.
type Org struct {
	ID        int64     `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Status    string    `json:"status"` // active or suspended
	CreatedAt time.Time `json:"created_at"`
	Role      string    `json:"role,omitempty"` // the asking account's role, when listed for it
}

// Member is an account's membership in an organisation.
type Member struct {
	AccountID int64     `json:"account_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// Service manages organisations.
type Service struct {
	db     *sqldb.DB
	acct   *account.Service
	policy *policy.Service
	now    func() time.Time
}

// New returns the organisation service.
func New(db *sqldb.DB, acct *account.Service, pol *policy.Service) *Service {
	return &Service{db: db, acct: acct, policy: pol, now: time.Now}
}

// RoleOf returns actor's role in org: an API key of that org acts as a
// developer; operator staff, who are not members, get "" here.
func (s *Service) RoleOf(ctx context.Context, actor openmini.Actor, orgID int64) (string, error) {
	if actor.IsKey() {
		if actor.KeyOrgID == orgID {
			return RoleDeveloper, nil
		}
		return "", nil
	}
	var role string
	err := s.db.QueryRow(ctx, `SELECT role FROM org_members WHERE org_id = ? AND account_id = ?`, orgID, actor.AccountID).Scan(&role)
	if errors.Is(err, sqldb.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("role: %w", err)
	}
	return role, nil
}

// Require returns nil when actor has at least role min in org. Operator
// staff may read any organisation (min viewer); admins may do anything.
// A suspended organisation is read-only.
func (s *Service) Require(ctx context.Context, actor openmini.Actor, orgID int64, min string) error {
	o, err := s.Get(ctx, orgID)
	if err != nil {
		return err
	}
	if actor.IsAdmin() || (actor.IsStaff() && min == RoleViewer) {
		return nil
	}
	role, err := s.RoleOf(ctx, actor, orgID)
	if err != nil {
		return err
	}
	if rank(role) == 0 {
		return openmini.Errorf(openmini.ENOTFOUND, "no organisation %d", orgID)
	}
	if rank(role) < rank(min) {
		return openmini.Errorf(openmini.EFORBIDDEN, "this needs the %s role in %s; you are %s", min, o.Name, role)
	}
	if o.Status != "active" && min != RoleViewer {
		return openmini.Errorf(openmini.EFORBIDDEN, "the organisation %s is suspended by the operator", o.Name)
	}
	return nil
}

// Get returns an organisation; not_found if there is none.
func (s *Service) Get(ctx context.Context, id int64) (Org, error) {
	var o Org
	var at int64
	err := s.db.QueryRow(ctx, `SELECT id, slug, name, status, created_at FROM orgs WHERE id = ?`, id).Scan(&o.ID, &o.Slug, &o.Name, &o.Status, &at)
	if errors.Is(err, sqldb.ErrNotFound) {
		return o, openmini.Errorf(openmini.ENOTFOUND, "no organisation %d", id)
	}
	o.CreatedAt = time.UnixMilli(at)
	return o, err
}

// ForAccount lists the organisations an account belongs to, with its role.
func (s *Service) ForAccount(ctx context.Context, accountID int64) ([]Org, error) {
	return s.list(ctx, `SELECT o.id, o.slug, o.name, o.status, o.created_at, m.role FROM orgs o
		JOIN org_members m ON m.org_id = o.id WHERE m.account_id = ? ORDER BY o.name`, accountID)
}

// All lists every organisation (operator staff only).
func (s *Service) All(ctx context.Context, actor openmini.Actor) ([]Org, error) {
	if !actor.IsStaff() {
		return nil, openmini.Errorf(openmini.EFORBIDDEN, "only operator staff may list all organisations")
	}
	return s.list(ctx, `SELECT id, slug, name, status, created_at, '' FROM orgs ORDER BY name`)
}

func (s *Service) list(ctx context.Context, q string, args ...any) ([]Org, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	defer rows.Close()
	var out []Org
	for rows.Next() {
		var o Org
		var at int64
		if err := rows.Scan(&o.ID, &o.Slug, &o.Name, &o.Status, &at, &o.Role); err != nil {
			return nil, err
		}
		o.CreatedAt = time.UnixMilli(at)
		out = append(out, o)
	}
	return out, rows.Err()
}

// slugify makes a URL-friendly slug from a name; non-Latin names get a
// random slug.
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) < 3 {
		s = "org-" + randomID(6)
	}
	return s
}

const idAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// randomID returns n random characters from a lower-case alphabet without
// look-alikes.
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

// createOrg inserts an organisation with owner as its first owner.
func (s *Service) createOrg(ctx context.Context, tx *sqldb.Tx, name string, owner int64) (Org, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 80 {
		return Org{}, openmini.Errorf(openmini.EINVALID, "organisation: give a name of 1 to 80 characters")
	}
	now := s.now().UnixMilli()
	slug := slugify(name)
	var o Org
	for i := 0; ; i++ {
		try := slug
		if i > 0 {
			try = slug + "-" + randomID(4)
		}
		err := tx.QueryRow(ctx, `INSERT INTO orgs (slug, name, status, created_at) VALUES (?, ?, 'active', ?) RETURNING id`, try, name, now).Scan(&o.ID)
		if errors.Is(err, sqldb.ErrUnique) && i < 5 {
			continue
		}
		if err != nil {
			return Org{}, fmt.Errorf("create organisation: %w", err)
		}
		o.Slug = try
		break
	}
	o.Name, o.Status, o.CreatedAt, o.Role = name, "active", time.UnixMilli(now), RoleOwner
	if _, err := tx.Exec(ctx, `INSERT INTO org_members (org_id, account_id, role, created_at) VALUES (?, ?, 'owner', ?)`, o.ID, owner, now); err != nil {
		return Org{}, fmt.Errorf("create organisation: %w", err)
	}
	return o, nil
}

// Create makes a new organisation owned by the actor, if the operator's
// admission policy lets the actor's e-mail and the name in without an
// invitation.
func (s *Service) Create(ctx context.Context, actor openmini.Actor, name string) (Org, error) {
	if actor.IsKey() || actor.AccountID == 0 {
		return Org{}, openmini.Errorf(openmini.EFORBIDDEN, "sign in to create an organisation")
	}
	a, err := s.acct.Get(ctx, actor.AccountID)
	if err != nil {
		return Org{}, err
	}
	pol, err := s.policy.Get(ctx)
	if err != nil {
		return Org{}, err
	}
	if !actor.IsStaff() {
		if err := pol.Admit(a.Email, name, false); err != nil {
			return Org{}, err
		}
	}
	var o Org
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		o, err = s.createOrg(ctx, tx, name, a.ID)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, o.ID, "", "org.create", map[string]string{"name": o.Name})
	})
	return o, err
}

// SetStatus suspends or re-activates an organisation (operator admins).
func (s *Service) SetStatus(ctx context.Context, actor openmini.Actor, orgID int64, status string) error {
	if !actor.IsAdmin() {
		return openmini.Errorf(openmini.EFORBIDDEN, "only an operator admin may suspend organisations")
	}
	if status != "active" && status != "suspended" {
		return openmini.Errorf(openmini.EINVALID, "status: %q is not active or suspended", status)
	}
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE orgs SET status = ? WHERE id = ?`, status, orgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return openmini.Errorf(openmini.ENOTFOUND, "no organisation %d", orgID)
		}
		return audit.Record(ctx, tx, actor, orgID, "", "org."+status, nil)
	})
}

// Members lists an organisation's members (viewers and up).
func (s *Service) Members(ctx context.Context, actor openmini.Actor, orgID int64) ([]Member, error) {
	if err := s.Require(ctx, actor, orgID, RoleViewer); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT a.id, COALESCE(a.email, ''), a.name, m.role, m.created_at FROM org_members m
		JOIN accounts a ON a.id = m.account_id WHERE m.org_id = ? ORDER BY m.created_at, a.id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		var at int64
		if err := rows.Scan(&m.AccountID, &m.Email, &m.Name, &m.Role, &at); err != nil {
			return nil, err
		}
		m.CreatedAt = time.UnixMilli(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// SetRole changes a member's role (owners only). The last owner stays.
func (s *Service) SetRole(ctx context.Context, actor openmini.Actor, orgID, accountID int64, role string) error {
	if !ValidRole(role) {
		return openmini.Errorf(openmini.EINVALID, "role: %q is not owner, developer or viewer", role)
	}
	return s.changeMember(ctx, actor, orgID, accountID, role)
}

// RemoveMember removes a member (owners only; anyone may leave). The last
// owner stays.
func (s *Service) RemoveMember(ctx context.Context, actor openmini.Actor, orgID, accountID int64) error {
	return s.changeMember(ctx, actor, orgID, accountID, "")
}

func (s *Service) changeMember(ctx context.Context, actor openmini.Actor, orgID, accountID int64, role string) error {
	self := !actor.IsKey() && actor.AccountID == accountID && role == ""
	if !self {
		if err := s.Require(ctx, actor, orgID, RoleOwner); err != nil {
			return err
		}
	}
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		var current string
		err := tx.QueryRow(ctx, `SELECT role FROM org_members WHERE org_id = ? AND account_id = ?`, orgID, accountID).Scan(&current)
		if errors.Is(err, sqldb.ErrNotFound) {
			return openmini.Errorf(openmini.ENOTFOUND, "account %d is not a member", accountID)
		}
		if err != nil {
			return err
		}
		if current == RoleOwner && role != RoleOwner {
			var owners int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM org_members WHERE org_id = ? AND role = 'owner'`, orgID).Scan(&owners); err != nil {
				return err
			}
			if owners <= 1 {
				return openmini.Errorf(openmini.ECONFLICT, "an organisation needs an owner; make someone else owner first")
			}
		}
		if role == "" {
			_, err = tx.Exec(ctx, `DELETE FROM org_members WHERE org_id = ? AND account_id = ?`, orgID, accountID)
		} else {
			_, err = tx.Exec(ctx, `UPDATE org_members SET role = ? WHERE org_id = ? AND account_id = ?`, role, orgID, accountID)
		}
		if err != nil {
			return err
		}
		action := "member.role"
		if role == "" {
			action = "member.remove"
		}
		return audit.Record(ctx, tx, actor, orgID, "", action, map[string]any{"account_id": accountID, "role": role})
	})
}
