package org

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/sqldb"
)

// Invitation lets people in: with OrgID 0 it admits a new organisation
// (the operator's invitation under invite-only admission); otherwise it
// adds a member to OrgID with Role. The token itself is shown once.
type Invitation struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"org_id,omitempty"`
	OrgName   string    `json:"org_name,omitempty"`
	Role      string    `json:"role"`
	Email     string    `json:"email,omitempty"` // only this address may use it, when set
	Note      string    `json:"note,omitempty"`
	MaxUses   int       `json:"max_uses"`
	Uses      int       `json:"uses"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
	Revoked   bool      `json:"revoked"`
}

// Usable reports whether the invitation can still be used at now.
func (i Invitation) Usable(now time.Time) bool {
	return !i.Revoked && i.Uses < i.MaxUses && now.Before(i.ExpiresAt)
}

// NewInvitation is what CreateInvitation needs.
type NewInvitation struct {
	OrgID   int64
	Role    string        // default owner for admission, developer for members
	Email   string        // optional restriction
	Note    string        // for the operator's records
	MaxUses int           // default 1
	TTL     time.Duration // default 7 days, at most 90 days
}

// CreateInvitation makes an invitation and returns it with its token.
// Admission invitations (OrgID 0) are for operator admins; member
// invitations for the organisation's owners.
func (s *Service) CreateInvitation(ctx context.Context, actor openmini.Actor, ni NewInvitation) (Invitation, string, error) {
	if ni.OrgID == 0 {
		if !actor.IsAdmin() {
			return Invitation{}, "", openmini.Errorf(openmini.EFORBIDDEN, "only an operator admin may invite new organisations")
		}
		ni.Role = RoleOwner
	} else {
		if err := s.Require(ctx, actor, ni.OrgID, RoleOwner); err != nil {
			return Invitation{}, "", err
		}
		if ni.Role == "" {
			ni.Role = RoleDeveloper
		}
	}
	if !ValidRole(ni.Role) {
		return Invitation{}, "", openmini.Errorf(openmini.EINVALID, "role: %q is not owner, developer or viewer", ni.Role)
	}
	if ni.MaxUses == 0 {
		ni.MaxUses = 1
	}
	if ni.MaxUses < 1 || ni.MaxUses > 10000 {
		return Invitation{}, "", openmini.Errorf(openmini.EINVALID, "max_uses: must be between 1 and 10000")
	}
	if ni.TTL == 0 {
		ni.TTL = 7 * 24 * time.Hour
	}
	if ni.TTL < time.Minute || ni.TTL > 90*24*time.Hour {
		return Invitation{}, "", openmini.Errorf(openmini.EINVALID, "expires: an invitation lasts between a minute and 90 days")
	}
	ni.Email = account.NormalizeEmail(ni.Email)
	if ni.Email != "" {
		if err := account.CheckEmail(ni.Email); err != nil {
			return Invitation{}, "", err
		}
	}
	token := "inv_" + randomID(26)
	now := s.now()
	inv := Invitation{OrgID: ni.OrgID, Role: ni.Role, Email: ni.Email, Note: strings.TrimSpace(ni.Note), MaxUses: ni.MaxUses,
		ExpiresAt: now.Add(ni.TTL), CreatedAt: now}
	var org any
	if ni.OrgID != 0 {
		org = ni.OrgID
	}
	var by any
	if actor.AccountID != 0 {
		by = actor.AccountID
	}
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO invitations (token_hash, org_id, role, email, note, max_uses, expires_at, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, account.HashToken(token), org, inv.Role, inv.Email, inv.Note,
			inv.MaxUses, inv.ExpiresAt.UnixMilli(), by, now.UnixMilli()).Scan(&inv.ID)
		if err != nil {
			return fmt.Errorf("create invitation: %w", err)
		}
		return audit.Record(ctx, tx, actor, ni.OrgID, "", "invitation.create", map[string]any{"id": inv.ID, "role": inv.Role, "max_uses": inv.MaxUses, "email": inv.Email})
	})
	if err != nil {
		return Invitation{}, "", err
	}
	return inv, token, nil
}

const invCols = `i.id, COALESCE(i.org_id, 0), COALESCE(o.name, ''), i.role, i.email, i.note, i.max_uses, i.uses, i.expires_at, i.created_at, i.revoked_at`

func scanInv(row interface{ Scan(...any) error }) (Invitation, error) {
	var i Invitation
	var exp, at, rev int64
	err := row.Scan(&i.ID, &i.OrgID, &i.OrgName, &i.Role, &i.Email, &i.Note, &i.MaxUses, &i.Uses, &exp, &at, &rev)
	i.ExpiresAt, i.CreatedAt, i.Revoked = time.UnixMilli(exp), time.UnixMilli(at), rev != 0
	return i, err
}

// Invitations lists an organisation's member invitations (owners), or with
// orgID 0 the admission invitations (operator admins).
func (s *Service) Invitations(ctx context.Context, actor openmini.Actor, orgID int64) ([]Invitation, error) {
	where := `i.org_id = ?`
	args := []any{orgID}
	if orgID == 0 {
		if !actor.IsAdmin() {
			return nil, openmini.Errorf(openmini.EFORBIDDEN, "only an operator admin may list admission invitations")
		}
		where, args = `i.org_id IS NULL`, nil
	} else if err := s.Require(ctx, actor, orgID, RoleOwner); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+invCols+` FROM invitations i LEFT JOIN orgs o ON o.id = i.org_id WHERE `+where+` ORDER BY i.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		i, err := scanInv(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// RevokeInvitation stops an invitation from being used.
func (s *Service) RevokeInvitation(ctx context.Context, actor openmini.Actor, id int64) error {
	inv, err := scanInv(s.db.QueryRow(ctx, `SELECT `+invCols+` FROM invitations i LEFT JOIN orgs o ON o.id = i.org_id WHERE i.id = ?`, id))
	if errors.Is(err, sqldb.ErrNotFound) {
		return openmini.Errorf(openmini.ENOTFOUND, "no invitation %d", id)
	}
	if err != nil {
		return err
	}
	if inv.OrgID == 0 && !actor.IsAdmin() {
		return openmini.Errorf(openmini.EFORBIDDEN, "only an operator admin may revoke admission invitations")
	}
	if inv.OrgID != 0 {
		if err := s.Require(ctx, actor, inv.OrgID, RoleOwner); err != nil {
			return err
		}
	}
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE invitations SET revoked_at = ? WHERE id = ?`, s.now().UnixMilli(), id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, inv.OrgID, "", "invitation.revoke", map[string]any{"id": id})
	})
}

// LookupInvitation describes the invitation a token names, for the join
// page; not_found when the token is unknown.
func (s *Service) LookupInvitation(ctx context.Context, token string) (Invitation, error) {
	inv, err := scanInv(s.db.QueryRow(ctx, `SELECT `+invCols+` FROM invitations i LEFT JOIN orgs o ON o.id = i.org_id WHERE i.token_hash = ?`, account.HashToken(strings.TrimSpace(token))))
	if errors.Is(err, sqldb.ErrNotFound) {
		return inv, openmini.Errorf(openmini.ENOTFOUND, "invitation: this code is not valid")
	}
	return inv, err
}

// consume takes one use of the invitation inside tx, atomically: a code
// with one use left is used by exactly one of several parallel requests.
func (s *Service) consume(ctx context.Context, tx *sqldb.Tx, token, email string) (Invitation, error) {
	token = strings.TrimSpace(token)
	inv, err := scanInv(tx.QueryRow(ctx, `SELECT `+invCols+` FROM invitations i LEFT JOIN orgs o ON o.id = i.org_id WHERE i.token_hash = ?`, account.HashToken(token)))
	if errors.Is(err, sqldb.ErrNotFound) {
		return inv, openmini.Errorf(openmini.EINVALID, "invitation: this code is not valid")
	}
	if err != nil {
		return inv, err
	}
	now := s.now()
	switch {
	case inv.Revoked:
		return inv, openmini.Errorf(openmini.EINVALID, "invitation: this code was revoked")
	case !now.Before(inv.ExpiresAt):
		return inv, openmini.Errorf(openmini.EINVALID, "invitation: this code expired on %s", inv.ExpiresAt.UTC().Format("2006-01-02"))
	case inv.Email != "" && inv.Email != account.NormalizeEmail(email):
		return inv, openmini.Errorf(openmini.EFORBIDDEN, "invitation: this code is for %s", inv.Email)
	}
	res, err := tx.Exec(ctx, `UPDATE invitations SET uses = uses + 1 WHERE id = ? AND uses < max_uses AND revoked_at = 0`, inv.ID)
	if err != nil {
		return inv, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return inv, openmini.Errorf(openmini.EINVALID, "invitation: this code has been used up")
	}
	inv.Uses++
	return inv, nil
}

// SignUp is a developer registering from the console.
type SignUp struct {
	Email    string
	Name     string
	Password string
	OrgName  string // the new organisation; ignored when joining one
	Code     string // an invitation token, when required or given
}

// SignUp creates an account and either a new organisation it owns or a
// membership from an invitation, all in one transaction. Without a code,
// the operator's admission policy must allow open sign-up for this e-mail
// and organisation name.
func (s *Service) SignUp(ctx context.Context, su SignUp) (account.Account, Org, error) {
	pol, err := s.policy.Get(ctx)
	if err != nil {
		return account.Account{}, Org{}, err
	}
	su.Email = account.NormalizeEmail(su.Email)
	if err := account.CheckEmail(su.Email); err != nil {
		return account.Account{}, Org{}, err
	}
	if strings.TrimSpace(su.Code) == "" {
		if err := pol.Admit(su.Email, su.OrgName, false); err != nil {
			return account.Account{}, Org{}, err
		}
	}
	var a account.Account
	var o Org
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		var inv Invitation
		if strings.TrimSpace(su.Code) != "" {
			if inv, err = s.consume(ctx, tx, su.Code, su.Email); err != nil {
				return err
			}
		}
		if a, err = s.acct.Create(ctx, tx, account.NewAccount{Email: su.Email, Name: su.Name, Password: su.Password}); err != nil {
			if openmini.ErrorCode(err) == openmini.ECONFLICT {
				return openmini.Errorf(openmini.ECONFLICT, "e-mail: %s already has an account; sign in instead", su.Email)
			}
			return err
		}
		actor := openmini.Actor{AccountID: a.ID, Label: a.Email}
		if inv.OrgID != 0 {
			if o, err = s.Get(ctx, inv.OrgID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO org_members (org_id, account_id, role, created_at) VALUES (?, ?, ?, ?)`,
				o.ID, a.ID, inv.Role, s.now().UnixMilli()); err != nil {
				return err
			}
			o.Role = inv.Role
			return audit.Record(ctx, tx, actor, o.ID, "", "member.join", map[string]any{"invitation": inv.ID, "role": inv.Role})
		}
		if o, err = s.createOrg(ctx, tx, su.OrgName, a.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, o.ID, "", "org.create", map[string]any{"name": o.Name, "invitation": inv.ID})
	})
	if err != nil {
		return account.Account{}, Org{}, err
	}
	return a, o, nil
}

// AcceptInvitation lets a signed-in account use an invitation: join the
// organisation, or (an admission invitation) create one named orgName.
func (s *Service) AcceptInvitation(ctx context.Context, actor openmini.Actor, token, orgName string) (Org, error) {
	if actor.IsKey() || actor.AccountID == 0 {
		return Org{}, openmini.Errorf(openmini.EFORBIDDEN, "sign in to accept an invitation")
	}
	a, err := s.acct.Get(ctx, actor.AccountID)
	if err != nil {
		return Org{}, err
	}
	var o Org
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		inv, err := s.consume(ctx, tx, token, a.Email)
		if err != nil {
			return err
		}
		if inv.OrgID == 0 {
			if o, err = s.createOrg(ctx, tx, orgName, a.ID); err != nil {
				return err
			}
			return audit.Record(ctx, tx, actor, o.ID, "", "org.create", map[string]any{"name": o.Name, "invitation": inv.ID})
		}
		_, err = tx.Exec(ctx, `INSERT INTO org_members (org_id, account_id, role, created_at) VALUES (?, ?, ?, ?)`, inv.OrgID, a.ID, inv.Role, s.now().UnixMilli())
		if errors.Is(err, sqldb.ErrUnique) {
			return openmini.Errorf(openmini.ECONFLICT, "you are already a member of %s", inv.OrgName)
		}
		if err != nil {
			return err
		}
		o = Org{ID: inv.OrgID, Name: inv.OrgName, Role: inv.Role}
		return audit.Record(ctx, tx, actor, inv.OrgID, "", "member.join", map[string]any{"invitation": inv.ID, "role": inv.Role})
	})
	if err != nil {
		return Org{}, err
	}
	return s.getWithRole(ctx, o.ID, a.ID)
}

func (s *Service) getWithRole(ctx context.Context, orgID, accountID int64) (Org, error) {
	o, err := s.Get(ctx, orgID)
	if err != nil {
		return o, err
	}
	o.Role, err = s.RoleOf(ctx, openmini.Actor{AccountID: accountID}, orgID)
	return o, err
}
