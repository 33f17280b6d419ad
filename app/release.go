package app

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/sqldb"
)

// Release says who gets which version of an app. During a gradual
// rollout (Percent < 100) users whose bucket is below Percent get Version
// and everyone else gets Previous; a user's bucket is a stable hash of the
// app, the new version and the user, so nobody flips between versions and
// raising the percentage only adds users.
type Release struct {
	AppID      string    `json:"app_id"`
	VersionID  int64     `json:"version_id"`
	Version    string    `json:"version"`
	PreviousID int64     `json:"previous_version_id,omitempty"`
	Previous   string    `json:"previous_version,omitempty"`
	Percent    int       `json:"percent"`
	Paused     bool      `json:"paused"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func (s *Service) release(ctx context.Context, q sqldb.Querier, appID string, lock bool) (Release, error) {
	var r Release
	var paused int
	var at int64
	suffix := ""
	if lock && q.Dialect() == sqldb.Postgres {
		suffix = " FOR UPDATE OF r"
	}
	err := q.QueryRow(ctx, `SELECT r.app_id, r.version_id, v.version, COALESCE(r.previous_version_id, 0), COALESCE(p.version, ''), r.percent, r.paused, r.updated_at
		FROM releases r JOIN versions v ON v.id = r.version_id LEFT JOIN versions p ON p.id = r.previous_version_id
		WHERE r.app_id = ?`+suffix, appID).Scan(&r.AppID, &r.VersionID, &r.Version, &r.PreviousID, &r.Previous, &r.Percent, &paused, &at)
	if errors.Is(err, sqldb.ErrNotFound) {
		return r, openmini.Errorf(openmini.ENOTFOUND, "%s has not been released yet", appID)
	}
	if err != nil {
		return r, fmt.Errorf("get release: %w", err)
	}
	r.Paused, r.UpdatedAt = paused != 0, time.UnixMilli(at)
	return r, nil
}

// Release returns an app's release (viewers and up).
func (s *Service) Release(ctx context.Context, actor openmini.Actor, appID string) (Release, error) {
	if _, err := s.Require(ctx, actor, appID, org.RoleViewer); err != nil {
		return Release{}, err
	}
	return s.release(ctx, s.db, appID, false)
}

// ReleaseVersion releases an approved version to percent of users, or
// changes the percentage of the rollout under way (developers and up).
// The first release of an app goes to everyone; a new version can start
// only when the current one is out to 100%.
func (s *Service) ReleaseVersion(ctx context.Context, actor openmini.Actor, appID, version string, percent int) (Release, error) {
	a, err := s.Require(ctx, actor, appID, org.RoleDeveloper)
	if err != nil {
		return Release{}, err
	}
	if percent < 1 || percent > 100 {
		return Release{}, openmini.Errorf(openmini.EINVALID, "percent: %d must be between 1 and 100", percent)
	}
	v, err := s.Version(ctx, actor, appID, version)
	if err != nil {
		return Release{}, err
	}
	if v.State != StateApproved && v.State != StateReleased {
		return Release{}, openmini.Errorf(openmini.ECONFLICT, "version %s is %s; only approved versions can be released", version, v.State)
	}
	now := s.now().UnixMilli()
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		cur, err := s.release(ctx, tx, appID, true)
		switch {
		case openmini.ErrorCode(err) == openmini.ENOTFOUND:
			if percent != 100 {
				return openmini.Errorf(openmini.ECONFLICT, "the first release of an app goes to everyone: use --percent 100")
			}
			_, err = tx.Exec(ctx, `INSERT INTO releases (app_id, version_id, previous_version_id, percent, paused, updated_at) VALUES (?, ?, NULL, 100, 0, ?)`, appID, v.ID, now)
		case err != nil:
			return err
		case cur.VersionID == v.ID:
			if cur.Paused && percent > cur.Percent {
				return openmini.Errorf(openmini.ECONFLICT, "the rollout of %s is paused; resume it before raising the percentage", version)
			}
			if percent == 100 {
				_, err = tx.Exec(ctx, `UPDATE releases SET percent = 100, previous_version_id = NULL, paused = 0, updated_at = ? WHERE app_id = ?`, now, appID)
			} else {
				_, err = tx.Exec(ctx, `UPDATE releases SET percent = ?, updated_at = ? WHERE app_id = ?`, percent, now, appID)
			}
		case cur.Percent < 100:
			return openmini.Errorf(openmini.ECONFLICT, "%s is rolling out to %d%%; release it to 100%% or roll back before releasing %s", cur.Version, cur.Percent, version)
		default:
			var prev any = cur.VersionID
			if percent == 100 {
				prev = nil
			}
			_, err = tx.Exec(ctx, `UPDATE releases SET version_id = ?, previous_version_id = ?, percent = ?, paused = 0, updated_at = ? WHERE app_id = ?`,
				v.ID, prev, percent, now, appID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE versions SET state = 'released', released_at = CASE WHEN released_at = 0 THEN ? ELSE released_at END WHERE id = ?`, now, v.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, a.OrgID, appID, "release", map[string]any{"version": version, "percent": percent})
	})
	if err != nil {
		return Release{}, err
	}
	s.notifyReleased(ctx, a)
	return s.release(ctx, s.db, appID, false)
}

// SetPaused pauses or resumes the rollout under way: while paused, users
// who got the new version keep it, nobody else gets it, and the
// percentage cannot be raised.
func (s *Service) SetPaused(ctx context.Context, actor openmini.Actor, appID string, paused bool) (Release, error) {
	a, err := s.Require(ctx, actor, appID, org.RoleDeveloper)
	if err != nil {
		return Release{}, err
	}
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		cur, err := s.release(ctx, tx, appID, true)
		if err != nil {
			return err
		}
		if cur.Percent == 100 && paused {
			return openmini.Errorf(openmini.ECONFLICT, "%s is already out to everyone; there is no rollout to pause", cur.Version)
		}
		p := 0
		action := "release.resume"
		if paused {
			p, action = 1, "release.pause"
		}
		if _, err := tx.Exec(ctx, `UPDATE releases SET paused = ?, updated_at = ? WHERE app_id = ?`, p, s.now().UnixMilli(), appID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, a.OrgID, appID, action, map[string]any{"version": cur.Version, "percent": cur.Percent})
	})
	if err != nil {
		return Release{}, err
	}
	return s.release(ctx, s.db, appID, false)
}

// Rollback serves an earlier released version to everyone, at once. With
// to empty it goes back to the version before the current one (the one
// still serving the rest of a rollout, or the last one released before).
func (s *Service) Rollback(ctx context.Context, actor openmini.Actor, appID, to string) (Release, error) {
	a, err := s.Require(ctx, actor, appID, org.RoleDeveloper)
	if err != nil {
		return Release{}, err
	}
	var target string
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		cur, err := s.release(ctx, tx, appID, true)
		if err != nil {
			return err
		}
		var targetID int64
		switch {
		case to != "":
			var state string
			err := tx.QueryRow(ctx, `SELECT id, state FROM versions WHERE app_id = ? AND version = ?`, appID, to).Scan(&targetID, &state)
			if errors.Is(err, sqldb.ErrNotFound) {
				return openmini.Errorf(openmini.ENOTFOUND, "%s has no version %q", appID, to)
			}
			if err != nil {
				return err
			}
			if state != StateReleased {
				return openmini.Errorf(openmini.ECONFLICT, "version %s was never released; roll back only to a released version", to)
			}
			target = to
		case cur.PreviousID != 0:
			targetID, target = cur.PreviousID, cur.Previous
		default:
			err := tx.QueryRow(ctx, `SELECT id, version FROM versions WHERE app_id = ? AND state = 'released' AND id <> ?
				ORDER BY released_at DESC, id DESC LIMIT 1`, appID, cur.VersionID).Scan(&targetID, &target)
			if errors.Is(err, sqldb.ErrNotFound) {
				return openmini.Errorf(openmini.ECONFLICT, "%s has no earlier released version to roll back to", appID)
			}
			if err != nil {
				return err
			}
		}
		if targetID == cur.VersionID && cur.Percent == 100 {
			return openmini.Errorf(openmini.ECONFLICT, "%s is already serving version %s to everyone", appID, target)
		}
		if _, err := tx.Exec(ctx, `UPDATE releases SET version_id = ?, previous_version_id = NULL, percent = 100, paused = 0, updated_at = ? WHERE app_id = ?`,
			targetID, s.now().UnixMilli(), appID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, a.OrgID, appID, "rollback", map[string]any{"from": cur.Version, "to": target})
	})
	if err != nil {
		return Release{}, err
	}
	s.notifyReleased(ctx, a)
	return s.release(ctx, s.db, appID, false)
}

// Bucket is a user's stable place, 0 to 99, in the rollout of a version.
func Bucket(appID string, versionID int64, userKey string) int {
	sum := sha256.Sum256([]byte(appID + "\x00" + strconv.FormatInt(versionID, 10) + "\x00" + userKey))
	return int(binary.BigEndian.Uint64(sum[:8]) % 100)
}

// Pick says which version ID a user gets under r.
func (r Release) Pick(userKey string) int64 {
	if r.Percent >= 100 || r.PreviousID == 0 {
		return r.VersionID
	}
	if Bucket(r.AppID, r.VersionID, userKey) < r.Percent {
		return r.VersionID
	}
	return r.PreviousID
}

// VersionFor returns the released version a user gets. userKey identifies
// the user stably (an account ID, or a device ID for anonymous users).
func (s *Service) VersionFor(ctx context.Context, appID, userKey string) (Version, error) {
	r, err := s.release(ctx, s.db, appID, false)
	if err != nil {
		return Version{}, err
	}
	return s.VersionByID(ctx, r.Pick(userKey))
}

// TrialFor returns the app's trial version if the account may open it.
func (s *Service) TrialFor(ctx context.Context, appID string, accountID int64) (Version, error) {
	ok, err := s.CanTry(ctx, appID, accountID)
	if err != nil {
		return Version{}, err
	}
	if !ok {
		return Version{}, openmini.Errorf(openmini.EFORBIDDEN, "the trial version of %s is only for its developers and testers", appID)
	}
	a, err := s.Get(ctx, appID)
	if err != nil {
		return Version{}, err
	}
	if a.TrialVersionID == 0 {
		return Version{}, openmini.Errorf(openmini.ENOTFOUND, "%s has no trial version", appID)
	}
	return s.VersionByID(ctx, a.TrialVersionID)
}

func (s *Service) notifyReleased(ctx context.Context, a App) {
	if s.Hooks.Released == nil {
		return
	}
	r, err := s.release(ctx, s.db, a.ID, false)
	if err != nil {
		return // not released: nothing to tell
	}
	v, err := s.VersionByID(ctx, r.VersionID)
	if err != nil {
		s.log.WarnContext(ctx, "release hook: read version", "app", a.ID, "err", err)
		return
	}
	s.Hooks.Released(ctx, a, v)
}
