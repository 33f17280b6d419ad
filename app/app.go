// Package app holds mini programs as the platform sees them: registration
// with a platform-assigned ID (a DNS label, because it becomes the app's
// origin), settings (name, icon, category, network allow-list, webhook),
// app secrets, testers, and versions with their lifecycle: development ->
// trial -> review -> released (gradually, with pause and instant
// rollback). Every state change goes into the audit log.
package app

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/policy"
	"github.com/openmini/openmini/sqldb"
)

// App is a registered mini program and its settings.
type App struct {
	ID             string    `json:"id"`
	OrgID          int64     `json:"org_id"`
	OrgName        string    `json:"org_name"`
	Name           string    `json:"name"`
	ShortName      string    `json:"short_name"`
	Description    string    `json:"description"`
	Category       string    `json:"category"`
	Keywords       []string  `json:"keywords"`
	IconKey        string    `json:"-"`
	HasIcon        bool      `json:"has_icon"`
	AllowedDomains []string  `json:"allowed_domains"`
	WebhookURL     string    `json:"webhook_url"`
	TrialVersionID int64     `json:"trial_version_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Hooks are told about changes other parts of the platform follow (the
// discovery index). Any field may be nil.
type Hooks struct {
	// Released runs after a version of an app was released or rolled back
	// to, or its settings changed while it has a release.
	Released func(ctx context.Context, a App, v Version)
}

// Service manages apps and versions.
type Service struct {
	db     *sqldb.DB
	blob   blob.Store
	orgs   *org.Service
	policy *policy.Service
	keys   *Keys
	log    *slog.Logger
	now    func() time.Time
	Hooks  Hooks
	// SecretGrace is how long a rotated app secret keeps working.
	SecretGrace time.Duration
}

// New returns the app service. keys signs accepted packages.
func New(db *sqldb.DB, st blob.Store, orgs *org.Service, pol *policy.Service, keys *Keys, log *slog.Logger) *Service {
	return &Service{db: db, blob: st, orgs: orgs, policy: pol, keys: keys, log: log, now: time.Now, SecretGrace: 24 * time.Hour}
}

// Keys returns the package signing keys.
func (s *Service) Keys() *Keys { return s.keys }

const appCols = `a.id, a.org_id, o.name, a.name, a.short_name, a.description, a.category, a.keywords, a.icon_key,
	a.allowed_domains, a.webhook_url, COALESCE(a.trial_version_id, 0), a.created_at, a.updated_at`

func scanApp(row interface{ Scan(...any) error }) (App, error) {
	var a App
	var kw, domains string
	var at, up int64
	err := row.Scan(&a.ID, &a.OrgID, &a.OrgName, &a.Name, &a.ShortName, &a.Description, &a.Category, &kw, &a.IconKey,
		&domains, &a.WebhookURL, &a.TrialVersionID, &at, &up)
	if err != nil {
		return a, err
	}
	a.Keywords = splitKeywords(kw)
	a.AllowedDomains = []string{}
	json.Unmarshal([]byte(domains), &a.AllowedDomains)
	a.HasIcon = a.IconKey != ""
	a.CreatedAt, a.UpdatedAt = time.UnixMilli(at), time.UnixMilli(up)
	return a, nil
}

func splitKeywords(s string) []string {
	out := []string{}
	for _, k := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '\n' }) {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// Get returns an app without checking who asks (for the host and
// internal callers); not_found if there is none.
func (s *Service) Get(ctx context.Context, id string) (App, error) {
	a, err := scanApp(s.db.QueryRow(ctx, `SELECT `+appCols+` FROM apps a JOIN orgs o ON o.id = a.org_id WHERE a.id = ?`, id))
	if errors.Is(err, sqldb.ErrNotFound) {
		return a, openmini.Errorf(openmini.ENOTFOUND, "no mini program %q", id)
	}
	if err != nil {
		return a, fmt.Errorf("get app: %w", err)
	}
	return a, nil
}

// Require returns the app when actor has at least role min in its
// organisation (an app-scoped API key only reaches its own app).
func (s *Service) Require(ctx context.Context, actor openmini.Actor, id, min string) (App, error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return a, err
	}
	if actor.IsKey() && actor.KeyAppID != "" && actor.KeyAppID != id {
		return App{}, openmini.Errorf(openmini.EFORBIDDEN, "this API key is limited to the app %s", actor.KeyAppID)
	}
	if err := s.orgs.Require(ctx, actor, a.OrgID, min); err != nil {
		if openmini.ErrorCode(err) == openmini.ENOTFOUND {
			return App{}, openmini.Errorf(openmini.ENOTFOUND, "no mini program %q", id)
		}
		return App{}, err
	}
	return a, nil
}

// List returns the apps of an organisation (viewers and up).
func (s *Service) List(ctx context.Context, actor openmini.Actor, orgID int64) ([]App, error) {
	if err := s.orgs.Require(ctx, actor, orgID, org.RoleViewer); err != nil {
		return nil, err
	}
	q := `SELECT ` + appCols + ` FROM apps a JOIN orgs o ON o.id = a.org_id WHERE a.org_id = ?`
	args := []any{orgID}
	if actor.IsKey() && actor.KeyAppID != "" {
		q += ` AND a.id = ?`
		args = append(args, actor.KeyAppID)
	}
	return s.list(ctx, q+` ORDER BY a.created_at, a.id`, args...)
}

// ListForAccount returns every app of every organisation the actor is a
// member of (or the key's organisation).
func (s *Service) ListForActor(ctx context.Context, actor openmini.Actor) ([]App, error) {
	if actor.IsKey() {
		return s.List(ctx, actor, actor.KeyOrgID)
	}
	return s.list(ctx, `SELECT `+appCols+` FROM apps a JOIN orgs o ON o.id = a.org_id
		JOIN org_members m ON m.org_id = a.org_id WHERE m.account_id = ? ORDER BY o.name, a.created_at, a.id`, actor.AccountID)
}

func (s *Service) list(ctx context.Context, q string, args ...any) ([]App, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	defer rows.Close()
	out := []App{}
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("list apps: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Settings are the fields a developer edits. Nil pointers leave a field
// unchanged.
type Settings struct {
	Name           *string   `json:"name,omitempty"`
	ShortName      *string   `json:"short_name,omitempty"`
	Description    *string   `json:"description,omitempty"`
	Category       *string   `json:"category,omitempty"`
	Keywords       *[]string `json:"keywords,omitempty"`
	AllowedDomains *[]string `json:"allowed_domains,omitempty"`
	WebhookURL     *string   `json:"webhook_url,omitempty"`
}

// ID alphabet: lower-case letters and digits without look-alikes. IDs are
// "mp" and 14 more characters: a DNS label, so it can be the app's origin.
const idAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// ValidID reports whether id has the shape of a platform app ID: a DNS
// label of lower-case letters and digits.
func ValidID(id string) bool { return idRE.MatchString(id) }

var idRE = regexp.MustCompile(`^[a-z][a-z0-9]{2,40}$`)

func newID() string {
	b := make([]byte, 14)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return "mp" + string(b)
}

// Create registers a new mini program in orgID (developers and up) and
// returns it with its first app secret (shown once).
func (s *Service) Create(ctx context.Context, actor openmini.Actor, orgID int64, set Settings) (App, string, error) {
	if actor.IsKey() && actor.KeyAppID != "" {
		return App{}, "", openmini.Errorf(openmini.EFORBIDDEN, "this API key is limited to the app %s", actor.KeyAppID)
	}
	if err := s.orgs.Require(ctx, actor, orgID, org.RoleDeveloper); err != nil {
		return App{}, "", err
	}
	a := App{OrgID: orgID, Keywords: []string{}, AllowedDomains: []string{}}
	if set.Name == nil {
		return App{}, "", openmini.Errorf(openmini.EINVALID, "name: give the mini program a name")
	}
	if set.Category == nil || *set.Category == "" {
		return App{}, "", openmini.Errorf(openmini.EINVALID, "category: choose a category")
	}
	if err := s.apply(ctx, &a, set); err != nil {
		return App{}, "", err
	}
	var secret string
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		now := s.now()
		domains, _ := json.Marshal(a.AllowedDomains)
		for i := 0; ; i++ {
			a.ID = newID()
			_, err := tx.Exec(ctx, `INSERT INTO apps (id, org_id, name, short_name, description, category, keywords, allowed_domains, webhook_url, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, orgID, a.Name, a.ShortName, a.Description, a.Category,
				strings.Join(a.Keywords, ","), string(domains), a.WebhookURL, now.UnixMilli(), now.UnixMilli())
			if errors.Is(err, sqldb.ErrUnique) && i < 3 {
				continue
			}
			if err != nil {
				return fmt.Errorf("create app: %w", err)
			}
			break
		}
		var err error
		if secret, err = s.addSecret(ctx, tx, a.ID, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, orgID, a.ID, "app.create", map[string]any{"name": a.Name, "category": a.Category})
	})
	if err != nil {
		return App{}, "", err
	}
	a, err = s.Get(ctx, a.ID)
	return a, secret, err
}

// Update changes an app's settings (developers and up).
func (s *Service) Update(ctx context.Context, actor openmini.Actor, id string, set Settings) (App, error) {
	a, err := s.Require(ctx, actor, id, org.RoleDeveloper)
	if err != nil {
		return App{}, err
	}
	if err := s.apply(ctx, &a, set); err != nil {
		return App{}, err
	}
	domains, _ := json.Marshal(a.AllowedDomains)
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE apps SET name = ?, short_name = ?, description = ?, category = ?, keywords = ?, allowed_domains = ?,
			webhook_url = ?, updated_at = ? WHERE id = ?`, a.Name, a.ShortName, a.Description, a.Category, strings.Join(a.Keywords, ","),
			string(domains), a.WebhookURL, s.now().UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("update app: %w", err)
		}
		return audit.Record(ctx, tx, actor, a.OrgID, id, "app.update", set)
	})
	if err != nil {
		return App{}, err
	}
	a, err = s.Get(ctx, id)
	if err == nil {
		s.notifyReleased(ctx, a)
	}
	return a, err
}

// apply checks set and copies it into a.
func (s *Service) apply(ctx context.Context, a *App, set Settings) error {
	if set.Name != nil {
		n := strings.TrimSpace(*set.Name)
		if n == "" || utf8.RuneCountInString(n) > 40 {
			return openmini.Errorf(openmini.EINVALID, "name: give a name of 1 to 40 characters")
		}
		a.Name = n
	}
	if set.ShortName != nil {
		n := strings.TrimSpace(*set.ShortName)
		if utf8.RuneCountInString(n) > 12 {
			return openmini.Errorf(openmini.EINVALID, "short_name: at most 12 characters")
		}
		a.ShortName = n
	}
	if set.Description != nil {
		d := strings.TrimSpace(*set.Description)
		if utf8.RuneCountInString(d) > 500 {
			return openmini.Errorf(openmini.EINVALID, "description: at most 500 characters")
		}
		a.Description = d
	}
	if set.Category != nil && *set.Category != a.Category {
		if err := s.policy.CheckCategory(ctx, *set.Category); err != nil {
			return err
		}
		a.Category = *set.Category
	}
	if set.Keywords != nil {
		kw := splitKeywords(strings.Join(*set.Keywords, ","))
		if len(kw) > 10 {
			return openmini.Errorf(openmini.EINVALID, "keywords: at most 10")
		}
		for _, k := range kw {
			if utf8.RuneCountInString(k) > 30 {
				return openmini.Errorf(openmini.EINVALID, "keywords: %q is longer than 30 characters", k)
			}
		}
		a.Keywords = kw
	}
	if set.AllowedDomains != nil {
		ds, err := CheckDomains(*set.AllowedDomains)
		if err != nil {
			return err
		}
		a.AllowedDomains = ds
	}
	if set.WebhookURL != nil {
		w := strings.TrimSpace(*set.WebhookURL)
		if w != "" {
			u, err := url.Parse(w)
			if err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) {
				return openmini.Errorf(openmini.EINVALID, "webhook_url: %q must be an https:// URL (http:// only for localhost)", w)
			}
		}
		a.WebhookURL = w
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackOrigin accepts a development origin on this machine:
// http://localhost, http://127.0.0.1 or http://[::1], with an optional
// port and nothing else.
func loopbackOrigin(d string) (string, bool) {
	u, err := url.Parse(d)
	if err != nil || u.Scheme != "http" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
	default:
		return "", false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || p[0] == '0' {
			return "", false
		}
	}
	return "http://" + u.Host, true
}

var hostRE = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// CheckDomains validates a network allow-list: https origins, as
// "api.example.com", "https://api.example.com", "https://api.example.com:8443"
// or "*.example.com", and, for local development only, the loopback http
// origins "http://localhost[:port]", "http://127.0.0.1[:port]" and
// "http://[::1][:port]" (a developer's own server on their machine). It
// returns them as origins (or wildcards), sorted and without duplicates.
func CheckDomains(in []string) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	if len(in) > 50 {
		return nil, openmini.Errorf(openmini.EINVALID, "allowed_domains: at most 50")
	}
	for _, raw := range in {
		d := strings.ToLower(strings.TrimSpace(raw))
		if d == "" {
			continue
		}
		if o, ok := loopbackOrigin(d); ok {
			if !seen[o] {
				seen[o] = true
				out = append(out, o)
			}
			continue
		}
		if strings.Contains(d, "://") {
			u, err := url.Parse(d)
			if err != nil || u.Scheme != "https" {
				return nil, openmini.Errorf(openmini.EINVALID, "allowed_domains: %q must use https", raw)
			}
			if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
				return nil, openmini.Errorf(openmini.EINVALID, "allowed_domains: %q must be a domain, without a path", raw)
			}
			d = u.Host
		}
		host, port := d, ""
		if h, p, err := net.SplitHostPort(d); err == nil {
			host, port = h, p
		}
		if !hostRE.MatchString(host) {
			return nil, openmini.Errorf(openmini.EINVALID, "allowed_domains: %q is not a domain name", raw)
		}
		origin := "https://" + host
		if port != "" && port != "443" {
			origin += ":" + port
		}
		if !seen[origin] {
			seen[origin] = true
			out = append(out, origin)
		}
	}
	sortStrings(out)
	return out, nil
}
