package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/openmini/openmini"
)

// The REST API lives under /api/v1. It authenticates with an API key
// (Authorization: Bearer omk_...) or the console session cookie; it
// answers JSON, and errors are {"error": {"code", "message"}} with the
// stable codes of package openmini.

// api registers an API route and remembers its pattern for the OpenAPI
// check.
func (s *Server) api(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	s.apiRoutes = append(s.apiRoutes, pattern)
	mux.HandleFunc(pattern, h)
}

// APIRoutes returns the registered API route patterns ("GET /api/v1/apps").
func (s *Server) APIRoutes() []string { return append([]string(nil), s.apiRoutes...) }

// actor works out who is calling: an API key, or the session's account.
// It writes a 401 and returns false when neither is there.
func (s *Server) actor(w http.ResponseWriter, r *http.Request) (openmini.Actor, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			s.renderError(w, r, openmini.Errorf(openmini.EUNAUTHORIZED, "Authorization: use \"Bearer <API key>\""))
			return openmini.Actor{}, false
		}
		a, err := s.orgs.AuthenticateKey(r.Context(), strings.TrimSpace(token))
		if err != nil {
			s.renderError(w, r, err)
			return openmini.Actor{}, false
		}
		return a, true
	}
	if a, ok := accountFrom(r.Context()); ok {
		return openmini.Actor{AccountID: a.ID, Label: a.Email, StaffRole: a.StaffRole}, true
	}
	s.renderError(w, r, openmini.Errorf(openmini.EUNAUTHORIZED, "sign in, or send an API key as \"Authorization: Bearer omk_...\""))
	return openmini.Actor{}, false
}

// decode reads a JSON request body of at most 1 MB into v, refusing
// unknown fields, and writes a 400 naming the problem when it fails.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body := http.MaxBytesReader(w, r.Body, 1<<20)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		msg := "request body: " + err.Error()
		switch {
		case errors.Is(err, io.EOF):
			msg = "request body: expected a JSON object"
		case errors.As(err, &mbe):
			s.renderError(w, r, openmini.Errorf(openmini.ETOOLARGE, "request body: larger than 1 MB"))
			return false
		case errors.As(err, &se):
			msg = fmt.Sprintf("request body: invalid JSON at byte %d", se.Offset)
		case errors.As(err, &te):
			msg = fmt.Sprintf("request body: field %q must be %s, not %s", te.Field, te.Type, te.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			msg = "request body: unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
		}
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "%s", msg))
		return false
	}
	return true
}

// pathInt parses a numeric path value, writing a 404 when it is not one.
func (s *Server) pathInt(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "%s: %q is not an ID", name, r.PathValue(name)))
		return 0, false
	}
	return n, true
}

// actorAndID is the caller and the ID in the path value name. When either
// is missing it has answered with that one error and reports false.
func (s *Server) actorAndID(w http.ResponseWriter, r *http.Request, name string) (openmini.Actor, int64, bool) {
	actor, ok := s.actor(w, r)
	if !ok {
		return actor, 0, false
	}
	id, ok := s.pathInt(w, r, name)
	return actor, id, ok
}

// respond writes v as JSON, or err as an error response.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

// apiNotFound answers unknown /api/ paths with a JSON 404.
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "no API endpoint %s %s", r.Method, r.URL.Path))
}
