package platform

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"regexp"

	"github.com/openmini/openmini/identity"
)

// seedDemoIdentity adds the demo's host users: one signed up by phone
// through the real sign-up flow (its code read back from the development
// mailbox, as a newcomer would), and an avatar for the demo user, so the
// profile scope has a picture to hand out.
func (p *Platform) seedDemoIdentity(ctx context.Context, w *demoWorld) error {
	pw := demoPassword()
	const phone = "+8613800138000"
	ch, err := p.Identity.StartSignUp(ctx, identity.SignUp{Login: phone, Password: pw, Name: "Wei 伟"})
	if err != nil {
		return fmt.Errorf("phone user: %w", err)
	}
	code, err := p.demoMailboxCode(ctx, phone)
	if err != nil {
		return err
	}
	if _, err := p.Identity.ConfirmSignUp(ctx, ch.ID, code); err != nil {
		return fmt.Errorf("phone user: %w", err)
	}
	if len(w.users) > 0 {
		var buf bytes.Buffer
		if err := png.Encode(&buf, demoAvatar(color.RGBA{230, 120, 160, 255})); err != nil {
			return err
		}
		if _, err := p.Identity.SetAvatar(ctx, w.users[0].ID, &buf); err != nil {
			return fmt.Errorf("demo avatar: %w", err)
		}
	}
	w.lines = append(w.lines,
		fmt.Sprintf("  phone user %-36s %s   (%s/me/signin)", phone, pw, p.URL),
		fmt.Sprintf("Verification codes (sign-up, sign-in by code, password reset): %s/dev/mailbox", p.URL),
	)
	return nil
}

var demoCodeRE = regexp.MustCompile(`\b(\d{6})\b`)

// demoMailboxCode reads the newest code the development sender kept for to.
func (p *Platform) demoMailboxCode(ctx context.Context, to string) (string, error) {
	msgs, err := p.Identity.Mailbox(ctx, 20)
	if err != nil {
		return "", err
	}
	for _, m := range msgs {
		if c := demoCodeRE.FindString(m.Body); m.To == to && c != "" {
			return c, nil
		}
	}
	return "", fmt.Errorf("demo: no code for %s in the development mailbox", to)
}

// demoAvatar draws a 96×96 avatar: a disc of c with a lighter face.
func demoAvatar(c color.RGBA) image.Image {
	const n = 96
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			dx, dy := x-n/2, y-n/2
			switch {
			case dx*dx+(dy+8)*(dy+8) < 18*18:
				img.SetRGBA(x, y, color.RGBA{255, 240, 230, 255})
			case dx*dx+(dy-40)*(dy-40) < 38*38:
				img.SetRGBA(x, y, color.RGBA{255, 240, 230, 255})
			default:
				img.SetRGBA(x, y, c)
			}
		}
	}
	return img
}
