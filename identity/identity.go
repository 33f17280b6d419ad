// Package identity is who a host user is and what each mini program may
// know about them:
//
//   - host users sign up with an e-mail address or phone number, a password
//     and a verification code, and sign in with password or code (rows of
//     the accounts table, plus identity_users for verification and avatar);
//   - every app sees its own stable pseudonymous user id, every developer
//     organisation another one (like WeChat's openid and unionid); internal
//     ids, phone numbers and e-mail addresses stay hidden unless a scope
//     grants them;
//   - users grant scopes to apps (consent, with the manifest's reason) and
//     revoke them;
//   - GetAuthCode hands a mini program a one-time code, which its server
//     exchanges at a standard OAuth 2.0 / OpenID Connect token endpoint
//     (Handler) for an ID token and an access token for userinfo;
//   - SignLaunch gives every launch a compact JWS that any backend verifies
//     offline against the published JWKS.
//
// Signing keys, codes, tokens, consent and rate-limit counters all live in
// the platform database, so every replica agrees.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/password"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

// Clients authenticates the servers of mini programs at the token endpoint.
// The app service implements it: it owns app secrets. It returns the app's
// organisation on success and an *openmini.Error with code unauthorized or
// not_found when the app or secret is wrong. It is called on every token
// request, so it should be cheap (compare a SHA-256 of a random secret, not
// a password hash).
type Clients interface {
	AuthenticateClient(ctx context.Context, appID, secret string) (orgID int64, err error)
}

// Config configures the service. Zero durations take the defaults shown.
type Config struct {
	// Issuer is the platform's public URL (https://id.example.com), the
	// "iss" of every token and the base of the discovery document's URLs.
	Issuer string
	// Clients checks app secrets at the token endpoint.
	Clients Clients
	// Sender delivers verification codes; default DevSender (log and
	// development mailbox).
	Sender Sender
	// Blobs stores avatars; SetAvatar fails without it.
	Blobs blob.Store
	// AvatarURL turns an avatar blob key into the public URL given as the
	// "picture" claim; default Issuer + "/avatars/" + key.
	AvatarURL func(key string) string

	AuthCodeTTL     time.Duration // one-time auth codes; 5m, at most 5m
	IDTokenTTL      time.Duration // 1h
	AccessTokenTTL  time.Duration // 2h
	LaunchTTL       time.Duration // signed launch data; 5m
	ChallengeTTL    time.Duration // verification codes; 10m
	KeyRotateAfter  time.Duration // age at which RotateKeys replaces the signing key; 30 days
	KeyPublishAhead time.Duration // a new key is in the JWKS this long before it signs; 10m
	KeyCacheTTL     time.Duration // how long a replica trusts its cached key set; 30s

	// DefaultCallingCode (digits, e.g. "86") is put in front of phone
	// numbers given without a leading "+". Empty: "+" is required.
	DefaultCallingCode string
	// TokenRequestsPerMinute, when above 0, caps token endpoint requests
	// per app and minute (a ceiling against runaway loops). It costs one
	// database write per request, so it is off by default; wrong secrets
	// are always locked out with backoff.
	TokenRequestsPerMinute int
	// HashParams is the argon2id cost for passwords; default password.Default.
	HashParams password.Params

	Logger *slog.Logger
	Now    func() time.Time
}

// Service is the identity service. It is safe for concurrent use.
type Service struct {
	db     *sqldb.DB
	limits *ratelimit.Limiter
	cfg    Config
	log    *slog.Logger
	now    func() time.Time

	secretMu sync.Mutex
	secret   []byte // HMAC key for pseudonyms and verification codes

	keys keyCache

	dummyOnce sync.Once
	dummy     string
}

// New returns the identity service on db. It fails when the configuration
// is unusable (no issuer, or one that is not an absolute http(s) URL).
func New(db *sqldb.DB, limits *ratelimit.Limiter, cfg Config) (*Service, error) {
	u, err := url.Parse(cfg.Issuer)
	if cfg.Issuer == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("identity: issuer %q must be an absolute http(s) URL without query", cfg.Issuer)
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.AuthCodeTTL, 5*time.Minute)
	cfg.AuthCodeTTL = min(cfg.AuthCodeTTL, 5*time.Minute)
	def(&cfg.IDTokenTTL, time.Hour)
	def(&cfg.AccessTokenTTL, 2*time.Hour)
	def(&cfg.LaunchTTL, 5*time.Minute)
	def(&cfg.ChallengeTTL, 10*time.Minute)
	def(&cfg.KeyRotateAfter, 30*24*time.Hour)
	def(&cfg.KeyPublishAhead, 10*time.Minute)
	def(&cfg.KeyCacheTTL, 30*time.Second)
	if cfg.HashParams == (password.Params{}) {
		cfg.HashParams = password.Default
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AvatarURL == nil {
		base := cfg.Issuer
		cfg.AvatarURL = func(key string) string { return base + "/avatars/" + key }
	}
	if cfg.DefaultCallingCode != "" && !allDigits(cfg.DefaultCallingCode) {
		return nil, fmt.Errorf("identity: default calling code %q must be digits", cfg.DefaultCallingCode)
	}
	s := &Service{db: db, limits: limits, cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if s.cfg.Sender == nil {
		s.cfg.Sender = NewDevSender(db, cfg.Logger, cfg.Now)
	}
	return s, nil
}

// Issuer returns the configured issuer URL (no trailing slash).
func (s *Service) Issuer() string { return s.cfg.Issuer }

const secretSetting = "identity.secret"

// hmacKey returns the platform secret behind pseudonyms and code hashes,
// creating it on first use. Every replica reads the same row.
func (s *Service) hmacKey(ctx context.Context) ([]byte, error) {
	s.secretMu.Lock()
	defer s.secretMu.Unlock()
	if s.secret != nil {
		return s.secret, nil
	}
	b := make([]byte, 32)
	rand.Read(b)
	_, err := s.db.Exec(ctx, `INSERT INTO platform_settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		secretSetting, base64.RawStdEncoding.EncodeToString(b), s.now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("identity secret: %w", err)
	}
	var v string
	if err := s.db.QueryRow(ctx, `SELECT value FROM platform_settings WHERE key = ?`, secretSetting).Scan(&v); err != nil {
		return nil, fmt.Errorf("identity secret: %w", err)
	}
	key, err := base64.RawStdEncoding.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, errors.New("identity secret: platform_settings holds a malformed value")
	}
	s.secret = key
	return key, nil
}

// randomToken returns n random bytes, base64url encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sha256Hex is how codes and tokens are stored.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func invalid(format string, args ...any) error {
	return openmini.Errorf(openmini.EINVALID, format, args...)
}
