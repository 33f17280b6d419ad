// Package host holds what the host web app keeps for its users: each mini
// program's per-user storage (behind the JS SDK's setStorage/getStorage),
// kept on the server so it follows the user to another device and two
// people on one device never see each other's data, and the device
// permissions (location, clipboard, camera...) a user granted an app.
package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Owner identifies whose data it is: a signed-in account or, before
// sign-in, an anonymous device.
type Owner string

// AccountOwner is the owner for a signed-in account.
func AccountOwner(id int64) Owner { return Owner("a:" + strconv.FormatInt(id, 10)) }

// DeviceOwner is the owner for an anonymous device ID (a random cookie).
func DeviceOwner(id string) Owner { return Owner("d:" + id) }

// Quotas, as WeChat has them: 1 MB a key, 10 MB per user per app.
const (
	MaxKeyLen     = 128
	MaxValueBytes = 1 << 20
	MaxAppBytes   = 10 << 20
)

// Storage is the per-user, per-app key-value store.
type Storage struct {
	db  *sqldb.DB
	now func() time.Time
}

// NewStorage returns the storage service.
func NewStorage(db *sqldb.DB) *Storage { return &Storage{db: db, now: time.Now} }

func checkKey(key string) error {
	if key == "" || len(key) > MaxKeyLen || !utf8.ValidString(key) {
		return openmini.Errorf(openmini.EINVALID, "storage: key must be 1 to %d bytes of text", MaxKeyLen)
	}
	return nil
}

// Set stores value (JSON) under key. It fails with too_large when the
// value is over 1 MB or the app's storage for this user would pass 10 MB
// (counting the bytes of keys and values), and with not_found for an
// unknown app; nothing is changed then. Concurrent calls never together
// pass the quota.
func (s *Storage) Set(ctx context.Context, owner Owner, appID, key string, value json.RawMessage) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if !json.Valid(value) {
		return openmini.Errorf(openmini.EINVALID, "storage: data for key %q is not JSON", key)
	}
	size := int64(len(key) + len(value))
	if len(value) > MaxValueBytes {
		return openmini.Errorf(openmini.ETOOLARGE, "storage: the data for key %q is %d bytes; one key holds at most 1 MB", key, len(value))
	}
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		// Concurrent writes of one user's app storage take turns, so two
		// of them cannot both fit under the quota and together pass it.
		// (SQLite transactions already take the write lock at BEGIN.)
		if s.db.Dialect() == sqldb.Postgres {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, "host_storage|"+string(owner)+"|"+appID); err != nil {
				return fmt.Errorf("storage: %w", err)
			}
		}
		var used int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(size), 0) FROM host_storage WHERE owner = ? AND app_id = ? AND key <> ?`,
			string(owner), appID, key).Scan(&used); err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		if used+size > MaxAppBytes {
			return openmini.Errorf(openmini.ETOOLARGE, "storage: this mini program's storage is full (%d of 10 MB used); remove keys first", used>>20)
		}
		_, err := tx.Exec(ctx, `INSERT INTO host_storage (owner, app_id, key, value, size, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (owner, app_id, key) DO UPDATE SET value = excluded.value, size = excluded.size, updated_at = excluded.updated_at`,
			string(owner), appID, key, string(value), size, s.now().UnixMilli())
		if errors.Is(err, sqldb.ErrForeignKey) {
			return openmini.Errorf(openmini.ENOTFOUND, "storage: there is no mini program %q", appID)
		}
		if err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		return nil
	})
}

// Get returns the JSON stored under key; not_found when there is none.
func (s *Storage) Get(ctx context.Context, owner Owner, appID, key string) (json.RawMessage, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	var v string
	err := s.db.QueryRow(ctx, `SELECT value FROM host_storage WHERE owner = ? AND app_id = ? AND key = ?`, string(owner), appID, key).Scan(&v)
	if errors.Is(err, sqldb.ErrNotFound) {
		return nil, openmini.Errorf(openmini.ENOTFOUND, "storage: no data for key %q", key)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return json.RawMessage(v), nil
}

// Remove deletes a key (a missing key is fine).
func (s *Storage) Remove(ctx context.Context, owner Owner, appID, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, `DELETE FROM host_storage WHERE owner = ? AND app_id = ? AND key = ?`, string(owner), appID, key)
	return err
}

// Clear deletes everything the app stored for owner.
func (s *Storage) Clear(ctx context.Context, owner Owner, appID string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM host_storage WHERE owner = ? AND app_id = ?`, string(owner), appID)
	return err
}

// Info is what getStorageInfo answers.
type Info struct {
	Keys        []string `json:"keys"`
	CurrentSize int64    `json:"currentSize"` // KB, as WeChat reports it
	LimitSize   int64    `json:"limitSize"`   // KB
}

// Info lists the keys and the space used.
func (s *Storage) Info(ctx context.Context, owner Owner, appID string) (Info, error) {
	rows, err := s.db.Query(ctx, `SELECT key, size FROM host_storage WHERE owner = ? AND app_id = ? ORDER BY key`, string(owner), appID)
	if err != nil {
		return Info{}, fmt.Errorf("storage: %w", err)
	}
	defer rows.Close()
	info := Info{Keys: []string{}, LimitSize: MaxAppBytes >> 10}
	var total int64
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return Info{}, err
		}
		info.Keys = append(info.Keys, k)
		total += n
	}
	info.CurrentSize = (total + 1023) >> 10
	return info, rows.Err()
}

// Adopt moves a device's data to an account when the person signs in,
// without overwriting what the account already has.
func (s *Storage) Adopt(ctx context.Context, device, account Owner) error {
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO host_storage (owner, app_id, key, value, size, updated_at)
			SELECT ?, app_id, key, value, size, updated_at FROM host_storage WHERE owner = ?
			ON CONFLICT (owner, app_id, key) DO NOTHING`, string(account), string(device)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM host_storage WHERE owner = ?`, string(device))
		return err
	})
}
