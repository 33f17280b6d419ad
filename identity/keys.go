package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/openmini/openmini/sqldb"
)

// Signing keys are ES256 (P-256) keys stored as JWKs in identity_keys, so
// every replica signs with and publishes the same keys. Rotation has two
// overlaps: a new key is published KeyPublishAhead before it signs (so
// verifiers that cached the JWKS learn it first), and the key it replaces
// stays published until every token it signed has expired.

const (
	sigAlg        = jose.ES256
	typJWT        = "JWT"
	typLaunch     = "openmini-launch+jwt"
	bootstrapLock = "identity.bootstrap_key"
)

// signingKey is one key with its ready-made signers.
type signingKey struct {
	kid        string
	public     jose.JSONWebKey
	createdAt  time.Time
	activateAt time.Time
	expiresAt  time.Time // zero: not superseded
	jwt        jose.Signer
	launch     jose.Signer
}

// keySet is an immutable snapshot of the published keys.
type keySet struct {
	loadedAt time.Time
	keys     []*signingKey // newest activation first
}

type keyCache struct {
	mu  sync.Mutex // serialises reloads
	set atomic.Pointer[keySet]
}

// KeyInfo describes a published key.
type KeyInfo struct {
	KeyID      string
	CreatedAt  time.Time // published from
	ActivateAt time.Time // signs from
	ExpiresAt  time.Time // unpublished after; zero while current
}

func newSigningKey(kid string, jwk jose.JSONWebKey, created, activate, expires int64) (*signingKey, error) {
	sk := jose.SigningKey{Algorithm: sigAlg, Key: jwk}
	j, err := jose.NewSigner(sk, (&jose.SignerOptions{}).WithType(typJWT))
	if err != nil {
		return nil, fmt.Errorf("signer for key %s: %w", kid, err)
	}
	l, err := jose.NewSigner(sk, (&jose.SignerOptions{}).WithType(typLaunch))
	if err != nil {
		return nil, fmt.Errorf("signer for key %s: %w", kid, err)
	}
	k := &signingKey{kid: kid, public: jwk.Public(), createdAt: time.UnixMilli(created), activateAt: time.UnixMilli(activate), jwt: j, launch: l}
	if expires > 0 {
		k.expiresAt = time.UnixMilli(expires)
	}
	return k, nil
}

// keySet returns the current key set, reloading it from the database when
// older than KeyCacheTTL, and creating the first key when there is none.
func (s *Service) keySet(ctx context.Context) (*keySet, error) {
	now := s.now()
	if set := s.keys.set.Load(); set != nil && now.Sub(set.loadedAt) < s.cfg.KeyCacheTTL && now.Sub(set.loadedAt) >= 0 {
		return set, nil
	}
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if set := s.keys.set.Load(); set != nil && now.Sub(set.loadedAt) < s.cfg.KeyCacheTTL && now.Sub(set.loadedAt) >= 0 {
		return set, nil
	}
	set, err := s.loadKeys(ctx)
	if err != nil {
		return nil, err
	}
	if set.active(now) == nil {
		if err := s.bootstrapKey(ctx); err != nil {
			return nil, err
		}
		if set, err = s.loadKeys(ctx); err != nil {
			return nil, err
		}
	}
	s.keys.set.Store(set)
	return set, nil
}

func (s *Service) loadKeys(ctx context.Context) (*keySet, error) {
	now := s.now()
	rows, err := s.db.Query(ctx, `SELECT kid, jwk, created_at, activate_at, expires_at FROM identity_keys
		WHERE expires_at = 0 OR expires_at > ? ORDER BY activate_at DESC, kid`, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	defer rows.Close()
	set := &keySet{loadedAt: now}
	for rows.Next() {
		var kid, raw string
		var created, activate, expires int64
		if err := rows.Scan(&kid, &raw, &created, &activate, &expires); err != nil {
			return nil, fmt.Errorf("load signing keys: %w", err)
		}
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON([]byte(raw)); err != nil || jwk.IsPublic() {
			return nil, fmt.Errorf("load signing keys: key %s is not a private JWK: %v", kid, err)
		}
		k, err := newSigningKey(kid, jwk, created, activate, expires)
		if err != nil {
			return nil, err
		}
		set.keys = append(set.keys, k)
	}
	return set, rows.Err()
}

// active returns the key that signs at t: the one activated last.
func (set *keySet) active(t time.Time) *signingKey {
	for _, k := range set.keys {
		if !k.activateAt.After(t) && (k.expiresAt.IsZero() || k.expiresAt.After(t)) {
			return k
		}
	}
	return nil
}

func (set *keySet) byID(kid string) *signingKey {
	for _, k := range set.keys {
		if k.kid == kid {
			return k
		}
	}
	return nil
}

// insertKey generates a key that signs from activate and stores it in q.
func (s *Service) insertKey(ctx context.Context, q sqldb.Querier, activate time.Time) (string, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate signing key: %w", err)
	}
	kid := randomToken(12)
	raw, err := json.Marshal(jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(sigAlg), Use: "sig"})
	if err != nil {
		return "", fmt.Errorf("encode signing key: %w", err)
	}
	_, err = q.Exec(ctx, `INSERT INTO identity_keys (kid, alg, jwk, created_at, activate_at) VALUES (?, ?, ?, ?, ?)`,
		kid, string(sigAlg), string(raw), s.now().UnixMilli(), activate.UnixMilli())
	if err != nil {
		return "", fmt.Errorf("store signing key: %w", err)
	}
	return kid, nil
}

// bootstrapKey creates a key active at once when none is. Locking a marker
// row makes replicas that start together create exactly one (SQLite
// transactions are serial anyway).
func (s *Service) bootstrapKey(ctx context.Context) error {
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		now := s.now().UnixMilli()
		_, err := tx.Exec(ctx, `INSERT INTO platform_settings (key, value, updated_at) VALUES (?, '1', ?) ON CONFLICT (key) DO NOTHING`,
			bootstrapLock, now)
		if err == nil {
			_, err = tx.Exec(ctx, `UPDATE platform_settings SET updated_at = ? WHERE key = ?`, now, bootstrapLock)
		}
		if err != nil {
			return fmt.Errorf("bootstrap signing key: %w", err)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM identity_keys WHERE activate_at <= ? AND (expires_at = 0 OR expires_at > ?)`,
			now, now).Scan(&n); err != nil {
			return fmt.Errorf("bootstrap signing key: %w", err)
		}
		if n > 0 {
			return nil // another replica made one
		}
		kid, err := s.insertKey(ctx, tx, s.now())
		if err == nil {
			s.log.InfoContext(ctx, "identity: created signing key", "kid", kid)
		}
		return err
	})
}

// maxSignedTTL is the longest lifetime of anything a key signs.
func (s *Service) maxSignedTTL() time.Duration {
	return max(s.cfg.IDTokenTTL, s.cfg.LaunchTTL)
}

// RotateKeys publishes a new signing key at once and makes it sign after
// KeyPublishAhead; the keys it replaces stay published until everything
// they signed has expired. It returns the new key id. Call it to replace a
// key early; RotateKeysIfDue is the scheduled form.
func (s *Service) RotateKeys(ctx context.Context) (string, error) {
	var kid string
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		activate := s.now().Add(s.cfg.KeyPublishAhead)
		var err error
		if kid, err = s.insertKey(ctx, tx, activate); err != nil {
			return err
		}
		// Old keys may sign until the new one activates, and replicas may
		// use a cached set KeyCacheTTL longer.
		expires := activate.Add(s.cfg.KeyCacheTTL + s.maxSignedTTL() + time.Minute)
		_, err = tx.Exec(ctx, `UPDATE identity_keys SET expires_at = ? WHERE kid <> ? AND activate_at < ? AND (expires_at = 0 OR expires_at > ?)`,
			expires.UnixMilli(), kid, activate.UnixMilli(), expires.UnixMilli())
		if err != nil {
			return fmt.Errorf("rotate keys: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	s.keys.set.Store(nil)
	s.log.InfoContext(ctx, "identity: rotated signing key", "kid", kid, "signs_from", s.now().Add(s.cfg.KeyPublishAhead))
	return kid, nil
}

// RotateKeysIfDue rotates when the newest key activated more than
// KeyRotateAfter ago and no newer key is waiting. It reports whether it
// rotated.
func (s *Service) RotateKeysIfDue(ctx context.Context) (bool, error) {
	var newest int64
	if err := s.db.QueryRow(ctx, `SELECT COALESCE(MAX(activate_at), 0) FROM identity_keys`).Scan(&newest); err != nil {
		return false, fmt.Errorf("rotate keys: %w", err)
	}
	if s.now().Sub(time.UnixMilli(newest)) < s.cfg.KeyRotateAfter {
		return false, nil
	}
	_, err := s.RotateKeys(ctx)
	return err == nil, err
}

// Keys lists the published keys, newest activation first.
func (s *Service) Keys(ctx context.Context) ([]KeyInfo, error) {
	s.keys.set.Store(nil)
	set, err := s.keySet(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(set.keys))
	for _, k := range set.keys {
		out = append(out, KeyInfo{KeyID: k.kid, CreatedAt: k.createdAt, ActivateAt: k.activateAt, ExpiresAt: k.expiresAt})
	}
	return out, nil
}

// JWKS returns the public key set verifiers use: every published key,
// including one waiting to sign and ones kept for tokens they signed.
func (s *Service) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	set, err := s.keySet(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	out := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(set.keys))}
	for _, k := range set.keys {
		out.Keys = append(out.Keys, k.public)
	}
	slices.SortFunc(out.Keys, func(a, b jose.JSONWebKey) int { return strings.Compare(a.KeyID, b.KeyID) })
	return out, nil
}

// sign signs payload (JSON claims) with the active key, as a JWT or as
// launch data, and returns the compact serialisation.
func (s *Service) sign(ctx context.Context, payload []byte, launch bool) (string, error) {
	set, err := s.keySet(ctx)
	if err != nil {
		return "", err
	}
	k := set.active(s.now())
	if k == nil {
		return "", fmt.Errorf("sign: no active signing key")
	}
	signer := k.jwt
	if launch {
		signer = k.launch
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return jws.CompactSerialize()
}
