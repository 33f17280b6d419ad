package identity_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/blob/fsblob"
	"github.com/openmini/openmini/identity"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

func TestSignUpAndSignIn(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnvConfig(t, db, identity.Config{DefaultCallingCode: "86"})
		ctx := context.Background()

		// Bad input is named.
		for _, c := range []struct {
			su   identity.SignUp
			want string
		}{
			{identity.SignUp{Login: "", Password: "long enough pw"}, "login"},
			{identity.SignUp{Login: "not@mail", Password: "long enough pw"}, "e-mail"},
			{identity.SignUp{Login: "12ab34", Password: "long enough pw"}, "phone"},
			{identity.SignUp{Login: "erin@example.com", Password: "short"}, "password"},
			{identity.SignUp{Login: "erin@example.com", Password: "long enough pw", Name: strings.Repeat("x", 65)}, "name"},
		} {
			_, err := e.svc.StartSignUp(ctx, c.su)
			wantCode(t, err, openmini.EINVALID)
			if !strings.HasPrefix(openmini.ErrorMessage(err), c.want+":") {
				t.Errorf("%+v: message %q does not start with %q", c.su, openmini.ErrorMessage(err), c.want)
			}
		}

		// A phone sign-up with a national number gets the default code;
		// nothing exists until the code is confirmed.
		ch, err := e.svc.StartSignUp(ctx, identity.SignUp{Login: "138 0013 8000", Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if ch.SentTo != "+86*******8000" {
			t.Fatalf("SentTo = %q", ch.SentTo)
		}
		if _, err := e.svc.SignIn(ctx, "+8613800138000", "correct horse battery", ""); err == nil {
			t.Fatal("signed in before confirming the code")
		}
		code := e.lastCode("+8613800138000")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		_, err = e.svc.ConfirmSignUp(ctx, ch.ID, wrong)
		wantCode(t, err, openmini.EUNAUTHORIZED)
		if !strings.Contains(openmini.ErrorMessage(err), "4 attempts left") {
			t.Fatalf("wrong code message: %q", openmini.ErrorMessage(err))
		}
		id, err := e.svc.ConfirmSignUp(ctx, ch.ID, code)
		if err != nil {
			t.Fatal(err)
		}
		// The code is single use.
		_, err = e.svc.ConfirmSignUp(ctx, ch.ID, code)
		wantCode(t, err, openmini.EUNAUTHORIZED)

		p, err := e.svc.Profile(ctx, id)
		if err != nil || p.Phone != "+8613800138000" || !p.PhoneVerified || p.EmailVerified || p.Name != "User 8000" {
			t.Fatalf("profile %+v %v", p, err)
		}
		got, err := e.svc.SignIn(ctx, "+86 138-0013-8000", "correct horse battery", "192.0.2.1")
		if err != nil || got != id {
			t.Fatalf("SignIn = %d, %v", got, err)
		}

		// The login is taken now.
		_, err = e.svc.StartSignUp(ctx, identity.SignUp{Login: "13800138000", Password: "correct horse battery"})
		wantCode(t, err, openmini.ECONFLICT)

		// Wrong passwords and unknown logins get the same answer, then a
		// lockout with a retry time.
		_, err = e.svc.SignIn(ctx, "nobody@example.com", "correct horse battery", "")
		if err != identity.ErrBadCredentials {
			t.Fatalf("unknown login: %v", err)
		}
		for i := 0; i < 5; i++ {
			if _, err := e.svc.SignIn(ctx, "+8613800138000", "wrong password!", ""); err != identity.ErrBadCredentials {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		_, err = e.svc.SignIn(ctx, "+8613800138000", "wrong password!", "")
		wantCode(t, err, openmini.ERATELIMITED)
		_, err = e.svc.SignIn(ctx, "+8613800138000", "correct horse battery", "")
		wantCode(t, err, openmini.ERATELIMITED)
		e.clock.add(31 * time.Second)
		if _, err := e.svc.SignIn(ctx, "+8613800138000", "correct horse battery", ""); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
	})
}

func TestVerificationCodes(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		id := e.user("frank@example.com", "Frank")

		// One code a minute per destination.
		e.clock.add(time.Minute)
		ch, err := e.svc.StartCodeSignIn(ctx, "Frank@Example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.StartCodeSignIn(ctx, "frank@example.com", "")
		wantCode(t, err, openmini.ERATELIMITED)
		var rl *openmini.Error
		if errorsAs(err, &rl) && rl.RetryAfter <= 0 {
			t.Fatalf("no RetryAfter: %+v", rl)
		}

		// Five wrong codes kill the challenge, even for the right code.
		code := e.lastCode("frank@example.com")
		wrong := "123456"
		if code == wrong {
			wrong = "654321"
		}
		for i := 0; i < 5; i++ {
			_, err := e.svc.ConfirmCodeSignIn(ctx, ch.ID, wrong)
			wantCode(t, err, openmini.EUNAUTHORIZED)
		}
		if _, err := e.svc.ConfirmCodeSignIn(ctx, ch.ID, code); err != identity.ErrWrongCode {
			t.Fatalf("right code after 5 wrong ones: %v", err)
		}

		// A fresh code works, once, until it expires.
		e.clock.add(time.Minute)
		ch, err = e.svc.StartCodeSignIn(ctx, "frank@example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.ConfirmCodeSignIn(ctx, ch.ID, e.lastCode("frank@example.com"))
		if err != nil || got != id {
			t.Fatalf("code sign-in = %d, %v", got, err)
		}
		e.clock.add(time.Minute)
		ch, _ = e.svc.StartCodeSignIn(ctx, "frank@example.com", "")
		e.clock.add(10*time.Minute + time.Second)
		if _, err := e.svc.ConfirmCodeSignIn(ctx, ch.ID, e.lastCode("frank@example.com")); err != identity.ErrWrongCode {
			t.Fatalf("expired code: %v", err)
		}

		// Unknown logins get a challenge too, but no message.
		before, _ := e.svc.Mailbox(ctx, 500)
		ch, err = e.svc.StartCodeSignIn(ctx, "ghost@example.com", "")
		if err != nil || ch.ID == "" {
			t.Fatalf("unknown login: %+v %v", ch, err)
		}
		after, _ := e.svc.Mailbox(ctx, 500)
		if len(after) != len(before) {
			t.Fatal("a message was sent to a login without an account")
		}

		// Password reset: new password works, old one does not.
		e.clock.add(time.Minute)
		ch, err = e.svc.StartPasswordReset(ctx, "frank@example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.ConfirmPasswordReset(ctx, ch.ID, e.lastCode("frank@example.com"), "short")
		wantCode(t, err, openmini.EINVALID)
		if _, err := e.svc.ConfirmPasswordReset(ctx, ch.ID, e.lastCode("frank@example.com"), "a brand new password"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SignIn(ctx, "frank@example.com", "correct horse battery", ""); err != identity.ErrBadCredentials {
			t.Fatalf("old password: %v", err)
		}
		if got, err := e.svc.SignIn(ctx, "frank@example.com", "a brand new password", ""); err != nil || got != id {
			t.Fatalf("new password: %d %v", got, err)
		}
	})
}

func TestProfileAndAvatar(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		blobs, err := fsblob.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		e := newEnvConfig(t, db, identity.Config{Blobs: blobs})
		ctx := context.Background()
		id := e.user("gina@example.com", "Gina")
		if err := e.svc.SetName(ctx, id, "  Gina G.  "); err != nil {
			t.Fatal(err)
		}
		wantCode(t, e.svc.SetName(ctx, id, " "), openmini.EINVALID)
		_, err = e.svc.SetAvatar(ctx, id, strings.NewReader("plain text"))
		wantCode(t, err, openmini.EINVALID)
		_, err = e.svc.SetAvatar(ctx, id, bytes.NewReader(append(pngHeader(), make([]byte, identity.MaxAvatarBytes)...)))
		wantCode(t, err, openmini.ETOOLARGE)
		first, err := e.svc.SetAvatar(ctx, id, bytes.NewReader(pngHeader()))
		if err != nil {
			t.Fatal(err)
		}
		second, err := e.svc.SetAvatar(ctx, id, bytes.NewReader(pngHeader()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := blobs.Stat(ctx, first); err == nil {
			t.Fatal("the replaced avatar was not deleted")
		}
		p, _ := e.svc.Profile(ctx, id)
		if p.Name != "Gina G." || p.AvatarKey != second {
			t.Fatalf("profile %+v", p)
		}
		// The profile scope shows the nickname and the avatar URL.
		_, body, _ := e.exchange("shop", shopSecret, e.code(id, "shop", "profile"), true)
		_, info, _ := e.userinfo(body["access_token"].(string))
		if info["name"] != "Gina G." || info["picture"] != e.srv.URL+"/avatars/"+second {
			t.Fatalf("userinfo %v", info)
		}
	})
}

func pngHeader() []byte {
	return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
}

func TestPseudonyms(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		a, b := e.user("hana@example.com", "Hana"), e.user("ivan@example.com", "Ivan")
		id := func(acct int64, app string) string {
			s, err := e.svc.AppUserID(ctx, acct, app)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		org := func(acct, org int64) string {
			s, err := e.svc.OrgUserID(ctx, acct, org)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		seen := map[string]bool{}
		for _, s := range []string{id(a, "shop"), id(a, "menu"), id(a, "other"), id(b, "shop"), org(a, e.orgs[0]), org(a, e.orgs[1]), org(b, e.orgs[0])} {
			if seen[s] || strings.Contains(s, "hana") || len(s) < 20 {
				t.Fatalf("pseudonym %q repeated or revealing", s)
			}
			seen[s] = true
		}
		// Stable, and the same from a second service on the same database
		// (another replica).
		other, err := identity.New(db, nil, identity.Config{Issuer: "https://other.example"})
		if err != nil {
			t.Fatal(err)
		}
		again, _ := other.AppUserID(ctx, a, "shop")
		if again != id(a, "shop") || id(a, "shop") != id(a, "shop") {
			t.Fatal("app user id is not stable across replicas")
		}
	})
}

func errorsAs(err error, target **openmini.Error) bool {
	e, ok := err.(*openmini.Error)
	if ok {
		*target = e
	}
	return ok
}
