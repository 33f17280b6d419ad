package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/openmini/openmini"
)

// LaunchClaims is what the host knows about one launch of a mini program.
type LaunchClaims struct {
	AppID     string
	AccountID int64
	Scene     string // where the launch came from: "qr", "search", "share", ... (at most 64 characters)
	Query     string // the launch query, e.g. "table=12&store=88" (at most 2048 bytes)
	Path      string // the page opened, e.g. "pages/menu/index" (at most 512 bytes)
}

// LaunchData is verified launch data.
type LaunchData struct {
	AppID     string
	AppUserID string
	Scene     string
	Query     string
	Path      string
	ID        string // jti: unique per launch, for replay checks
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// launchPayload is the JWS payload of launch data.
type launchPayload struct {
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
	Subject  string `json:"sub"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	ID       string `json:"jti"`
	Scene    string `json:"scene"`
	Query    string `json:"query"`
	Path     string `json:"path"`
}

// SignLaunch returns signed launch data: a compact JWS (header typ
// "openmini-launch+jwt", alg ES256, kid of a key in the JWKS) whose payload
// holds iss, aud (the app id), sub (the app user id), iat, exp (LaunchTTL
// later), a unique jti, scene, query and path. Any backend verifies it
// offline with the published JWKS. invalid for oversized fields.
func (s *Service) SignLaunch(ctx context.Context, c LaunchClaims) (string, error) {
	if c.AppID == "" || len(c.AppID) > 200 {
		return "", invalid("app: give the app id")
	}
	if utf8.RuneCountInString(c.Scene) > 64 {
		return "", invalid("scene: use at most 64 characters")
	}
	if len(c.Query) > 2048 {
		return "", invalid("query: use at most 2048 bytes")
	}
	if len(c.Path) > 512 {
		return "", invalid("path: use at most 512 bytes")
	}
	sub, err := s.AppUserID(ctx, c.AccountID, c.AppID)
	if err != nil {
		return "", err
	}
	now := s.now()
	payload, err := json.Marshal(launchPayload{
		Issuer: s.cfg.Issuer, Audience: c.AppID, Subject: sub,
		IssuedAt: now.Unix(), Expiry: now.Add(s.cfg.LaunchTTL).Unix(), ID: randomToken(12),
		Scene: c.Scene, Query: c.Query, Path: c.Path,
	})
	if err != nil {
		return "", fmt.Errorf("sign launch: %w", err)
	}
	return s.sign(ctx, payload, true)
}

// ErrBadLaunch is returned by VerifyLaunch for launch data that is
// malformed, tampered with, expired, signed by an unknown key or meant for
// another app.
var ErrBadLaunch = openmini.Errorf(openmini.EUNAUTHORIZED, "launch data: invalid, expired or for another app")

// VerifyLaunch checks launch data the way a backend should: the typ header,
// ES256, a signature by a published key, the issuer, aud = appID and the
// expiry (one minute of clock skew allowed). It returns ErrBadLaunch (with
// the reason in its chain) when any check fails.
func (s *Service) VerifyLaunch(ctx context.Context, token, appID string) (LaunchData, error) {
	set, err := s.keySet(ctx)
	if err != nil {
		return LaunchData{}, err
	}
	keys := jose.JSONWebKeySet{}
	for _, k := range set.keys {
		keys.Keys = append(keys.Keys, k.public)
	}
	d, err := VerifyLaunchWithKeys(token, keys, s.cfg.Issuer, appID, s.now())
	if err != nil {
		return LaunchData{}, &openmini.Error{Code: ErrBadLaunch.Code, Message: ErrBadLaunch.Message, Err: err}
	}
	return d, nil
}

// VerifyLaunchWithKeys verifies launch data against a JWKS fetched from the
// platform (for Go backends that import this package; others follow the
// same steps with their JOSE library).
func VerifyLaunchWithKeys(token string, keys jose.JSONWebKeySet, issuer, appID string, now time.Time) (LaunchData, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{sigAlg})
	if err != nil {
		return LaunchData{}, fmt.Errorf("parse: %w", err)
	}
	if len(tok.Headers) != 1 {
		return LaunchData{}, fmt.Errorf("want one signature")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, typLaunch) {
		return LaunchData{}, fmt.Errorf("typ %q is not %s", typ, typLaunch)
	}
	found := keys.Key(h.KeyID)
	if len(found) == 0 {
		return LaunchData{}, fmt.Errorf("unknown key %q", h.KeyID)
	}
	var std jwt.Claims
	var p launchPayload
	if err := tok.Claims(found[0].Key, &std, &p); err != nil {
		return LaunchData{}, fmt.Errorf("signature: %w", err)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{appID}, Time: now}, time.Minute); err != nil {
		return LaunchData{}, err
	}
	if std.Expiry == nil || std.Subject == "" {
		return LaunchData{}, fmt.Errorf("exp and sub are required")
	}
	return LaunchData{AppID: appID, AppUserID: p.Subject, Scene: p.Scene, Query: p.Query, Path: p.Path, ID: p.ID,
		IssuedAt: time.Unix(p.IssuedAt, 0), ExpiresAt: time.Unix(p.Expiry, 0)}, nil
}
