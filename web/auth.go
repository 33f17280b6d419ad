package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
)

const sessionCookie = "om_session"

type accountKey struct{}

// accountFrom returns the signed-in account of a request, if any.
func accountFrom(ctx context.Context) (account.Account, bool) {
	a, ok := ctx.Value(accountKey{}).(account.Account)
	return a, ok
}

func withAccount(ctx context.Context, a account.Account) context.Context {
	return context.WithValue(ctx, accountKey{}, a)
}

// authenticate puts the session's account (if the cookie names a live
// session) into the request context. It never refuses a request; handlers
// that need an account use requireAccount.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			a, err := s.acct.SessionAccount(r.Context(), c.Value)
			switch {
			case err == nil:
				r = r.WithContext(withAccount(r.Context(), a))
			case errors.Is(err, account.ErrNoSession):
				s.clearSession(w)
			default:
				s.renderError(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) secureCookies() bool { return s.public.Scheme == "https" }

func (s *Server) setSession(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode,
		MaxAge: int(s.acct.SessionTTL.Seconds()),
	})
}

func (s *Server) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// requireAccount sends anonymous browsers to the sign-in page (API clients
// get 401) and otherwise runs h.
func (s *Server) requireAccount(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := accountFrom(r.Context()); !ok {
			if wantsJSON(r) || r.Method != http.MethodGet {
				s.renderError(w, r, account.ErrNoSession)
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r)
	}
}

// requireStaff is requireAccount for operator staff; roles lists the staff
// roles allowed (none = any staff role).
func (s *Server) requireStaff(h http.HandlerFunc, roles ...string) http.HandlerFunc {
	return s.requireAccount(func(w http.ResponseWriter, r *http.Request) {
		a, _ := accountFrom(r.Context())
		ok := a.IsStaff()
		if ok && len(roles) > 0 {
			ok = false
			for _, role := range roles {
				ok = ok || a.StaffRole == role
			}
		}
		if !ok {
			s.renderError(w, r, openmini.Errorf(openmini.EFORBIDDEN, "this page is for the operator's staff"))
			return
		}
		h(w, r)
	})
}

// safeNext returns a local redirect target from a ?next= value, or def.
func safeNext(next, def string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return def
	}
	return next
}

// sessionActor is the signed-in account as an Actor (for console pages,
// behind requireAccount).
func sessionActor(r *http.Request) openmini.Actor {
	a, _ := accountFrom(r.Context())
	return openmini.Actor{AccountID: a.ID, Label: a.Email, StaffRole: a.StaffRole}
}
