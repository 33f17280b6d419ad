package web

import (
	"net/http"

	"github.com/openmini/openmini/app"
)

type adminReviewsData struct {
	adminBase
	Items []reviewRow
}

type reviewRow struct {
	It  app.ReviewItem
	URL string
}

// SizeText is the package's size, compressed.
func (r reviewRow) SizeText() string { return humanBytes(r.It.Size) }

// adminReviews is the review queue, oldest first.
func (s *Server) adminReviews(w http.ResponseWriter, r *http.Request) {
	items, err := s.apps.ReviewQueue(r.Context(), sessionActor(r))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	d := adminReviewsData{adminBase: adminNav(r, "reviews")}
	for _, it := range items {
		d.Items = append(d.Items, reviewRow{It: it, URL: reviewURL(it.ID)})
	}
	s.render(w, r, http.StatusOK, "admin_reviews", s.page(w, r, "Review queue", d))
}

// reviewPageData is the review page of one version.
type reviewPageData struct {
	adminBase
	ReviewDetail
	StateLabel string
	Pending    bool // still waiting for a decision
	Files      int
	Changes    []changeView
	Truncated  bool // the diff was cut to keep the page light
	Reason     string
}

// SizeText is the package's size, compressed.
func (d reviewPageData) SizeText() string { return humanBytes(d.Size) }

// UncompressedText is the package's size once unpacked.
func (d reviewPageData) UncompressedText() string { return humanBytes(d.Uncompressed) }

// changeView is one changed file with its diff lines ready to show.
type changeView struct {
	Name, Label, Note string
	Lines             []diffLine
	More              int // lines not shown
}

// diffLine is a line of a diff: Class is add, del, ctx or gap.
type diffLine struct{ Class, Text string }

var changeLabels = map[string]string{"added": "Added", "changed": "Changed", "removed": "Removed"}

// Diff limits: enough to review a mini program, light enough for a phone.
const (
	maxLinesPerFile = 800
	maxDiffLines    = 6000
)

func changeViews(fcs []app.FileChange) ([]changeView, bool) {
	out := make([]changeView, 0, len(fcs))
	budget, truncated := maxDiffLines, false
	for _, fc := range fcs {
		cv := changeView{Name: fc.Name, Label: changeLabels[fc.Change], Note: fc.Note}
		for i, l := range fc.Lines {
			if i >= maxLinesPerFile || budget == 0 {
				cv.More = len(fc.Lines) - i
				truncated = true
				break
			}
			budget--
			dl := diffLine{Class: "ctx", Text: l}
			switch {
			case l == "@@":
				dl = diffLine{Class: "gap", Text: "⋯"}
			case l[0] == '+':
				dl.Class = "add"
			case l[0] == '-':
				dl.Class = "del"
			}
			cv.Lines = append(cv.Lines, dl)
		}
		out = append(out, cv)
	}
	return out, truncated
}

func (s *Server) loadReview(r *http.Request) (*reviewPageData, error) {
	id, err := pathID(r, "versionID")
	if err != nil {
		return nil, err
	}
	det, err := s.reviewDetail(r, sessionActor(r), id)
	if err != nil {
		return nil, err
	}
	d := &reviewPageData{adminBase: adminNav(r, "reviews"), ReviewDetail: det, StateLabel: stateLabels[det.State],
		Pending: det.State == app.StateReview, Files: len(det.Version.Files)}
	d.Changes, d.Truncated = changeViews(det.Changes)
	return d, nil
}

// adminReview shows one version to a reviewer: the app, its organisation,
// the manifest's summary, sizes, a preview link and the file diff against
// the released version, with the approve and reject forms.
func (s *Server) adminReview(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadReview(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_review", s.page(w, r, "Review", d))
}

func (s *Server) adminApprove(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "versionID")
	if err == nil {
		_, err = s.apps.Approve(r.Context(), sessionActor(r), id)
	}
	if err != nil {
		s.reviewFormError(w, r, err)
		return
	}
	s.done(w, r, "/admin/reviews", "approved")
}

// adminReject sends the version back with the reason the developer sees.
func (s *Server) adminReject(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "versionID")
	if err == nil {
		_, err = s.apps.Reject(r.Context(), sessionActor(r), id, r.PostFormValue("reason"))
	}
	if err != nil {
		s.reviewFormError(w, r, err)
		return
	}
	s.done(w, r, "/admin/reviews", "rejected")
}

func (s *Server) reviewFormError(w http.ResponseWriter, r *http.Request, err error) {
	d, lerr := s.loadReview(r)
	if lerr != nil {
		s.renderError(w, r, lerr)
		return
	}
	d.Reason = r.PostFormValue("reason")
	s.renderFormError(w, r, "admin_review", s.newView(r, "Review", d), err)
}
