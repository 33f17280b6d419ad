package pay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Categories lists the merchant categories, in display order. Fees and
// coupon rules are set per category.
func Categories() []string {
	return []string{"restaurant", "cafe", "supermarket", "convenience", "hotel", "retail",
		"services", "entertainment", "transport", "education", "healthcare", "online", "other"}
}

func validCategory(c string) bool {
	for _, k := range Categories() {
		if k == c {
			return true
		}
	}
	return false
}

// Merchant statuses.
const (
	MerchantActive    = "active"
	MerchantSuspended = "suspended" // takes no new orders or payments; refunds still work
)

// Merchant is a business of a developer organisation that takes payments.
type Merchant struct {
	ID        int64  `json:"id"`
	OrgID     int64  `json:"org_id"`
	Name      string `json:"name"`
	Category  string `json:"category"`
	Latitude  int64  `json:"latitude_e6"`  // microdegrees, -90e6..90e6
	Longitude int64  `json:"longitude_e6"` // microdegrees, -180e6..180e6
	Address   string `json:"address"`
	// AccountID is the merchant's settlement account in the ledger.
	AccountID  int64     `json:"-"`
	WebhookURL string    `json:"webhook_url"`
	Status     string    `json:"status"`
	Apps       []string  `json:"apps"` // linked mini program IDs
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`

	webhookSecret string
}

// MerchantSpec is what an organisation says about its merchant.
type MerchantSpec struct {
	OrgID     int64
	Name      string
	Category  string
	Latitude  int64 // microdegrees
	Longitude int64 // microdegrees
	Address   string
}

func (m *MerchantSpec) validate() error {
	m.Name = strings.TrimSpace(m.Name)
	m.Address = strings.TrimSpace(m.Address)
	switch {
	case m.OrgID <= 0:
		return invalid("merchant needs an organisation")
	case m.Name == "":
		return invalid("merchant name is empty")
	case utf8.RuneCountInString(m.Name) > 100:
		return invalid("merchant name is longer than 100 characters")
	case !validCategory(m.Category):
		return invalid("unknown merchant category %q (want one of %s)", clip(m.Category, 32), strings.Join(Categories(), ", "))
	case m.Latitude < -90_000_000 || m.Latitude > 90_000_000:
		return invalid("latitude %d is outside -90000000..90000000 microdegrees", m.Latitude)
	case m.Longitude < -180_000_000 || m.Longitude > 180_000_000:
		return invalid("longitude %d is outside -180000000..180000000 microdegrees", m.Longitude)
	case utf8.RuneCountInString(m.Address) > 300:
		return invalid("address is longer than 300 characters")
	case !utf8.ValidString(m.Name) || !utf8.ValidString(m.Address):
		return invalid("merchant name and address must be UTF-8 text")
	}
	return nil
}

// CreateMerchant registers a merchant for an organisation and opens its
// settlement account. The caller must have checked that the acting user may
// manage the organisation. Errors: invalid (naming the field), not_found
// when the organisation does not exist.
func (s *Service) CreateMerchant(ctx context.Context, spec MerchantSpec) (*Merchant, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	now := s.now()
	var id int64
	err := s.tx(ctx, func(tx *sqldb.Tx) error {
		// The account's owner is the merchant id, known only after the
		// merchant row exists: open it under a placeholder, then rename.
		placeholder := newID("new")
		var acct int64
		if err := tx.QueryRow(ctx, `INSERT INTO pay_accounts (kind, owner, currency, balance, allow_negative, created_at)
			VALUES ('merchant', ?, ?, 0, 0, ?) RETURNING id`, placeholder, s.cfg.Currency, ms(now)).Scan(&acct); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO pay_merchants (org_id, name, category, latitude_e6, longitude_e6, address, account_id, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?) RETURNING id`,
			spec.OrgID, spec.Name, spec.Category, spec.Latitude, spec.Longitude, spec.Address, acct, ms(now), ms(now)).Scan(&id)
		if errors.Is(err, sqldb.ErrForeignKey) {
			return notFound("organisation %d not found", spec.OrgID)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE pay_accounts SET owner = ? WHERE id = ?`, strconv.FormatInt(id, 10), acct)
		return err
	})
	if err != nil {
		return nil, internal("create merchant", err)
	}
	return s.Merchant(ctx, id)
}

// UpdateMerchant replaces a merchant's name, category, location and
// address (the organisation cannot change). Errors: invalid, not_found.
func (s *Service) UpdateMerchant(ctx context.Context, id int64, spec MerchantSpec) (*Merchant, error) {
	m, err := s.Merchant(ctx, id)
	if err != nil {
		return nil, err
	}
	spec.OrgID = m.OrgID
	if err := spec.validate(); err != nil {
		return nil, err
	}
	_, err = s.db.Exec(ctx, `UPDATE pay_merchants SET name = ?, category = ?, latitude_e6 = ?, longitude_e6 = ?, address = ?, updated_at = ?
		WHERE id = ?`, spec.Name, spec.Category, spec.Latitude, spec.Longitude, spec.Address, ms(s.now()), id)
	if err != nil {
		return nil, internal("update merchant", err)
	}
	return s.Merchant(ctx, id)
}

// SetMerchantStatus suspends or reactivates a merchant (operator action).
// A suspended merchant's orders cannot be created or paid; refunds and
// queries still work.
func (s *Service) SetMerchantStatus(ctx context.Context, id int64, status string) error {
	if status != MerchantActive && status != MerchantSuspended {
		return invalid("merchant status %q: want active or suspended", clip(status, 32))
	}
	res, err := s.db.Exec(ctx, `UPDATE pay_merchants SET status = ?, updated_at = ? WHERE id = ?`, status, ms(s.now()), id)
	if err != nil {
		return internal("set merchant status", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("merchant %d not found", id)
	}
	return nil
}

const merchantColumns = `id, org_id, name, category, latitude_e6, longitude_e6, address, account_id, webhook_url, webhook_secret, status, created_at, updated_at`

type merchantRow struct {
	m                Merchant
	created, updated int64
}

func (r *merchantRow) dest() []any {
	m := &r.m
	return []any{&m.ID, &m.OrgID, &m.Name, &m.Category, &m.Latitude, &m.Longitude, &m.Address, &m.AccountID,
		&m.WebhookURL, &m.webhookSecret, &m.Status, &r.created, &r.updated}
}

func (r *merchantRow) merchant() *Merchant {
	m := r.m
	m.CreatedAt, m.UpdatedAt = fromMS(r.created), fromMS(r.updated)
	return &m
}

func scanMerchant(row interface{ Scan(...any) error }) (*Merchant, error) {
	var r merchantRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.merchant(), nil
}

// loadMerchant reads a merchant through q without its apps.
func loadMerchant(ctx context.Context, q sqldb.Querier, id int64) (*Merchant, error) {
	m, err := scanMerchant(q.QueryRow(ctx, `SELECT `+merchantColumns+` FROM pay_merchants WHERE id = ?`, id))
	if errors.Is(err, sqldb.ErrNotFound) {
		return nil, notFound("merchant %d not found", id)
	}
	if err != nil {
		return nil, internal("load merchant", err)
	}
	return m, nil
}

// Merchant returns a merchant with its linked mini programs. Errors:
// not_found.
func (s *Service) Merchant(ctx context.Context, id int64) (*Merchant, error) {
	m, err := loadMerchant(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT app_id FROM pay_merchant_apps WHERE merchant_id = ? ORDER BY app_id`, id)
	if err != nil {
		return nil, internal("merchant apps", err)
	}
	defer rows.Close()
	m.Apps = []string{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, internal("merchant apps", err)
		}
		m.Apps = append(m.Apps, a)
	}
	return m, rows.Err()
}

// Merchants lists an organisation's merchants by id.
func (s *Service) Merchants(ctx context.Context, orgID int64) ([]*Merchant, error) {
	return s.listMerchants(ctx, `SELECT `+merchantColumns+` FROM pay_merchants WHERE org_id = ? ORDER BY id`, orgID)
}

// MerchantsForApp lists the merchants a mini program is linked to.
func (s *Service) MerchantsForApp(ctx context.Context, appID string) ([]*Merchant, error) {
	return s.listMerchants(ctx, `SELECT `+merchantColumns+` FROM pay_merchants
		WHERE id IN (SELECT merchant_id FROM pay_merchant_apps WHERE app_id = ?) ORDER BY id`, appID)
}

func (s *Service) listMerchants(ctx context.Context, query string, arg any) ([]*Merchant, error) {
	rows, err := s.db.Query(ctx, query, arg)
	if err != nil {
		return nil, internal("list merchants", err)
	}
	defer rows.Close()
	out := []*Merchant{}
	for rows.Next() {
		m, err := scanMerchant(rows)
		if err != nil {
			return nil, internal("list merchants", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// LinkApp links a mini program of the merchant's own organisation to the
// merchant, so orders may name it. Errors: not_found (merchant or app),
// forbidden when the app belongs to another organisation. Linking twice is
// not an error.
func (s *Service) LinkApp(ctx context.Context, merchantID int64, appID string) error {
	m, err := loadMerchant(ctx, s.db, merchantID)
	if err != nil {
		return err
	}
	var org int64
	err = s.db.QueryRow(ctx, `SELECT org_id FROM apps WHERE id = ?`, appID).Scan(&org)
	if errors.Is(err, sqldb.ErrNotFound) {
		return notFound("mini program %q not found", clip(appID, 64))
	}
	if err != nil {
		return internal("link app", err)
	}
	if org != m.OrgID {
		return openmini.Errorf(openmini.EFORBIDDEN, "mini program %q belongs to another organisation", appID)
	}
	_, err = s.db.Exec(ctx, `INSERT INTO pay_merchant_apps (merchant_id, app_id, created_at) VALUES (?, ?, ?)
		ON CONFLICT (merchant_id, app_id) DO NOTHING`, merchantID, appID, ms(s.now()))
	if err != nil {
		return internal("link app", err)
	}
	return nil
}

// UnlinkApp removes a link; existing orders keep their app.
func (s *Service) UnlinkApp(ctx context.Context, merchantID int64, appID string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM pay_merchant_apps WHERE merchant_id = ? AND app_id = ?`, merchantID, appID); err != nil {
		return internal("unlink app", err)
	}
	return nil
}

// APIKey is a credential for a merchant's servers. Secret is set only in
// the value CreateAPIKey returns: it is stored hashed and never shown again.
type APIKey struct {
	KeyID      string    `json:"key_id"`
	Secret     string    `json:"secret,omitempty"`
	MerchantID int64     `json:"merchant_id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

var secretEncoding = base64.RawURLEncoding

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey issues a new key id and secret for a merchant's servers.
// The secret is in the result only; keep it, it cannot be shown again.
func (s *Service) CreateAPIKey(ctx context.Context, merchantID int64) (*APIKey, error) {
	if _, err := loadMerchant(ctx, s.db, merchantID); err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	k := &APIKey{
		KeyID:      newID("mk"),
		Secret:     "msk_" + secretEncoding.EncodeToString(raw),
		MerchantID: merchantID,
		CreatedAt:  s.now().UTC().Truncate(time.Millisecond),
	}
	_, err := s.db.Exec(ctx, `INSERT INTO pay_merchant_keys (key_id, merchant_id, secret_hash, created_at) VALUES (?, ?, ?, ?)`,
		k.KeyID, merchantID, hashSecret(k.Secret), ms(k.CreatedAt))
	if err != nil {
		return nil, internal("create api key", err)
	}
	return k, nil
}

// APIKeys lists a merchant's keys without secrets, newest first.
func (s *Service) APIKeys(ctx context.Context, merchantID int64) ([]APIKey, error) {
	rows, err := s.db.Query(ctx, `SELECT key_id, created_at, last_used_at, revoked_at FROM pay_merchant_keys
		WHERE merchant_id = ? ORDER BY created_at DESC, key_id`, merchantID)
	if err != nil {
		return nil, internal("list api keys", err)
	}
	defer rows.Close()
	out := []APIKey{}
	for rows.Next() {
		k := APIKey{MerchantID: merchantID}
		var c, u, r int64
		if err := rows.Scan(&k.KeyID, &c, &u, &r); err != nil {
			return nil, internal("list api keys", err)
		}
		k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromMS(c), fromMS(u), fromMS(r)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey stops a key from authenticating. Errors: not_found.
func (s *Service) RevokeAPIKey(ctx context.Context, merchantID int64, keyID string) error {
	res, err := s.db.Exec(ctx, `UPDATE pay_merchant_keys SET revoked_at = ? WHERE key_id = ? AND merchant_id = ? AND revoked_at = 0`,
		ms(s.now()), keyID, merchantID)
	if err != nil {
		return internal("revoke api key", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("no active API key %q for merchant %d", clip(keyID, 40), merchantID)
	}
	return nil
}

var errBadCredentials = &openmini.Error{Code: openmini.EUNAUTHORIZED, Message: "unknown API key or wrong secret"}

// Authenticate returns the merchant whose servers hold keyID and secret.
// Errors: unauthorized for an unknown, revoked or wrong key (one message
// for all, so keys cannot be probed); forbidden for a suspended merchant.
func (s *Service) Authenticate(ctx context.Context, keyID, secret string) (*Merchant, error) {
	if keyID == "" || secret == "" || len(keyID) > 64 || len(secret) > 128 {
		return nil, errBadCredentials
	}
	var merchantID, lastUsed, revoked int64
	var hash string
	err := s.db.QueryRow(ctx, `SELECT merchant_id, secret_hash, last_used_at, revoked_at FROM pay_merchant_keys WHERE key_id = ?`, keyID).
		Scan(&merchantID, &hash, &lastUsed, &revoked)
	if errors.Is(err, sqldb.ErrNotFound) {
		hash = hashSecret("") // compare anyway: the same work for unknown keys
	} else if err != nil {
		return nil, internal("authenticate", err)
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(hash)) != 1 || merchantID == 0 || revoked != 0 {
		return nil, errBadCredentials
	}
	m, err := loadMerchant(ctx, s.db, merchantID)
	if err != nil {
		return nil, err
	}
	if m.Status != MerchantActive {
		return nil, openmini.Errorf(openmini.EFORBIDDEN, "merchant %d is suspended", m.ID)
	}
	// Record use at most once a minute: a write per API call would cost
	// SQLite's single writer more than the call itself.
	if now := s.now(); ms(now)-lastUsed > time.Minute.Milliseconds() {
		if _, err := s.db.Exec(ctx, `UPDATE pay_merchant_keys SET last_used_at = ? WHERE key_id = ?`, ms(now), keyID); err != nil {
			s.log.Warn("record api key use", "key_id", keyID, "err", err)
		}
	}
	return m, nil
}

// SetWebhook sets the URL that receives the merchant's events (empty turns
// webhooks off) and returns the signing secret, creating one on first use.
// Errors: invalid naming what is wrong with the URL.
func (s *Service) SetWebhook(ctx context.Context, merchantID int64, url string) (secret string, err error) {
	url = strings.TrimSpace(url)
	if url != "" {
		if err := s.validateWebhookURL(url); err != nil {
			return "", err
		}
	}
	m, err := loadMerchant(ctx, s.db, merchantID)
	if err != nil {
		return "", err
	}
	secret = m.webhookSecret
	if secret == "" {
		secret = newWebhookSecret()
	}
	_, err = s.db.Exec(ctx, `UPDATE pay_merchants SET webhook_url = ?, webhook_secret = ?, updated_at = ? WHERE id = ?`,
		url, secret, ms(s.now()), merchantID)
	if err != nil {
		return "", internal("set webhook", err)
	}
	return secret, nil
}

// WebhookSecret returns the merchant's signing secret ("" before
// SetWebhook), for the console to show to the merchant's members.
func (s *Service) WebhookSecret(ctx context.Context, merchantID int64) (string, error) {
	m, err := loadMerchant(ctx, s.db, merchantID)
	if err != nil {
		return "", err
	}
	return m.webhookSecret, nil
}

// RotateWebhookSecret replaces the signing secret; deliveries from now on
// are signed with the new one.
func (s *Service) RotateWebhookSecret(ctx context.Context, merchantID int64) (string, error) {
	secret := newWebhookSecret()
	res, err := s.db.Exec(ctx, `UPDATE pay_merchants SET webhook_secret = ?, updated_at = ? WHERE id = ?`, secret, ms(s.now()), merchantID)
	if err != nil {
		return "", internal("rotate webhook secret", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", notFound("merchant %d not found", merchantID)
	}
	return secret, nil
}

func newWebhookSecret() string {
	raw := make([]byte, 32)
	rand.Read(raw)
	return "whsec_" + secretEncoding.EncodeToString(raw)
}

func idOwner(id int64) string { return strconv.FormatInt(id, 10) }

func isNotFound(err error) bool { return errors.Is(err, sqldb.ErrNotFound) }
