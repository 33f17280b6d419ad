package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
)

// Routes registers the OAuth 2.0 / OpenID Connect endpoints on mux:
//
//	GET  /.well-known/openid-configuration   discovery
//	GET  /oauth/jwks                         public signing keys
//	POST /oauth/token                        authorization_code grant
//	GET  /oauth/userinfo, POST /oauth/userinfo
//
// clientIP (may be nil: the connection's address) tells the token
// endpoint's lockout who is asking, for servers behind a proxy.
func (s *Service) Routes(mux *http.ServeMux, clientIP func(*http.Request) string) {
	if clientIP == nil {
		clientIP = remoteIP
	}
	h := &handlers{s: s, ip: clientIP}
	mux.HandleFunc("GET /.well-known/openid-configuration", h.discovery)
	mux.HandleFunc("GET /oauth/jwks", h.jwks)
	mux.HandleFunc("POST /oauth/token", h.token)
	mux.HandleFunc("GET /oauth/userinfo", h.userinfo)
	mux.HandleFunc("POST /oauth/userinfo", h.userinfo)
}

// Handler returns a handler serving exactly the endpoints of Routes.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Routes(mux, nil)
	return mux
}

type handlers struct {
	s  *Service
	ip func(*http.Request) string
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Discovery is the OpenID Provider metadata document.
type Discovery struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
}

// Discovery returns the discovery document. There is no browser
// authorization endpoint: codes come from openmini.getAuthCode() in the
// host.
func (s *Service) Discovery() Discovery {
	iss := s.cfg.Issuer
	return Discovery{
		Issuer:                            iss,
		TokenEndpoint:                     iss + "/oauth/token",
		UserinfoEndpoint:                  iss + "/oauth/userinfo",
		JWKSURI:                           iss + "/oauth/jwks",
		ScopesSupported:                   authScopes,
		ResponseTypesSupported:            []string{"code"},
		GrantTypesSupported:               []string{"authorization_code"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{string(sigAlg)},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
		ClaimsSupported: []string{"iss", "sub", "aud", "azp", "exp", "iat", "nonce", "org_user_id", "name", "nickname", "picture",
			"email", "email_verified", "phone_number", "phone_number_verified"},
	}
}

func (h *handlers) discovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, h.s.Discovery())
}

func (h *handlers) jwks(w http.ResponseWriter, r *http.Request) {
	set, err := h.s.JWKS(r.Context())
	if err != nil {
		h.s.log.ErrorContext(r.Context(), "identity: jwks", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, oauthError{Error: "temporarily_unavailable", Description: "keys unavailable"})
		return
	}
	// Verifiers must refetch before a newly published key starts signing.
	age := min(h.s.cfg.KeyPublishAhead/2, time.Hour)
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(age/time.Second)))
	writeJSON(w, http.StatusOK, set)
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// token is the token endpoint (RFC 6749 section 4.1.3, OIDC Core 3.1.3).
func (h *handlers) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "send an application/x-www-form-urlencoded body of at most 64 KB"})
		return
	}
	form := r.PostForm
	for _, k := range []string{"grant_type", "code", "client_id", "client_secret"} {
		if len(form[k]) > 1 {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", k + " is repeated"})
			return
		}
	}
	if gt := form.Get("grant_type"); gt != "authorization_code" {
		if gt == "" {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "grant_type is missing"})
		} else {
			writeJSON(w, http.StatusBadRequest, oauthError{"unsupported_grant_type", "only authorization_code is supported"})
		}
		return
	}
	clientID, secret, basic := r.BasicAuth()
	if basic {
		if form.Get("client_secret") != "" {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "use one client authentication method, not both"})
			return
		}
		var err1, err2 error
		clientID, err1 = url.QueryUnescape(clientID)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "malformed Basic credentials"})
			return
		}
		if id := form.Get("client_id"); id != "" && id != clientID {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "client_id differs from the Basic credentials"})
			return
		}
	} else {
		clientID, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if clientID == "" || secret == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="openmini"`)
		writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_client", "authenticate with the app id and secret (client_secret_basic or client_secret_post)"})
		return
	}
	code := form.Get("code")
	if code == "" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "code is missing"})
		return
	}
	tokens, err := h.s.ExchangeCode(r.Context(), clientID, secret, code, h.ip(r))
	if err != nil {
		h.tokenError(w, r, err, basic)
		return
	}
	writeJSON(w, http.StatusOK, tokens)
}

func (h *handlers) tokenError(w http.ResponseWriter, r *http.Request, err error, basic bool) {
	var oe *openmini.Error
	if !errors.As(err, &oe) {
		h.s.log.ErrorContext(r.Context(), "identity: token endpoint", "err", err)
		writeJSON(w, http.StatusInternalServerError, oauthError{"server_error", "internal error"})
		return
	}
	switch oe.Code {
	case openmini.EUNAUTHORIZED:
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="openmini"`)
		}
		writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_client", oe.Message})
	case openmini.ERATELIMITED:
		w.Header().Set("Retry-After", strconv.Itoa(max(oe.RetryAfter, 1)))
		writeJSON(w, http.StatusTooManyRequests, oauthError{"temporarily_unavailable", oe.Message})
	case openmini.EINVALID, openmini.EFORBIDDEN, openmini.ENOTFOUND:
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", oe.Message})
	case openmini.EUNAVAILABLE:
		h.s.log.ErrorContext(r.Context(), "identity: token endpoint", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, oauthError{"temporarily_unavailable", oe.Message})
	default:
		h.s.log.ErrorContext(r.Context(), "identity: token endpoint", "err", err)
		writeJSON(w, http.StatusInternalServerError, oauthError{"server_error", "internal error"})
	}
}

// userinfo is the UserInfo endpoint (OIDC Core 5.3), bearer token in the
// Authorization header or, for POST, the access_token form field.
func (h *handlers) userinfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	token := ""
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, rest, _ := strings.Cut(a, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			bearerError(w, http.StatusBadRequest, "invalid_request", "use the Bearer scheme")
			return
		}
		token = strings.TrimSpace(rest)
	} else if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err == nil {
			token = r.PostForm.Get("access_token")
		}
	}
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="openmini"`)
		writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_request", "send the access token as a Bearer token"})
		return
	}
	claims, err := h.s.UserInfo(r.Context(), token)
	if err != nil {
		if openmini.ErrorCode(err) == openmini.EUNAUTHORIZED {
			bearerError(w, http.StatusUnauthorized, "invalid_token", openmini.ErrorMessage(err))
			return
		}
		h.s.log.ErrorContext(r.Context(), "identity: userinfo", "err", err)
		writeJSON(w, http.StatusInternalServerError, oauthError{"server_error", "internal error"})
		return
	}
	writeJSON(w, http.StatusOK, claims)
}

func bearerError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="openmini", error=%q, error_description=%q`, code, desc))
	writeJSON(w, status, oauthError{code, desc})
}
