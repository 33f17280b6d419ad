package web

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/miniapp"
)

// loadVersions fills the versions tab: every version, newest first, with
// what the viewer may do with it.
func (s *Server) loadVersions(r *http.Request, d *appData) error {
	ctx := r.Context()
	actor := sessionActor(r)
	vs, err := s.apps.Versions(ctx, actor, d.App.ID)
	if err != nil {
		return err
	}
	var rel *app.Release
	if rr, err := s.apps.Release(ctx, actor, d.App.ID); err == nil {
		rel = &rr
	}
	for _, v := range vs {
		vv := versionView{V: v, StateLabel: stateLabels[v.State]}
		vv.Serving = rel != nil && (v.ID == rel.VersionID || v.ID == rel.PreviousID)
		vv.CanSubmit = d.CanEdit && (v.State == app.StateDevelopment || v.State == app.StateRejected)
		vv.CanTrial = d.CanEdit && v.State != app.StateRejected && !v.Trial
		d.Versions = append(d.Versions, vv)
	}
	return nil
}

func (s *Server) consoleVersions(w http.ResponseWriter, r *http.Request) { s.showApp(w, r, "versions") }

// consoleUpload takes a package from the browser (multipart/form-data:
// the file in "package", optional "version" and "note") and stores it as
// a development version. A refused package re-renders the page listing
// every problem; an accepted one with warnings shows them.
func (s *Server) consoleUpload(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	up, err := s.readUpload(w, r)
	if err == nil {
		var v app.Version
		v, err = s.apps.Upload(r.Context(), sessionActor(r), appID, up)
		if err == nil && len(v.Warnings) > 0 {
			d, lerr := s.loadApp(r, appID, "versions")
			if lerr != nil {
				s.renderError(w, r, lerr)
				return
			}
			d.Warnings = v.Warnings
			vw := s.newView(r, d.App.Name, d)
			vw.Flash = vw.T(flashes["uploaded"])
			s.render(w, r, http.StatusCreated, "console_versions", vw)
			return
		}
	}
	if err != nil {
		s.appFormError(w, r, "versions", err, func(d *appData) {
			d.Problems = miniapp.Problems(err)
			d.UploadVersion, d.UploadNote = up.Version, up.Note
		})
		return
	}
	s.done(w, r, appURL(appID, "versions"), "uploaded")
}

// readUpload reads the upload form, holding the package to the operator's
// size limit so an oversized file is refused without being kept.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) (app.Upload, error) {
	var up app.Upload
	pol, err := s.policy.Get(r.Context())
	if err != nil {
		return up, err
	}
	max := pol.Limits.MaxPackageBytes
	r.Body = http.MaxBytesReader(w, r.Body, max+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return up, openmini.Errorf(openmini.EINVALID, "package: send the upload form as multipart/form-data")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return up, uploadReadError(err, max)
		}
		switch part.FormName() {
		case "package":
			up.Package, err = io.ReadAll(io.LimitReader(part, max+1))
			if err == nil && int64(len(up.Package)) > max {
				err = openmini.Errorf(openmini.ETOOLARGE, "package: larger than the operator's limit of %s", humanBytes(max))
			}
		case "version":
			up.Version, err = smallField(part)
		case "note":
			up.Note, err = smallField(part)
		}
		part.Close()
		if err != nil {
			return up, uploadReadError(err, max)
		}
	}
	if len(up.Package) == 0 {
		return up, openmini.Errorf(openmini.EINVALID, "package: choose a package file (.ma or .zip) to upload")
	}
	return up, nil
}

// smallField reads a text field of the upload form (at most 4 KB).
func smallField(p *multipart.Part) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, 4<<10+1))
	if err != nil {
		return "", err
	}
	if len(b) > 4<<10 {
		return "", openmini.Errorf(openmini.EINVALID, "%s: at most 4 KB", p.FormName())
	}
	return string(b), nil
}

func uploadReadError(err error, max int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return openmini.Errorf(openmini.ETOOLARGE, "package: larger than the operator's limit of %s", humanBytes(max))
	}
	if openmini.ErrorCode(err) != openmini.EINTERNAL {
		return err
	}
	return openmini.Errorf(openmini.EINVALID, "package: the upload was cut off: %v", err)
}

// consoleSubmit sends a version to review.
func (s *Server) consoleSubmit(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	if _, err := s.apps.Submit(r.Context(), sessionActor(r), appID, r.PathValue("version")); err != nil {
		s.appFormError(w, r, "versions", err, nil)
		return
	}
	s.done(w, r, appURL(appID, "versions"), "submitted")
}

func (s *Server) consoleTesters(w http.ResponseWriter, r *http.Request) { s.showApp(w, r, "testers") }

// consoleTesterAdd lets the account with the e-mail open the trial.
func (s *Server) consoleTesterAdd(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	email := r.PostFormValue("email")
	if _, err := s.apps.AddTester(r.Context(), sessionActor(r), appID, email); err != nil {
		s.appFormError(w, r, "testers", err, func(d *appData) { d.TesterEmail = email })
		return
	}
	s.done(w, r, appURL(appID, "testers"), "tester-added")
}

func (s *Server) consoleTesterRemove(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	id, err := pathID(r, "accountID")
	if err == nil {
		err = s.apps.RemoveTester(r.Context(), sessionActor(r), appID, id)
	}
	if err != nil {
		s.appFormError(w, r, "testers", err, nil)
		return
	}
	s.done(w, r, appURL(appID, "testers"), "tester-removed")
}

func (s *Server) consoleAppAudit(w http.ResponseWriter, r *http.Request) { s.showApp(w, r, "audit") }
