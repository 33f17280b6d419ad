package qr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/sqldb"
)

// Code is a stored QR code: a short link to a target.
type Code struct {
	ID         int64     `json:"id"`
	Slug       string    `json:"slug"`
	OrgID      int64     `json:"org_id"`
	AppID      string    `json:"app_id,omitempty"` // the app the code belongs to, if any
	BatchID    int64     `json:"batch_id,omitempty"`
	Target     Target    `json:"target"`
	Label      string    `json:"label,omitempty"`    // caption line 1, e.g. "Table 12"
	Sublabel   string    `json:"sublabel,omitempty"` // caption line 2, e.g. "Store 88 · 88号店"
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	DisabledAt time.Time `json:"disabled_at,omitzero"`
	CreatedBy  int64     `json:"created_by,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Status is a code's state at some moment.
type Status string

const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
	StatusExpired  Status = "expired"
)

// StatusAt reports whether the code resolves at now. Disabled wins over
// expired.
func (c *Code) StatusAt(now time.Time) Status {
	switch {
	case !c.DisabledAt.IsZero():
		return StatusDisabled
	case !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt):
		return StatusExpired
	}
	return StatusActive
}

// Sentinel causes of Resolve's errors, matched with errors.Is. The
// *openmini.Error around them has code not_found and a message safe to show
// on the friendly page.
var (
	ErrDisabled = errors.New("qr code disabled")
	ErrExpired  = errors.New("qr code expired")
	ErrUnknown  = errors.New("no such qr code")
)

// Max lengths of captions.
const (
	MaxLabelLen = 100 // runes
	MaxBatch    = 1000
)

// Config configures a Service.
type Config struct {
	// BaseURL is the platform's public URL, e.g. "https://mini.example.com";
	// short links are {BaseURL}/s/{slug}. Required.
	BaseURL string
	// Blob, when set, is the second-level cache of rendered images.
	Blob blob.Store
	// RenderCacheBytes bounds the in-memory render cache (0: 32 MiB).
	RenderCacheBytes int64
	// FontPaths are font files (.ttf, .otf, .ttc) tried in order for PDF
	// captions; empty means DefaultFontPaths. A caption character that no
	// font has is an error naming it.
	FontPaths []string
	Logger    *slog.Logger
	Now       func() time.Time
}

// Service is the QR code service: creation, bulk creation, resolution with
// scan statistics, rendering and print kits. It is safe for concurrent use.
type Service struct {
	db       *sqldb.DB
	base     *url.URL
	now      func() time.Time
	log      *slog.Logger
	renderer *Renderer
	fonts    *fontSet
}

// NewService returns a service on db. It fails if BaseURL is not an
// absolute http(s) URL.
func NewService(db *sqldb.DB, cfg Config) (*Service, error) {
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("qr: base URL %q must be an absolute http(s) URL", cfg.BaseURL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.FontPaths) == 0 {
		cfg.FontPaths = DefaultFontPaths
	}
	return &Service{
		db:       db,
		base:     base,
		now:      cfg.Now,
		log:      cfg.Logger,
		renderer: NewRenderer(RendererConfig{CacheBytes: cfg.RenderCacheBytes, Blob: cfg.Blob, Logger: cfg.Logger}),
		fonts:    newFontSet(cfg.FontPaths),
	}, nil
}

// Close releases the fonts the service opened.
func (s *Service) Close() error { return s.fonts.close() }

// Renderer returns the service's renderer (with its cache).
func (s *Service) Renderer() *Renderer { return s.renderer }

// RenderCode draws the code's short link (see Renderer.Render, which
// caches by content).
func (s *Service) RenderCode(ctx context.Context, c *Code, opts RenderOptions) ([]byte, error) {
	return s.renderer.Render(ctx, s.ShortURL(c), opts)
}

// ShortURL is the URL a code's image encodes: {BaseURL}/s/{slug}.
func (s *Service) ShortURL(c *Code) string { return s.base.String() + "/s/" + c.Slug }

// LaunchURL is the absolute URL of a target: {BaseURL} + Target.Path().
func (s *Service) LaunchURL(t Target) string { return s.base.String() + t.Path() }

// Classify sorts a string decoded by the scanner against this platform's
// base URL; see the package function Classify.
func (s *Service) Classify(decoded string) Scanned { return Classify(decoded, s.base) }

// NewCode is what Create needs.
type NewCode struct {
	OrgID     int64
	AppID     string // optional for collect and order codes; defaults to Target.AppID
	Target    Target
	Label     string
	Sublabel  string
	ExpiresAt time.Time // zero: permanent
	CreatedBy int64     // account id, optional
}

func checkLabel(what, s string) error {
	if !utf8.ValidString(s) || hasControl(s) {
		return invalid("%s contains invalid characters", what)
	}
	if n := utf8.RuneCountInString(s); n > MaxLabelLen {
		return invalid("%s is %d characters; at most %d are allowed", what, n, MaxLabelLen)
	}
	return nil
}

func (s *Service) prepare(n NewCode, now time.Time) (*Code, error) {
	if n.OrgID <= 0 {
		return nil, invalid("org id is missing")
	}
	if err := n.Target.Validate(); err != nil {
		return nil, err
	}
	t := n.Target.normalize()
	appID := n.AppID
	if appID == "" {
		appID = t.AppID
	}
	if t.AppID != "" && appID != t.AppID {
		return nil, invalid("app id %q differs from the target's app id %q", appID, t.AppID)
	}
	if appID != "" {
		if err := CheckAppID(appID); err != nil {
			return nil, err
		}
	}
	if err := checkLabel("label", n.Label); err != nil {
		return nil, err
	}
	if err := checkLabel("sublabel", n.Sublabel); err != nil {
		return nil, err
	}
	if !n.ExpiresAt.IsZero() && !n.ExpiresAt.After(now) {
		return nil, invalid("expiry %s is not in the future", n.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return &Code{
		OrgID: n.OrgID, AppID: appID, Target: t, Label: strings.TrimSpace(n.Label), Sublabel: strings.TrimSpace(n.Sublabel),
		ExpiresAt: truncMS(n.ExpiresAt), CreatedBy: n.CreatedBy, CreatedAt: truncMS(now), UpdatedAt: truncMS(now),
	}, nil
}

func truncMS(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// storeErr turns foreign-key and not-found errors into *openmini.Error.
func storeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sqldb.ErrForeignKey):
		return &openmini.Error{Code: openmini.ENOTFOUND, Message: "the organisation, app or account does not exist", Err: err}
	case errors.Is(err, sqldb.ErrNotFound):
		return &openmini.Error{Code: openmini.ENOTFOUND, Message: "QR code not found", Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Create stores a new code with a fresh slug. Errors: invalid for a bad
// target, label or expiry; not_found when the org, app or creator does not
// exist. Callers check that the caller may act for OrgID.
func (s *Service) Create(ctx context.Context, n NewCode) (*Code, error) {
	c, err := s.prepare(n, s.now())
	if err != nil {
		return nil, err
	}
	if err := insertCode(ctx, s.db, c); err != nil {
		return nil, storeErr("create qr code", err)
	}
	return c, nil
}

// Get returns the org's code with this id; not_found if it does not exist
// or belongs to another org.
func (s *Service) Get(ctx context.Context, orgID, id int64) (*Code, error) {
	c, err := getCode(ctx, s.db, "id = ? AND org_id = ?", id, orgID)
	return c, storeErr("get qr code", err)
}

// GetBySlug returns the code with this slug whatever its status (the
// payments and host layers use it); not_found if there is none.
func (s *Service) GetBySlug(ctx context.Context, slug string) (*Code, error) {
	if !ValidSlug(slug) {
		return nil, &openmini.Error{Code: openmini.ENOTFOUND, Message: "QR code not found", Err: ErrUnknown}
	}
	c, err := getCode(ctx, s.db, "slug = ?", slug)
	if errors.Is(err, sqldb.ErrNotFound) {
		return nil, &openmini.Error{Code: openmini.ENOTFOUND, Message: "QR code not found", Err: ErrUnknown}
	}
	return c, storeErr("get qr code", err)
}

// ListFilter selects an org's codes, oldest first, a page at a time.
type ListFilter struct {
	OrgID   int64
	AppID   string
	BatchID int64
	Kind    Kind
	AfterID int64 // the last id of the previous page
	Limit   int   // 1..1000; 0 means 100
}

// List returns the org's codes matching f.
func (s *Service) List(ctx context.Context, f ListFilter) ([]*Code, error) {
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 0 || f.Limit > MaxBatch {
		return nil, invalid("limit %d: want 1 to %d", f.Limit, MaxBatch)
	}
	cs, err := listCodes(ctx, s.db, f)
	return cs, storeErr("list qr codes", err)
}

// Update is a change to a code; nil fields stay as they are. Changing the
// target keeps the slug, so printed codes lead somewhere new.
type Update struct {
	Target    *Target
	Label     *string
	Sublabel  *string
	ExpiresAt *time.Time // a zero time makes the code permanent
	Disabled  *bool
}

// Update changes the org's code and returns it. Errors: not_found, invalid
// (bad target, label, or an expiry in the past).
func (s *Service) Update(ctx context.Context, orgID, id int64, u Update) (*Code, error) {
	var out *Code
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		c, err := getCode(ctx, tx, "id = ? AND org_id = ?", id, orgID)
		if err != nil {
			return err
		}
		now := s.now()
		if u.Target != nil {
			if err := u.Target.Validate(); err != nil {
				return err
			}
			t := u.Target.normalize()
			if t.AppID != "" && c.AppID != "" && t.AppID != c.AppID {
				return invalid("the new target's app %q is not the code's app %q", t.AppID, c.AppID)
			}
			c.Target = t
		}
		if u.Label != nil {
			if err := checkLabel("label", *u.Label); err != nil {
				return err
			}
			c.Label = strings.TrimSpace(*u.Label)
		}
		if u.Sublabel != nil {
			if err := checkLabel("sublabel", *u.Sublabel); err != nil {
				return err
			}
			c.Sublabel = strings.TrimSpace(*u.Sublabel)
		}
		if u.ExpiresAt != nil {
			if !u.ExpiresAt.IsZero() && !u.ExpiresAt.After(now) {
				return invalid("expiry %s is not in the future", u.ExpiresAt.UTC().Format(time.RFC3339))
			}
			c.ExpiresAt = truncMS(*u.ExpiresAt)
		}
		if u.Disabled != nil {
			switch {
			case *u.Disabled && c.DisabledAt.IsZero():
				c.DisabledAt = truncMS(now)
			case !*u.Disabled:
				c.DisabledAt = time.Time{}
			}
		}
		c.UpdatedAt = truncMS(now)
		if err := updateCode(ctx, tx, c); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		var oe *openmini.Error
		if errors.As(err, &oe) {
			return nil, err
		}
		return nil, storeErr("update qr code", err)
	}
	return out, nil
}

// SetDisabled disables or re-enables the org's code.
func (s *Service) SetDisabled(ctx context.Context, orgID, id int64, disabled bool) (*Code, error) {
	return s.Update(ctx, orgID, id, Update{Disabled: &disabled})
}

// Visitor is who scanned: a signed-in account, or an anonymous visitor id
// (an opaque cookie value, at most 64 bytes), or neither.
type Visitor struct {
	AccountID int64
	Visitor   string
}

func (v Visitor) normalize() Visitor {
	if len(v.Visitor) > 64 {
		v.Visitor = v.Visitor[:64]
	}
	if !utf8.ValidString(v.Visitor) {
		v.Visitor = ""
	}
	return v
}

// Resolve looks up a scanned short link and records the scan. It returns
// the code when it is active. A disabled or expired code gives an
// *openmini.Error (code not_found, a message for the friendly page) wrapping
// ErrDisabled or ErrExpired, along with the code itself so the page can say
// whose code it was; an unknown slug wraps ErrUnknown. Only active scans are
// counted.
func (s *Service) Resolve(ctx context.Context, slug string, v Visitor) (*Code, error) {
	c, err := s.GetBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch c.StatusAt(now) {
	case StatusDisabled:
		return c, &openmini.Error{Code: openmini.ENOTFOUND, Message: "This QR code has been turned off by its owner.", Err: ErrDisabled}
	case StatusExpired:
		return c, &openmini.Error{Code: openmini.ENOTFOUND, Message: "This QR code has expired.", Err: ErrExpired}
	}
	if _, err := insertEvent(ctx, s.db, c.ID, "scan", v.normalize(), Payment{}, now); err != nil {
		return nil, storeErr("record scan", err)
	}
	return c, nil
}

// RecordLaunch counts a mini program launch that followed a scan of the
// code with this slug (the host calls it with the launch's source slug).
// not_found for an unknown slug.
func (s *Service) RecordLaunch(ctx context.Context, slug string, v Visitor) error {
	c, err := s.GetBySlug(ctx, slug)
	if err != nil {
		return err
	}
	_, err = insertEvent(ctx, s.db, c.ID, "launch", v.normalize(), Payment{}, s.now())
	return storeErr("record launch", err)
}

// Payment is a payment made through a code, reported by the payments
// layer.
type Payment struct {
	Ref       string // the payment's unique id; a second report with the same Ref is ignored
	AccountID int64  // payer, optional
	Amount    int64  // minor units, > 0
	Currency  string // ISO 4217, e.g. "CNY"
}

// RecordPayment counts a payment made through the code with this slug.
// Reporting the same Ref again is a no-op that returns nil, so the payments
// layer may retry freely. Errors: invalid payment, not_found slug. q lets
// the caller record inside its own transaction (nil for the service's
// database).
func (s *Service) RecordPayment(ctx context.Context, q sqldb.Querier, slug string, p Payment) error {
	if p.Ref == "" || len(p.Ref) > 128 {
		return invalid("payment reference must be 1 to 128 bytes")
	}
	if p.Amount <= 0 {
		return invalid("payment amount %d must be positive", p.Amount)
	}
	if len(p.Currency) != 3 || strings.ToUpper(p.Currency) != p.Currency || !isLetters(p.Currency) {
		return invalid("currency %q: want an ISO 4217 code such as CNY", truncate(p.Currency))
	}
	if q == nil {
		q = s.db
	}
	c, err := getCode(ctx, q, "slug = ?", slug)
	if err != nil {
		return storeErr("record payment", err)
	}
	_, err = insertEvent(ctx, q, c.ID, "payment", Visitor{AccountID: p.AccountID}, p, s.now())
	return storeErr("record payment", err)
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// Stats are counts over a set of codes and a time range.
type Stats struct {
	Scans       int64      `json:"scans"`
	UniqueUsers int64      `json:"unique_users"` // distinct accounts or visitor ids among scans
	Launches    int64      `json:"launches"`
	Payments    int64      `json:"payments"`
	Paid        []Amount   `json:"paid,omitempty"` // payment totals per currency
	FirstScanAt time.Time  `json:"first_scan_at,omitzero"`
	LastScanAt  time.Time  `json:"last_scan_at,omitzero"`
	Days        []DayStats `json:"days,omitempty"`
}

// Amount is a sum of money in minor units.
type Amount struct {
	Currency string `json:"currency"`
	Minor    int64  `json:"minor"`
}

// DayStats are one UTC day's counts.
type DayStats struct {
	Day      string `json:"day"` // YYYY-MM-DD
	Scans    int64  `json:"scans"`
	Launches int64  `json:"launches"`
	Payments int64  `json:"payments"`
}

// StatsRange limits statistics to events in [Since, Until); zero ends are
// open.
type StatsRange struct {
	Since, Until time.Time
}

// CodeStats returns the statistics of the org's code, with a per-day
// series. not_found if the code is not the org's.
func (s *Service) CodeStats(ctx context.Context, orgID, id int64, r StatsRange) (*Stats, error) {
	if _, err := s.Get(ctx, orgID, id); err != nil {
		return nil, err
	}
	scope, args := "c.id = ?", []any{id}
	all, err := queryStats(ctx, s.db, scope, args, r)
	if err != nil {
		return nil, storeErr("qr code stats", err)
	}
	st := all[id]
	if st == nil {
		st = &Stats{}
	}
	if st.Days, err = queryDays(ctx, s.db, scope, args, r); err != nil {
		return nil, storeErr("qr code stats", err)
	}
	return st, nil
}

// CodeStatsRow is one code's line in AppStats.
type CodeStatsRow struct {
	CodeID int64  `json:"code_id"`
	Slug   string `json:"slug"`
	Label  string `json:"label,omitempty"`
	Stats
}

// AppStats are an app's statistics over all its codes.
type AppStats struct {
	Total Stats          `json:"total"`
	Codes []CodeStatsRow `json:"codes"` // codes with any event in range, most scanned first
}

// AppStats returns the statistics of every code of the org's app. Total's
// UniqueUsers counts a user once across codes.
func (s *Service) AppStats(ctx context.Context, orgID int64, appID string, r StatsRange) (*AppStats, error) {
	if err := CheckAppID(appID); err != nil {
		return nil, err
	}
	scope, args := "c.org_id = ? AND c.app_id = ?", []any{orgID, appID}
	per, err := queryStats(ctx, s.db, scope, args, r)
	if err != nil {
		return nil, storeErr("qr app stats", err)
	}
	out := &AppStats{Codes: []CodeStatsRow{}}
	paid := map[string]int64{}
	for id, st := range per {
		out.Total.Scans += st.Scans
		out.Total.Launches += st.Launches
		out.Total.Payments += st.Payments
		for _, a := range st.Paid {
			paid[a.Currency] += a.Minor
		}
		if !st.FirstScanAt.IsZero() && (out.Total.FirstScanAt.IsZero() || st.FirstScanAt.Before(out.Total.FirstScanAt)) {
			out.Total.FirstScanAt = st.FirstScanAt
		}
		if st.LastScanAt.After(out.Total.LastScanAt) {
			out.Total.LastScanAt = st.LastScanAt
		}
		out.Codes = append(out.Codes, CodeStatsRow{CodeID: id, Stats: *st})
	}
	for cur, v := range paid {
		out.Total.Paid = append(out.Total.Paid, Amount{Currency: cur, Minor: v})
	}
	sortAmounts(out.Total.Paid)
	if out.Total.UniqueUsers, err = queryUnique(ctx, s.db, scope, args, r); err != nil {
		return nil, storeErr("qr app stats", err)
	}
	if out.Total.Days, err = queryDays(ctx, s.db, scope, args, r); err != nil {
		return nil, storeErr("qr app stats", err)
	}
	if err := s.fillLabels(ctx, out.Codes); err != nil {
		return nil, err
	}
	sortRows(out.Codes)
	return out, nil
}

func (s *Service) fillLabels(ctx context.Context, rows []CodeStatsRow) error {
	if len(rows) == 0 {
		return nil
	}
	idx := map[int64]int{}
	ids := make([]string, 0, len(rows))
	for i, r := range rows {
		idx[r.CodeID] = i
		ids = append(ids, strconv.FormatInt(r.CodeID, 10))
	}
	// The ids are our own integers, so inlining them is safe.
	res, err := s.db.Query(ctx, `SELECT id, slug, label FROM qr_codes WHERE id IN (`+strings.Join(ids, ",")+`)`)
	if err != nil {
		return storeErr("qr app stats", err)
	}
	defer res.Close()
	for res.Next() {
		var id int64
		var slug, label string
		if err := res.Scan(&id, &slug, &label); err != nil {
			return storeErr("qr app stats", err)
		}
		rows[idx[id]].Slug, rows[idx[id]].Label = slug, label
	}
	return storeErr("qr app stats", res.Err())
}
