package web

import (
	"net/http"

	"github.com/openmini/openmini/account"
)

type setupData struct {
	Token string
	Email string
	Name  string
}

// handleSetupForm shows the first-run form that creates the operator.
func (s *Server) handleSetupForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if err := s.acct.CheckSetupToken(r.Context(), token); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "setup", s.newView(r, "Create the operator account", setupData{Token: token}))
}

// handleSetup creates the first operator admin and signs them in.
func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request) {
	d := setupData{Token: r.PostFormValue("token"), Email: r.PostFormValue("email"), Name: r.PostFormValue("name")}
	a, err := s.acct.CompleteSetup(r.Context(), d.Token, account.NewAccount{
		Email: d.Email, Name: d.Name, Password: r.PostFormValue("password"),
	})
	if err != nil {
		s.renderFormError(w, r, "setup", s.newView(r, "Create the operator account", d), err)
		return
	}
	s.log.InfoContext(r.Context(), "operator created", "account_id", a.ID, "email", a.Email)
	if !s.startSession(w, r, a) {
		return
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

type signinData struct {
	Email string
	Next  string
}

func (s *Server) handleSigninForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signin", s.newView(r, "Sign in", signinData{Next: r.URL.Query().Get("next")}))
}

// handleSignin checks the password and starts a session.
func (s *Server) handleSignin(w http.ResponseWriter, r *http.Request) {
	d := signinData{Email: r.PostFormValue("email"), Next: r.PostFormValue("next")}
	a, err := s.acct.Authenticate(r.Context(), d.Email, r.PostFormValue("password"), s.clientIP(r))
	if err != nil {
		s.renderFormError(w, r, "signin", s.newView(r, "Sign in", d), err)
		return
	}
	if !s.startSession(w, r, a) {
		return
	}
	def := "/console"
	if a.IsStaff() {
		def = "/admin"
	}
	http.Redirect(w, r, safeNext(d.Next, def), http.StatusSeeOther)
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, a account.Account) bool {
	token, err := s.acct.CreateSession(r.Context(), a.ID)
	if err != nil {
		s.renderError(w, r, err)
		return false
	}
	s.setSession(w, token)
	return true
}

func (s *Server) handleSignout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.acct.DeleteSession(r.Context(), c.Value); err != nil {
			s.renderError(w, r, err)
			return
		}
	}
	s.clearSession(w)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
