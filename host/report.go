package host

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

// ReportReasons are the reasons a user can give when reporting a mini
// program from its capsule menu.
var ReportReasons = []string{"fraud", "content", "broken", "other"}

// Report limits: each device (or account) may file ReportsPerHour reports
// an hour, across all mini programs.
const (
	ReportsPerHour = 5
	MaxReportNote  = 500
)

// Report is a user's complaint about a mini program.
type Report struct {
	AppID   string `json:"app"`
	Reason  string `json:"reason"`            // one of ReportReasons
	Note    string `json:"note,omitempty"`    // the user's own words, at most 500 characters
	Page    string `json:"page,omitempty"`    // the page on screen
	Version string `json:"version,omitempty"` // the version on screen
}

// Reports files users' reports in the audit log, where the operator's
// staff (and the app's organisation) read them.
type Reports struct {
	db     *sqldb.DB
	apps   *app.Service
	limits *ratelimit.Limiter
}

// NewReports returns the report service.
func NewReports(db *sqldb.DB, apps *app.Service, limits *ratelimit.Limiter) *Reports {
	return &Reports{db: db, apps: apps, limits: limits}
}

// Submit records r as an "app.report" audit entry of the app. The
// reporter is not recorded (the app's organisation reads its audit log,
// and must not learn who complained); owner only counts against the rate
// limit. Errors: invalid for an
// unknown reason or an overlong note, not_found for an unknown app,
// rate_limited past ReportsPerHour for this owner.
func (s *Reports) Submit(ctx context.Context, owner Owner, r Report) error {
	if !validReason(r.Reason) {
		return openmini.Errorf(openmini.EINVALID, "report: reason must be one of %s", strings.Join(ReportReasons, ", "))
	}
	r.Note = strings.TrimSpace(r.Note)
	if !utf8.ValidString(r.Note) || utf8.RuneCountInString(r.Note) > MaxReportNote {
		return openmini.Errorf(openmini.EINVALID, "report: the note is longer than %d characters", MaxReportNote)
	}
	if len(r.Page) > 200 || len(r.Version) > 40 {
		return openmini.Errorf(openmini.EINVALID, "report: page or version is too long")
	}
	if !app.ValidID(r.AppID) {
		return openmini.Errorf(openmini.ENOTFOUND, "report: there is no mini program %q", r.AppID)
	}
	a, err := s.apps.Get(ctx, r.AppID)
	if err != nil {
		return err
	}
	if err := s.limits.Hit(ctx, "host.report:"+string(owner), ReportsPerHour, time.Hour); err != nil {
		return err
	}
	detail := map[string]string{"reason": r.Reason}
	if r.Note != "" {
		detail["note"] = r.Note
	}
	if r.Page != "" {
		detail["page"] = r.Page
	}
	if r.Version != "" {
		detail["version"] = r.Version
	}
	return audit.Record(ctx, s.db, openmini.Actor{Label: "user report"}, a.OrgID, a.ID, "app.report", detail)
}

func validReason(r string) bool {
	for _, x := range ReportReasons {
		if r == x {
			return true
		}
	}
	return false
}
