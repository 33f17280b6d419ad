package discovery

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Scene says where a launch came from, like WeChat's scene values. The SDK
// exposes it in the launch options.
type Scene string

// Scenes.
const (
	SceneQR             Scene = "qr"             // scanned a QR code
	SceneSearch         Scene = "search"         // a search result or suggestion
	SceneRecommendation Scene = "recommendation" // a recommendation
	SceneChannel        Scene = "channel"        // a channel on the home page
	SceneShare          Scene = "share"          // a link or card shared by someone
	SceneRecent         Scene = "recent"         // "my mini programs": recent
	SceneFavourite      Scene = "favourite"      // "my mini programs": favourites
	SceneLink           Scene = "link"           // a direct link
	SceneMiniProgram    Scene = "miniprogram"    // opened by another mini program
)

// Scenes lists every scene, in the order reports show them.
var Scenes = []Scene{SceneQR, SceneSearch, SceneRecommendation, SceneChannel, SceneShare,
	SceneRecent, SceneFavourite, SceneLink, SceneMiniProgram}

// Valid reports whether s is one of the Scenes.
func (s Scene) Valid() bool {
	for _, x := range Scenes {
		if s == x {
			return true
		}
	}
	return false
}

// Launch is one opening of a mini program.
type Launch struct {
	AccountID int64 // 0 for a user who is not signed in
	AppID     string
	Scene     Scene
	// At is when it happened; zero means now. Its location is the user's
	// time zone: the hour decides the time of day habits count.
	At time.Time
	// QRSlug is the short link of the QR code scanned (optional, at most
	// 128 characters); it ties the launch to scan-to-payment conversion.
	QRSlug string
	// SourceAppID is the mini program that opened or shared this one
	// (optional).
	SourceAppID string
}

// maxSkew is how far in the future an event's time may be (client clocks).
const maxSkew = 5 * time.Minute

// dayPart names the part of the day local hour h falls in.
func dayPart(h int) string {
	switch {
	case h >= 5 && h < 11:
		return "morning"
	case h >= 11 && h < 17:
		return "afternoon"
	case h >= 17 && h < 22:
		return "evening"
	default:
		return "night"
	}
}

// RecordLaunch stores a launch and returns its id (for RecordSession). For
// a signed-in user it also updates "recent", habits and the app's launch
// count, in the same transaction. Errors: invalid (unknown scene, bad
// field), not_found (no such app or account).
func (s *Service) RecordLaunch(ctx context.Context, l Launch) (int64, error) {
	if err := checkAppID("app_id", l.AppID); err != nil {
		return 0, err
	}
	if !l.Scene.Valid() {
		return 0, invalid("scene: %.40q is not one of qr, search, recommendation, channel, share, recent, favourite, link, miniprogram", string(l.Scene))
	}
	if l.AccountID < 0 {
		return 0, invalid("account_id: negative")
	}
	if len(l.QRSlug) > 128 || !utf8.ValidString(l.QRSlug) {
		return 0, invalid("qr_slug: longer than 128 bytes or not UTF-8")
	}
	if l.SourceAppID != "" {
		if err := checkAppID("source_app_id", l.SourceAppID); err != nil {
			return 0, err
		}
	}
	now := s.now()
	if l.At.IsZero() {
		l.At = now
	}
	if l.At.After(now.Add(maxSkew)) {
		return 0, invalid("at: %s is in the future", l.At.Format(time.RFC3339))
	}
	var id int64
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		newUser := int64(0)
		if l.AccountID > 0 {
			var parts [4]int64
			switch dayPart(l.At.Hour()) {
			case "morning":
				parts[0] = 1
			case "afternoon":
				parts[1] = 1
			case "evening":
				parts[2] = 1
			default:
				parts[3] = 1
			}
			at := ms(l.At)
			var n int64
			err := tx.QueryRow(ctx, `INSERT INTO discovery_user_apps
				(account_id, app_id, first_at, last_at, launches, morning, afternoon, evening, night, in_recent)
				VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, 1)
				ON CONFLICT (account_id, app_id) DO UPDATE SET
					first_at = CASE WHEN excluded.first_at < discovery_user_apps.first_at THEN excluded.first_at ELSE discovery_user_apps.first_at END,
					last_at = CASE WHEN excluded.last_at > discovery_user_apps.last_at THEN excluded.last_at ELSE discovery_user_apps.last_at END,
					launches = discovery_user_apps.launches + 1,
					morning = discovery_user_apps.morning + excluded.morning,
					afternoon = discovery_user_apps.afternoon + excluded.afternoon,
					evening = discovery_user_apps.evening + excluded.evening,
					night = discovery_user_apps.night + excluded.night,
					in_recent = 1
				RETURNING launches`, l.AccountID, l.AppID, at, at, parts[0], parts[1], parts[2], parts[3]).Scan(&n)
			if err != nil {
				return err
			}
			if n == 1 {
				newUser = 1
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO discovery_launches (app_id, account_id, scene, qr_slug, source_app_id, new_user, at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			l.AppID, nullAccount(l.AccountID), string(l.Scene), l.QRSlug, l.SourceAppID, newUser, ms(l.At)).Scan(&id)
		if err != nil {
			return err
		}
		var docID, launches, tier, indexed int64
		err = tx.QueryRow(ctx, `UPDATE discovery_apps SET launches = launches + 1 WHERE app_id = ?
			RETURNING id, launches, search_tier, CASE WHEN listed = 1 AND removed = 0 THEN 1 ELSE 0 END`, l.AppID).
			Scan(&docID, &launches, &tier, &indexed)
		if isNotFound(err) || (err == nil && (indexed == 0 || tierOf(launches) == tier)) {
			return nil // not in discovery, or still in its popularity tier
		}
		if err != nil {
			return err
		}
		r, err := loadDoc(ctx, tx, l.AppID)
		if err != nil {
			return err
		}
		return s.retier(ctx, tx, []*docRow{r})
	})
	if errors.Is(err, sqldb.ErrForeignKey) {
		return 0, notFound("launch: app %s or account %d does not exist", l.AppID, l.AccountID)
	}
	if err != nil {
		return 0, fmt.Errorf("record launch of %s: %w", l.AppID, err)
	}
	return id, nil
}

// Session is time a launched mini program spent in the foreground, from
// the host's lifecycle events (each show to hide interval, or one total).
type Session struct {
	LaunchID   int64
	AccountID  int64 // must be the launch's account (0 for anonymous)
	Foreground time.Duration
}

// maxSession caps the foreground time one launch can add up to.
const maxSession = 24 * time.Hour

// RecordSession adds foreground time to a launch; reports of one launch
// add up (to at most 24 hours). Errors: invalid (duration not positive or
// over 24 hours), not_found (no such launch for this account).
func (s *Service) RecordSession(ctx context.Context, sess Session) error {
	if sess.Foreground <= 0 || sess.Foreground > maxSession {
		return invalid("foreground: %s is not between 0 and 24h", sess.Foreground)
	}
	d := sess.Foreground.Milliseconds()
	res, err := s.db.Exec(ctx, `UPDATE discovery_launches
		SET foreground_ms = CASE WHEN foreground_ms + ? > ? THEN ? ELSE foreground_ms + ? END
		WHERE id = ? AND (account_id = ? OR (account_id IS NULL AND ? = 0))`,
		d, maxSession.Milliseconds(), maxSession.Milliseconds(), d, sess.LaunchID, sess.AccountID, sess.AccountID)
	if err != nil {
		return fmt.Errorf("record session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("launch %d not found for this user", sess.LaunchID)
	}
	return nil
}

// Scan is a QR code scan that resolved to an app.
type Scan struct {
	AppID     string
	QRSlug    string // required, at most 128 bytes
	AccountID int64  // 0 when the scanner is not signed in
	At        time.Time
}

// RecordScan stores a scan (the QR service calls it when a code resolves).
// Errors: invalid, not_found (no such app or account).
func (s *Service) RecordScan(ctx context.Context, sc Scan) error {
	return s.RecordScanTx(ctx, s.db, sc)
}

// RecordScanTx is RecordScan through q, which may be the caller's
// transaction (an importer that moves its cursor in the same transaction,
// so no scan is counted twice). Like RecordPaymentTx it checks references
// with SELECTs first, so a bad argument never aborts the caller's
// transaction.
func (s *Service) RecordScanTx(ctx context.Context, q sqldb.Querier, sc Scan) error {
	if err := checkAppID("app_id", sc.AppID); err != nil {
		return err
	}
	if sc.QRSlug == "" || len(sc.QRSlug) > 128 || !utf8.ValidString(sc.QRSlug) {
		return invalid("qr_slug: missing, longer than 128 bytes or not UTF-8")
	}
	if sc.AccountID < 0 {
		return invalid("account_id: negative")
	}
	if sc.At.IsZero() {
		sc.At = s.now()
	}
	var one int
	if err := q.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = ?`, sc.AppID).Scan(&one); err != nil {
		if isNotFound(err) {
			return notFound("scan: app %s does not exist", sc.AppID)
		}
		return fmt.Errorf("record scan: %w", err)
	}
	if sc.AccountID > 0 {
		if err := q.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = ?`, sc.AccountID).Scan(&one); err != nil {
			if isNotFound(err) {
				return notFound("scan: account %d does not exist", sc.AccountID)
			}
			return fmt.Errorf("record scan: %w", err)
		}
	}
	_, err := q.Exec(ctx, `INSERT INTO discovery_scans (app_id, qr_slug, account_id, at) VALUES (?, ?, ?, ?)`,
		sc.AppID, sc.QRSlug, nullAccount(sc.AccountID), ms(sc.At))
	if errors.Is(err, sqldb.ErrForeignKey) {
		return notFound("scan: app %s or account %d does not exist", sc.AppID, sc.AccountID)
	}
	if err != nil {
		return fmt.Errorf("record scan: %w", err)
	}
	return nil
}

// Payment is a completed payment in a mini program, as discovery sees it:
// for recommendations (spending categories and merchants) and analytics.
type Payment struct {
	// Ref is the payment's id in the payments engine; when set, recording
	// the same Ref again does nothing, so retries never count twice.
	Ref              string
	AccountID        int64 // the payer; 0 if unknown
	AppID            string
	MerchantCategory string // in the vocabulary of app categories
	Amount           int64  // minor units, positive
	Currency         string // ISO 4217; "" is the platform currency
	At               time.Time
}

// RecordPayment stores a payment with no reference (see RecordPaymentTx
// for idempotent recording inside the payment's own transaction).
func (s *Service) RecordPayment(ctx context.Context, accountID int64, appID, merchantCategory string, amount int64, at time.Time) error {
	return s.RecordPaymentTx(ctx, s.db, Payment{AccountID: accountID, AppID: appID,
		MerchantCategory: merchantCategory, Amount: amount, At: at})
}

// RecordPaymentTx stores a payment through q, which may be the payments
// engine's transaction, so the payment and its record commit together.
// It checks references before writing, so a bad argument never aborts the
// caller's transaction. Errors: invalid, not_found (no such app or account).
func (s *Service) RecordPaymentTx(ctx context.Context, q sqldb.Querier, p Payment) error {
	if err := checkAppID("app_id", p.AppID); err != nil {
		return err
	}
	if p.Amount <= 0 {
		return invalid("amount: %d is not positive", p.Amount)
	}
	if p.AccountID < 0 {
		return invalid("account_id: negative")
	}
	if utf8.RuneCountInString(p.MerchantCategory) > maxCategory || !utf8.ValidString(p.MerchantCategory) {
		return invalid("merchant_category: longer than %d characters or not UTF-8", maxCategory)
	}
	if len(p.Ref) > 128 {
		return invalid("ref: longer than 128 bytes")
	}
	if p.Currency != "" && !isCurrency(p.Currency) {
		return invalid("currency: %.10q is not an ISO 4217 code", p.Currency)
	}
	if p.At.IsZero() {
		p.At = s.now()
	}
	var one int
	if err := q.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = ?`, p.AppID).Scan(&one); err != nil {
		if isNotFound(err) {
			return notFound("payment: app %s does not exist", p.AppID)
		}
		return fmt.Errorf("record payment: %w", err)
	}
	if p.AccountID > 0 {
		if err := q.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = ?`, p.AccountID).Scan(&one); err != nil {
			if isNotFound(err) {
				return notFound("payment: account %d does not exist", p.AccountID)
			}
			return fmt.Errorf("record payment: %w", err)
		}
	}
	var ref any
	if p.Ref != "" {
		ref = p.Ref
	}
	_, err := q.Exec(ctx, `INSERT INTO discovery_payments (ref, account_id, app_id, merchant_category, amount, currency, at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ref) DO NOTHING`,
		ref, nullAccount(p.AccountID), p.AppID, p.MerchantCategory, p.Amount, p.Currency, ms(p.At))
	if err != nil {
		return fmt.Errorf("record payment: %w", err)
	}
	return nil
}

func isCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// needAccount validates a signed-in account argument.
func needAccount(id int64) error {
	if id <= 0 {
		return openmini.Errorf(openmini.EINVALID, "account_id: a signed-in account is required")
	}
	return nil
}
