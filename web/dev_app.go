package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/sqldb"
)

// devAccountEmail owns the organisation of the app `openmini dev`
// registers. Nobody signs in with it: its password is random and never
// shown.
const devAccountEmail = "developer@localhost"

// devOrgName is the organisation the project's app belongs to.
const devOrgName = "Local development"

// RegisterDevApp makes sure the project's app exists in the database
// under its derived ID (DevProject.AppID), so everything keyed by app
// (storage, consents) works for it as for a registered app. On first use
// it creates a local developer account and organisation to own it; with
// a kept data directory the same app is found again and renamed after
// the manifest. It fails (conflict) when the ID belongs to another
// organisation's app. Call it after New and before serving.
func (s *Server) RegisterDevApp(ctx context.Context) error {
	d := s.cfg.Dev
	if d == nil {
		return errors.New("register dev app: the server has no dev project")
	}
	acct, err := s.acct.ByEmail(ctx, devAccountEmail)
	if openmini.ErrorCode(err) == openmini.ENOTFOUND {
		pw := make([]byte, 24)
		rand.Read(pw)
		acct, err = s.acct.Create(ctx, s.db, account.NewAccount{Email: devAccountEmail, Name: "openmini dev",
			Password: hex.EncodeToString(pw), StaffRole: account.RoleAdmin})
	}
	if err != nil {
		return fmt.Errorf("register dev app: account: %w", err)
	}
	actor := openmini.Actor{AccountID: acct.ID, Label: acct.Email, StaffRole: acct.StaffRole}
	orgs, err := s.orgs.ForAccount(ctx, acct.ID)
	if err != nil {
		return fmt.Errorf("register dev app: %w", err)
	}
	var o org.Org
	if len(orgs) > 0 {
		o = orgs[0]
	} else if o, err = s.orgs.Create(ctx, actor, devOrgName); err != nil {
		return fmt.Errorf("register dev app: organisation: %w", err)
	}
	name := d.Name()
	if name == "" {
		name = d.appID
	}
	if utf8.RuneCountInString(name) > 40 {
		name = string([]rune(name)[:40])
	}
	a, err := s.apps.Get(ctx, d.appID)
	switch {
	case openmini.ErrorCode(err) == openmini.ENOTFOUND:
		// app.Service assigns random IDs; the project's app needs the
		// ID derived from its manifest, so it is inserted here, with the
		// defaults app.Service.Create gives the other columns.
		now := time.Now().UnixMilli()
		_, err = s.db.Exec(ctx, `INSERT INTO apps (id, org_id, name, short_name, description, category, keywords, allowed_domains,
			webhook_url, created_at, updated_at) VALUES (?, ?, ?, '', ?, '', '', '[]', '', ?, ?)`,
			d.appID, o.ID, name, "Served from "+d.dir+" by openmini dev.", now, now)
		if errors.Is(err, sqldb.ErrUnique) {
			return openmini.Errorf(openmini.ECONFLICT, "register dev app: %s was created meanwhile; start again", d.appID)
		}
		if err != nil {
			return fmt.Errorf("register dev app: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("register dev app: %w", err)
	case a.OrgID != o.ID:
		return openmini.Errorf(openmini.ECONFLICT, "register dev app: the data directory already has a mini program %s of %s; use another --data directory", d.appID, a.OrgName)
	case a.Name != name:
		if _, err := s.apps.Update(ctx, actor, d.appID, app.Settings{Name: &name}); err != nil {
			return fmt.Errorf("register dev app: %w", err)
		}
	}
	return nil
}
