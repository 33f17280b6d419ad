package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/qr"
)

// The public directory feed for third-party mini program stores:
// GET /api/v1/directory pages through every published mini program (name,
// icon, description, category, launch link, QR image, times), oldest
// change first, with a strong ETag (If-None-Match answers 304) and
// ?updated_since= for changes only, removals included. It lives under the
// REST API (documented in the OpenAPI document like every route) but needs
// no credentials, and any web page may read it (CORS).
//
// GET /api/v1/directory/{appID}/qr.png is the QR code of a listed app's
// launch link, the feed's qr_image_url.

// routesDirectory: the feed and its QR images.
func (s *Server) routesDirectory(mux *http.ServeMux) {
	s.api(mux, "GET /api/v1/directory", s.apiDirectory)
	if s.qr != nil {
		s.api(mux, "GET /api/v1/directory/{appID}/qr.png", s.apiDirectoryQR)
	}
}

// feedRequest reads ?cursor=, ?limit= and ?updated_since= (RFC 3339).
func feedRequest(r *http.Request) (discovery.FeedRequest, error) {
	q := r.URL.Query()
	req := discovery.FeedRequest{Cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return req, openmini.Errorf(openmini.EINVALID, "limit: %q is not a number from 1 to 500", v)
		}
		req.Limit = n
	}
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return req, openmini.Errorf(openmini.EINVALID, "updated_since: %q is not an RFC 3339 time like 2025-01-31T09:00:00Z", v)
		}
		req.UpdatedSince = t
	}
	return req, nil
}

// apiDirectory is GET /api/v1/directory.
func (s *Server) apiDirectory(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	req, err := feedRequest(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	body, etag, err := s.discovery.FeedJSON(r.Context(), req)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, no-cache")
	h.Set("Access-Control-Expose-Headers", "ETag")
	if discovery.ETagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(body)
}

// apiDirectoryQR is GET /api/v1/directory/{appID}/qr.png: the code of the
// app's launch link (scene qr), for apps the directory lists.
func (s *Server) apiDirectoryQR(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	st, err := s.discovery.Status(r.Context(), appID)
	if err != nil || !st.Listed || st.Removed {
		s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "the directory lists no mini program %q", appID))
		return
	}
	size := 0
	if v := r.URL.Query().Get("size"); v != "" {
		if size, err = strconv.Atoi(v); err != nil {
			s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "size: %q is not a number of pixels", v))
			return
		}
	}
	link := strings.TrimRight(s.cfg.PublicURL, "/") + launchLink(qr.Target{Kind: qr.KindPage, AppID: st.AppID}, "qr", "")
	b, err := s.qr.Renderer().Render(r.Context(), link, qr.RenderOptions{Format: qr.FormatPNG, Size: size})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeImage(w, r, qr.FormatPNG, b, "public, max-age=86400")
}
