package web

import (
	"net/http"

	"github.com/openmini/openmini"
)

// serveAppOrigin serves requests to {appID}.{apps domain}: the files of a
// mini program's versions, under that app's own origin.
func (s *Server) serveAppOrigin(w http.ResponseWriter, r *http.Request, appID string) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors "+s.HostOrigin())
	if r.URL.Path == "/healthz" {
		s.handleHealthz(w, r)
		return
	}
	s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "no such file in mini program %s", appID))
}
