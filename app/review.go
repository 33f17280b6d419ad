package app

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/sqldb"
)

// ReviewItem is a version waiting in the review queue.
type ReviewItem struct {
	Version
	AppName string `json:"app_name"`
	OrgID   int64  `json:"org_id"`
	OrgName string `json:"org_name"`
}

func requireReviewer(actor openmini.Actor) error {
	if actor.StaffRole != account.RoleAdmin && actor.StaffRole != account.RoleReviewer || actor.IsKey() {
		return openmini.Errorf(openmini.EFORBIDDEN, "only the operator's reviewers may review versions")
	}
	return nil
}

// ReviewQueue lists versions waiting for review, oldest first (staff).
func (s *Service) ReviewQueue(ctx context.Context, actor openmini.Actor) ([]ReviewItem, error) {
	if err := requireReviewer(actor); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+versionCols+`, a.name, a.org_id, o.name FROM versions v JOIN apps a ON a.id = v.app_id
		JOIN orgs o ON o.id = a.org_id WHERE v.state = 'review' ORDER BY v.submitted_at, v.id`)
	if err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	defer rows.Close()
	out := []ReviewItem{}
	for rows.Next() {
		var it ReviewItem
		var r versionRow
		if err := rows.Scan(append(r.targets(), &it.AppName, &it.OrgID, &it.OrgName)...); err != nil {
			return nil, err
		}
		v, err := r.decode()
		if err != nil {
			return nil, err
		}
		v.Files = nil
		it.Version = v
		out = append(out, it)
	}
	return out, rows.Err()
}

// ReviewItem returns one version for a reviewer, with its file list.
func (s *Service) ReviewVersion(ctx context.Context, actor openmini.Actor, versionID int64) (ReviewItem, error) {
	if err := requireReviewer(actor); err != nil {
		return ReviewItem{}, err
	}
	v, err := s.VersionByID(ctx, versionID)
	if err != nil {
		return ReviewItem{}, err
	}
	a, err := s.Get(ctx, v.AppID)
	if err != nil {
		return ReviewItem{}, err
	}
	return ReviewItem{Version: v, AppName: a.Name, OrgID: a.OrgID, OrgName: a.OrgName}, nil
}

// Approve accepts a version in review (operator reviewers).
func (s *Service) Approve(ctx context.Context, actor openmini.Actor, versionID int64) (Version, error) {
	return s.decide(ctx, actor, versionID, StateApproved, "")
}

// Reject sends a version back with a reason the developer sees.
func (s *Service) Reject(ctx context.Context, actor openmini.Actor, versionID int64, reason string) (Version, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Version{}, openmini.Errorf(openmini.EINVALID, "reason: tell the developer why the version is rejected")
	}
	if utf8.RuneCountInString(reason) > 2000 {
		return Version{}, openmini.Errorf(openmini.EINVALID, "reason: at most 2000 characters")
	}
	return s.decide(ctx, actor, versionID, StateRejected, reason)
}

func (s *Service) decide(ctx context.Context, actor openmini.Actor, versionID int64, state, reason string) (Version, error) {
	if err := requireReviewer(actor); err != nil {
		return Version{}, err
	}
	v, err := s.VersionByID(ctx, versionID)
	if err != nil {
		return Version{}, err
	}
	a, err := s.Get(ctx, v.AppID)
	if err != nil {
		return Version{}, err
	}
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE versions SET state = ?, reviewed_by = ?, reviewed_at = ?, review_reason = ? WHERE id = ? AND state = 'review'`,
			state, actor.Label, s.now().UnixMilli(), reason, versionID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return openmini.Errorf(openmini.ECONFLICT, "version %s of %s is not waiting for review (it is %s)", v.Version, v.AppID, v.State)
		}
		action := "version.approve"
		if state == StateRejected {
			action = "version.reject"
		}
		return audit.Record(ctx, tx, actor, a.OrgID, v.AppID, action, map[string]any{"version": v.Version, "reason": reason})
	})
	if err != nil {
		return Version{}, err
	}
	return s.VersionByID(ctx, versionID)
}
