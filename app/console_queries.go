package app

import (
	"context"
	"fmt"

	"github.com/openmini/openmini"
)

// PlatformCounts are the figures on the operator console's overview.
type PlatformCounts struct {
	Orgs          int `json:"orgs"`
	SuspendedOrgs int `json:"suspended_orgs"`
	Developers    int `json:"developers"` // accounts that belong to at least one organisation
	Apps          int `json:"apps"`
	ReleasedApps  int `json:"released_apps"`
	InReview      int `json:"in_review"` // versions waiting in the review queue
}

// Counts returns the platform's figures in one consistent read. Only
// operator staff may ask; anyone else gets forbidden.
func (s *Service) Counts(ctx context.Context, actor openmini.Actor) (PlatformCounts, error) {
	var c PlatformCounts
	if !actor.IsStaff() {
		return c, openmini.Errorf(openmini.EFORBIDDEN, "only operator staff may see the platform's figures")
	}
	err := s.db.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM orgs),
		(SELECT COUNT(*) FROM orgs WHERE status = 'suspended'),
		(SELECT COUNT(DISTINCT account_id) FROM org_members),
		(SELECT COUNT(*) FROM apps),
		(SELECT COUNT(*) FROM releases),
		(SELECT COUNT(*) FROM versions WHERE state = 'review')`).
		Scan(&c.Orgs, &c.SuspendedOrgs, &c.Developers, &c.Apps, &c.ReleasedApps, &c.InReview)
	if err != nil {
		return c, fmt.Errorf("platform counts: %w", err)
	}
	return c, nil
}
