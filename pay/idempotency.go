package pay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/openmini/openmini/sqldb"
)

// Idempotency keys: a client sends the same key when it retries a request.
// The first request with a key does the work; a later one with the same
// key and the same body gets the same result (the object it created, in its
// current state); one with the same key and another body is refused with a
// conflict naming the key. The key, the request's hash and the result's id
// are written in the transaction that does the work, so a request that
// fails leaves no key behind and can be retried. Keys are kept at least
// Config.IdempotencyTTL (24 hours or more); a request racing another with
// the same key waits for it (a unique row) and then returns its result.

func validKey(key string) error {
	if key == "" {
		return invalid("an Idempotency-Key is required")
	}
	if len(key) > 255 {
		return invalid("Idempotency-Key is longer than 255 characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return invalid("Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return nil
}

// requestHash fingerprints an operation and its request body.
func requestHash(op string, req any) string {
	body, err := json.Marshal(req)
	if err != nil {
		panic(fmt.Sprintf("pay: hash %s request: %v", op, err)) // request types are plain structs
	}
	h := sha256.New()
	h.Write([]byte(op))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// claimKey records key for scope inside tx, naming resultID (the id of the
// object the caller is about to create) as its result. It returns "" when
// the key is new, so the caller goes on and creates resultID in the same
// transaction, or the result id an earlier request with the same body
// produced. A different body gives a conflict error naming the key.
func claimKey(ctx context.Context, tx *sqldb.Tx, scope, key, hash, resultID string, now time.Time) (string, error) {
	res, err := tx.Exec(ctx, `INSERT INTO pay_idempotency (scope, idem_key, request_hash, result_id, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, idem_key) DO NOTHING`, scope, key, hash, resultID, ms(now))
	if err != nil {
		return "", fmt.Errorf("idempotency key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return "", nil
	}
	var prevHash string
	if err := tx.QueryRow(ctx, `SELECT request_hash, result_id FROM pay_idempotency WHERE scope = ? AND idem_key = ?`,
		scope, key).Scan(&prevHash, &resultID); err != nil {
		return "", fmt.Errorf("idempotency key: %w", err)
	}
	if prevHash != hash {
		return "", conflict("Idempotency-Key %q was already used with a different request", key)
	}
	return resultID, nil
}

func merchantScope(id int64) string { return fmt.Sprintf("m:%d", id) }
func userScope(id int64) string     { return fmt.Sprintf("u:%d", id) }
