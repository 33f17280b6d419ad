package web

import (
	"net/http"
	"strings"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/identity"
)

// The host user pages are standalone documents in the host's look
// (templates/host_user.html), one template with a section per page.

// userPage is the data of every host user page.
type userPage struct {
	Page    string // which section of host_user.html to show
	Next    string // where to go after signing in
	Login   string // e-mail address or phone number as typed
	Name    string // nickname as typed
	Mailbox bool   // the development mailbox is open to this visitor

	// The code form (Page "code").
	Purpose   string // "signup", "signin" or "reset"
	Challenge string
	SentTo    string

	Profile identity.Profile
	Avatar  string // avatar URL, "" for none
	Initial string // first letter of the nickname, for a missing avatar
	Grants  []identity.AppGrants

	Messages []identity.StoredMessage

	Tabs []hostTab // the host's bottom bar ("Me" pages of a signed-in user)
}

func (s *Server) userView(r *http.Request, title string, d *userPage) *view {
	d.Mailbox = s.mailboxOpen(r)
	if d.Next == "" {
		d.Next = safeNext(r.URL.Query().Get("next"), "")
	}
	if d.Page == "me" || d.Page == "apps" {
		d.Tabs = s.bottomTabs("om-me")
	}
	return s.newView(r, title, d)
}

func (s *Server) renderUser(w http.ResponseWriter, r *http.Request, status int, v *view) {
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, "host_user", v)
}

func (s *Server) userFormError(w http.ResponseWriter, r *http.Request, v *view, err error) {
	w.Header().Set("Cache-Control", "no-store")
	s.renderFormError(w, r, "host_user", v, err)
}

// signInUser starts a session for an account that just proved who it is,
// moves the device's anonymous mini program storage into it and sends the
// browser on.
func (s *Server) signInUser(w http.ResponseWriter, r *http.Request, accountID int64, next string) {
	ctx := r.Context()
	token, err := s.acct.CreateSession(ctx, accountID)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.adoptDeviceStorage(r, accountID); err != nil {
		// The session is still good; the device's data stays where it was.
		s.log.WarnContext(ctx, "adopt device storage", "account_id", accountID, "err", err)
	}
	s.setSession(w, token)
	http.Redirect(w, r, safeNext(next, "/"), http.StatusSeeOther)
}

func (s *Server) handleUserSigninForm(w http.ResponseWriter, r *http.Request) {
	s.renderUser(w, r, http.StatusOK, s.userView(r, "Sign in", &userPage{Page: "signin"}))
}

// handleUserSignin checks a login and password.
func (s *Server) handleUserSignin(w http.ResponseWriter, r *http.Request) {
	d := &userPage{Page: "signin", Login: r.PostFormValue("login"), Next: safeNext(r.PostFormValue("next"), "")}
	id, err := s.identity.SignIn(r.Context(), d.Login, r.PostFormValue("password"), s.clientIP(r))
	if err != nil {
		s.userFormError(w, r, s.userView(r, "Sign in", d), err)
		return
	}
	s.signInUser(w, r, id, d.Next)
}

// handleUserCodeStart sends a sign-in code and shows the code form.
func (s *Server) handleUserCodeStart(w http.ResponseWriter, r *http.Request) {
	d := &userPage{Page: "signin", Login: r.PostFormValue("login"), Next: safeNext(r.PostFormValue("next"), "")}
	ch, err := s.identity.StartCodeSignIn(r.Context(), d.Login, s.clientIP(r))
	if err != nil {
		s.userFormError(w, r, s.userView(r, "Sign in", d), err)
		return
	}
	d.Page, d.Purpose, d.Challenge, d.SentTo = "code", "signin", ch.ID, ch.SentTo
	s.renderUser(w, r, http.StatusOK, s.userView(r, "Enter the code", d))
}

func (s *Server) handleUserCodeConfirm(w http.ResponseWriter, r *http.Request) {
	d := codePage(r, "signin")
	id, err := s.identity.ConfirmCodeSignIn(r.Context(), d.Challenge, r.PostFormValue("code"))
	if err != nil {
		s.userFormError(w, r, s.userView(r, "Enter the code", d), err)
		return
	}
	s.signInUser(w, r, id, d.Next)
}

// codePage is the code form posted back, for showing it again.
func codePage(r *http.Request, purpose string) *userPage {
	return &userPage{Page: "code", Purpose: purpose, Challenge: r.PostFormValue("challenge"), SentTo: r.PostFormValue("sent_to"),
		Login: r.PostFormValue("login"), Next: safeNext(r.PostFormValue("next"), "")}
}

func (s *Server) handleUserSignupForm(w http.ResponseWriter, r *http.Request) {
	s.renderUser(w, r, http.StatusOK, s.userView(r, "Create your account", &userPage{Page: "signup"}))
}

// handleUserSignup checks the sign-up and sends its verification code.
func (s *Server) handleUserSignup(w http.ResponseWriter, r *http.Request) {
	d := &userPage{Page: "signup", Login: r.PostFormValue("login"), Name: r.PostFormValue("name"), Next: safeNext(r.PostFormValue("next"), "")}
	ch, err := s.identity.StartSignUp(r.Context(), identity.SignUp{Login: d.Login, Password: r.PostFormValue("password"), Name: d.Name, IP: s.clientIP(r)})
	if err != nil {
		s.userFormError(w, r, s.userView(r, "Create your account", d), err)
		return
	}
	d.Page, d.Purpose, d.Challenge, d.SentTo = "code", "signup", ch.ID, ch.SentTo
	s.renderUser(w, r, http.StatusOK, s.userView(r, "Enter the code", d))
}

func (s *Server) handleUserSignupConfirm(w http.ResponseWriter, r *http.Request) {
	d := codePage(r, "signup")
	id, err := s.identity.ConfirmSignUp(r.Context(), d.Challenge, r.PostFormValue("code"))
	if err != nil {
		s.userFormError(w, r, s.userView(r, "Enter the code", d), err)
		return
	}
	s.log.InfoContext(r.Context(), "host user signed up", "account_id", id)
	s.signInUser(w, r, id, d.Next)
}

func (s *Server) handleUserResetForm(w http.ResponseWriter, r *http.Request) {
	s.renderUser(w, r, http.StatusOK, s.userView(r, "Reset your password", &userPage{Page: "reset"}))
}

// handleUserReset sends a reset code (to known logins only, silently).
func (s *Server) handleUserReset(w http.ResponseWriter, r *http.Request) {
	d := &userPage{Page: "reset", Login: r.PostFormValue("login"), Next: safeNext(r.PostFormValue("next"), "")}
	ch, err := s.identity.StartPasswordReset(r.Context(), d.Login, s.clientIP(r))
	if err != nil {
		s.userFormError(w, r, s.userView(r, "Reset your password", d), err)
		return
	}
	d.Page, d.Purpose, d.Challenge, d.SentTo = "code", "reset", ch.ID, ch.SentTo
	s.renderUser(w, r, http.StatusOK, s.userView(r, "Enter the code", d))
}

// handleUserResetConfirm sets the new password and signs the user in.
func (s *Server) handleUserResetConfirm(w http.ResponseWriter, r *http.Request) {
	d := codePage(r, "reset")
	id, err := s.identity.ConfirmPasswordReset(r.Context(), d.Challenge, r.PostFormValue("code"), r.PostFormValue("password"))
	if err != nil {
		s.userFormError(w, r, s.userView(r, "Enter the code", d), err)
		return
	}
	s.signInUser(w, r, id, d.Next)
}

// handleUserSignout ends the session and returns to the host's home.
func (s *Server) handleUserSignout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.acct.DeleteSession(r.Context(), c.Value); err != nil {
			s.renderError(w, r, err)
			return
		}
	}
	s.clearSession(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// handleUserProfile shows the signed-in user's profile.
func (s *Server) handleUserProfile(w http.ResponseWriter, r *http.Request) {
	s.renderProfile(w, r, http.StatusOK, nil)
}

func (s *Server) renderProfile(w http.ResponseWriter, r *http.Request, status int, formErr error) {
	a, _ := accountFrom(r.Context())
	p, err := s.identity.Profile(r.Context(), a.ID)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	d := &userPage{Page: "me", Profile: p, Name: p.Name}
	for _, c := range p.Name {
		d.Initial = string(c)
		break
	}
	if p.AvatarKey != "" {
		d.Avatar = "/" + p.AvatarKey
	}
	v := s.userView(r, "Me", d)
	switch r.URL.Query().Get("done") {
	case "name":
		v.Flash = v.T("Your nickname is saved.")
	case "avatar":
		v.Flash = v.T("Your avatar is saved.")
	}
	if formErr != nil {
		s.userFormError(w, r, v, formErr)
		return
	}
	s.renderUser(w, r, status, v)
}

func (s *Server) handleUserName(w http.ResponseWriter, r *http.Request) {
	a, _ := accountFrom(r.Context())
	if err := s.identity.SetName(r.Context(), a.ID, r.PostFormValue("name")); err != nil {
		s.renderProfile(w, r, http.StatusOK, err)
		return
	}
	http.Redirect(w, r, "/me?done=name", http.StatusSeeOther)
}

// handleUserAvatar stores an uploaded avatar (multipart field "avatar").
func (s *Server) handleUserAvatar(w http.ResponseWriter, r *http.Request) {
	a, _ := accountFrom(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, identity.MaxAvatarBytes+64<<10)
	f, _, err := r.FormFile("avatar")
	if err != nil {
		msg := "avatar: choose an image file"
		if strings.Contains(err.Error(), "too large") {
			msg = "avatar: use an image of at most 1 MB"
		}
		s.renderProfile(w, r, http.StatusOK, openmini.Errorf(openmini.EINVALID, "%s", msg))
		return
	}
	defer f.Close()
	if _, err := s.identity.SetAvatar(r.Context(), a.ID, f); err != nil {
		s.renderProfile(w, r, http.StatusOK, err)
		return
	}
	http.Redirect(w, r, "/me?done=avatar", http.StatusSeeOther)
}

// handleUserApps lists the mini programs the user authorised.
func (s *Server) handleUserApps(w http.ResponseWriter, r *http.Request) {
	a, _ := accountFrom(r.Context())
	grants, err := s.identity.ListGrants(r.Context(), a.ID)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	v := s.userView(r, "Authorised mini programs", &userPage{Page: "apps", Grants: grants})
	switch r.URL.Query().Get("done") {
	case "revoked":
		v.Flash = v.T("Access removed. The mini program must ask again.")
	}
	s.renderUser(w, r, http.StatusOK, v)
}

// handleUserRevoke withdraws one scope (form field "scope") or, without
// one, everything the app was granted.
func (s *Server) handleUserRevoke(w http.ResponseWriter, r *http.Request) {
	a, _ := accountFrom(r.Context())
	var scopes []string
	if sc := r.PostFormValue("scope"); sc != "" {
		scopes = append(scopes, sc)
	}
	if err := s.identity.Revoke(r.Context(), a.ID, r.PathValue("appID"), scopes...); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "user revoked app access", "account_id", a.ID, "app", r.PathValue("appID"), "scopes", scopes)
	http.Redirect(w, r, "/me/apps?done=revoked", http.StatusSeeOther)
}

// handleMailbox shows the development mailbox: the codes the development
// sender would have sent. Not found unless mailboxOpen.
func (s *Server) handleMailbox(w http.ResponseWriter, r *http.Request) {
	if !s.mailboxOpen(r) {
		s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "there is no development mailbox on this platform"))
		return
	}
	msgs, err := s.identity.Mailbox(r.Context(), 50)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.renderUser(w, r, http.StatusOK, s.userView(r, "Development mailbox", &userPage{Page: "mailbox", Messages: msgs}))
}
