package discovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// MyApp is an entry of "my mini programs".
type MyApp struct {
	AppCard
	LastUsed  time.Time `json:"last_used,omitzero"` // zero for a favourite never launched
	Favourite bool      `json:"favourite"`
}

// MyApps is the "my mini programs" panel: one call for the host's switcher.
type MyApps struct {
	Recent     []MyApp `json:"recent"`
	Favourites []MyApp `json:"favourites"`
}

const (
	maxRecent     = 100
	maxFavourites = 100
)

// visibleToUser is the condition on discovery_apps d for the user's own
// lists: the app is published (an operator's removal from discovery does
// not take it out of a user's own history).
const visibleToUser = ` AND d.listed = 1`

func gamesFilter(allowed bool) string {
	if allowed {
		return ""
	}
	return ` AND d.games = 0`
}

// MyApps returns the user's 20 most recent apps and their favourites.
func (s *Service) MyApps(ctx context.Context, accountID int64) (MyApps, error) {
	recent, err := s.Recent(ctx, accountID, 20)
	if err != nil {
		return MyApps{}, err
	}
	favs, err := s.Favourites(ctx, accountID)
	if err != nil {
		return MyApps{}, err
	}
	return MyApps{Recent: recent, Favourites: favs}, nil
}

// Recent returns the apps the user launched, last used first, at most
// limit (default 20, at most 100). Apps no longer published, apps removed
// with RemoveRecent (until launched again) and, when disallowed, games are
// left out.
func (s *Service) Recent(ctx context.Context, accountID int64, limit int) ([]MyApp, error) {
	if err := needAccount(accountID); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 20
	}
	if limit > maxRecent {
		return nil, openmini.Errorf(openmini.ETOOLARGE, "limit: at most %d recent apps", maxRecent)
	}
	games, err := s.gamesAllowed(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+cardColumns+`, ua.last_at,
			CASE WHEN f.account_id IS NULL THEN 0 ELSE 1 END
		FROM discovery_user_apps ua
		JOIN discovery_apps d ON d.app_id = ua.app_id
		LEFT JOIN discovery_favourites f ON f.account_id = ua.account_id AND f.app_id = ua.app_id
		WHERE ua.account_id = ? AND ua.in_recent = 1`+visibleToUser+gamesFilter(games)+`
		ORDER BY ua.last_at DESC, d.app_id LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("recent apps: %w", err)
	}
	return scanMyApps(rows)
}

// Favourites returns the user's favourites, most recently added first.
func (s *Service) Favourites(ctx context.Context, accountID int64) ([]MyApp, error) {
	if err := needAccount(accountID); err != nil {
		return nil, err
	}
	games, err := s.gamesAllowed(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+cardColumns+`, COALESCE(ua.last_at, 0), 1
		FROM discovery_favourites f
		JOIN discovery_apps d ON d.app_id = f.app_id
		LEFT JOIN discovery_user_apps ua ON ua.account_id = f.account_id AND ua.app_id = f.app_id
		WHERE f.account_id = ?`+visibleToUser+gamesFilter(games)+`
		ORDER BY f.created_at DESC, d.app_id LIMIT ?`, accountID, maxFavourites)
	if err != nil {
		return nil, fmt.Errorf("favourites: %w", err)
	}
	return scanMyApps(rows)
}

func scanMyApps(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}) ([]MyApp, error) {
	defer rows.Close()
	out := []MyApp{}
	for rows.Next() {
		var a MyApp
		var games, last, fav int64
		if err := rows.Scan(append(scanCard(&a.AppCard, &games), &last, &fav)...); err != nil {
			return nil, err
		}
		a.Games, a.LastUsed, a.Favourite = games == 1, fromMS(last), fav == 1
		out = append(out, a)
	}
	return out, rows.Err()
}

// RemoveRecent takes an app off the user's recent list until they launch
// it again. Removing an app that is not there is not an error.
func (s *Service) RemoveRecent(ctx context.Context, accountID int64, appID string) error {
	if err := needAccount(accountID); err != nil {
		return err
	}
	if err := checkAppID("app_id", appID); err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `UPDATE discovery_user_apps SET in_recent = 0 WHERE account_id = ? AND app_id = ?`, accountID, appID); err != nil {
		return fmt.Errorf("remove recent: %w", err)
	}
	return nil
}

// AddFavourite adds a published app to the user's favourites; adding it
// again changes nothing. Errors: not_found (app not in discovery or
// account missing), too_large (already 100 favourites).
func (s *Service) AddFavourite(ctx context.Context, accountID int64, appID string) error {
	if err := needAccount(accountID); err != nil {
		return err
	}
	if err := checkAppID("app_id", appID); err != nil {
		return err
	}
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		var listed int64
		err := tx.QueryRow(ctx, `SELECT listed FROM discovery_apps WHERE app_id = ?`, appID).Scan(&listed)
		if isNotFound(err) || (err == nil && listed == 0) {
			return notFound("app %s is not published", appID)
		}
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `INSERT INTO discovery_favourites (account_id, app_id, created_at) VALUES (?, ?, ?)
			ON CONFLICT (account_id, app_id) DO NOTHING`, accountID, appID, ms(s.now()))
		if err != nil {
			return err
		}
		if added, _ := res.RowsAffected(); added == 0 {
			return nil // already a favourite
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM discovery_favourites WHERE account_id = ?`, accountID).Scan(&n); err != nil {
			return err
		}
		if n > maxFavourites {
			return openmini.Errorf(openmini.ETOOLARGE, "favourites: at most %d; remove one first", maxFavourites)
		}
		return nil
	})
	if errors.Is(err, sqldb.ErrForeignKey) {
		return notFound("account %d does not exist", accountID)
	}
	if err != nil {
		return fmt.Errorf("add favourite: %w", err)
	}
	return nil
}

// RemoveFavourite removes an app from the user's favourites; removing one
// that is not there is not an error.
func (s *Service) RemoveFavourite(ctx context.Context, accountID int64, appID string) error {
	if err := needAccount(accountID); err != nil {
		return err
	}
	if err := checkAppID("app_id", appID); err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM discovery_favourites WHERE account_id = ? AND app_id = ?`, accountID, appID); err != nil {
		return fmt.Errorf("remove favourite: %w", err)
	}
	return nil
}
