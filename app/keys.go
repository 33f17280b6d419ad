package app

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/sqldb"
)

// Keys holds the platform's package signing key. It lives in
// platform_settings so every replica signs with the same key; the first
// replica to start creates it.
type Keys struct {
	kid  string
	priv ed25519.PrivateKey
	set  miniapp.KeySet
}

type storedKey struct {
	KeyID   string `json:"kid"`
	Private string `json:"private"` // base64 Ed25519 seed
}

const signingKeySetting = "package_signing_key"

// LoadKeys reads the package signing key, creating it on first use.
func LoadKeys(ctx context.Context, db *sqldb.DB) (*Keys, error) {
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	fresh, _ := json.Marshal(storedKey{KeyID: "pkg-" + hex.EncodeToString(sum[:6]), Private: base64.StdEncoding.EncodeToString(seed)})
	// Whoever inserts first wins; everyone then reads the winner's key.
	if _, err := db.Exec(ctx, `INSERT INTO platform_settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		signingKeySetting, string(fresh), time.Now().UnixMilli()); err != nil {
		return nil, fmt.Errorf("package signing key: %w", err)
	}
	var raw string
	if err := db.QueryRow(ctx, `SELECT value FROM platform_settings WHERE key = ?`, signingKeySetting).Scan(&raw); err != nil {
		return nil, fmt.Errorf("package signing key: %w", err)
	}
	var sk storedKey
	if err := json.Unmarshal([]byte(raw), &sk); err != nil {
		return nil, fmt.Errorf("package signing key: stored key is not JSON: %w", err)
	}
	seed, err := base64.StdEncoding.DecodeString(sk.Private)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("package signing key: stored key is damaged")
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &Keys{kid: sk.KeyID, priv: priv, set: miniapp.KeySet{Keys: []miniapp.PublicKey{{KeyID: sk.KeyID, Key: priv.Public().(ed25519.PublicKey)}}}}, nil
}

// Sign returns the signature file for a package.
func (k *Keys) Sign(pkg []byte) ([]byte, error) { return miniapp.Sign(pkg, k.priv, k.kid) }

// Set is the public key set, published at /.well-known/miniapp-package-keys.json.
func (k *Keys) Set() miniapp.KeySet { return k.set }
