package platform

import (
	"fmt"

	"github.com/openmini/openmini/identity"
)

// openIdentity builds the identity service (host users, consent, the
// OpenID Connect provider, launch data) and schedules its jobs. Its
// issuer is the platform's public URL; app secrets are checked by the app
// service; verification codes go to the development sender (the server
// log and the /dev/mailbox page) until a real sender is configured.
func (p *Platform) openIdentity() error {
	base := p.URL
	svc, err := identity.New(p.DB, p.Limits, identity.Config{
		Issuer:    p.URL,
		Clients:   p.Apps,
		Blobs:     p.Blob,
		AvatarURL: func(key string) string { return base + "/" + key }, // served by web at /avatars/...
		Logger:    p.Log,
	})
	if err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	svc.Register(p.Queue)
	p.Identity = svc
	return nil
}
