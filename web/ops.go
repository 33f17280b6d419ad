package web

import (
	"net/http"
	"time"
)

// handleHealthz answers 200 while the process is up.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": s.cfg.Version,
		"uptime_seconds": int(time.Since(s.started).Seconds())})
}

// handleReadyz answers 200 when the database and blob store answer, 503
// naming the one that does not.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if err := s.db.Ping(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "not ready: database", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "failing": "database"})
		return
	}
	if err := s.blob.Ping(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "not ready: blob store", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "failing": "blob store"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
