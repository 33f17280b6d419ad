package platform

import (
	"context"
	"crypto/rand"
	"embed"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/org"
)

// The demo world (`openmini serve --demo`): an operator, a developer
// organisation with three released mini programs (a restaurant that takes
// table orders, a game and a tool), and users. Passwords are generated and
// printed once. Seeding runs only on an empty platform.

//go:embed demo
var demoFS embed.FS

// demoWorld is what the demo seeders build on.
type demoWorld struct {
	admin  openmini.Actor
	dev    openmini.Actor
	devOrg org.Org
	apps   map[string]app.App // by short name: noodles, game, tipsplit
	users  []account.Account
	lines  []string // for the banner: who can sign in, and how
}

// seedDemo fills an empty platform with the demo world. It does nothing
// when any account exists, so restarting with --demo is safe.
func (p *Platform) seedDemo(ctx context.Context) error {
	var n int
	if err := p.DB.QueryRow(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		p.Log.Info("demo: the platform already has data; not seeding")
		return nil
	}
	w := &demoWorld{apps: map[string]app.App{}}
	for _, step := range []func(context.Context, *demoWorld) error{
		p.seedDemoPeople,
		p.seedDemoApps,
		p.seedDemoIdentity,
		p.seedDemoPay,
		p.seedDemoDiscovery,
	} {
		if err := step(ctx, w); err != nil {
			return err
		}
	}
	w.lines = append(w.lines, "Demo mini programs:")
	for _, k := range []string{"noodles", "game", "tipsplit"} {
		if a, ok := w.apps[k]; ok {
			link := p.URL + "/app/" + a.ID + "/"
			if k == "noodles" {
				link += "?table=12&store=88"
			}
			w.lines = append(w.lines, fmt.Sprintf("  %-18s %s", a.ShortName, link))
		}
	}
	p.demoLines = w.lines
	p.Log.Info("demo: seeded", "apps", len(w.apps), "users", len(w.users))
	return nil
}

func demoPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 14)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:9]) + "-" + string(b[9:])
}

func (p *Platform) seedDemoPeople(ctx context.Context, w *demoWorld) error {
	mk := func(email, name, role string) (account.Account, string, error) {
		pw := demoPassword()
		a, err := p.Accounts.Create(ctx, p.DB, account.NewAccount{Email: email, Name: name, Password: pw, StaffRole: role})
		return a, pw, err
	}
	admin, adminPW, err := mk("operator@demo.openmini.dev", "Olivia Operator", account.RoleAdmin)
	if err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	w.admin = openmini.Actor{AccountID: admin.ID, Label: admin.Email, StaffRole: account.RoleAdmin}
	if _, _, err := mk("reviewer@demo.openmini.dev", "Ravi Reviewer", account.RoleReviewer); err != nil {
		return fmt.Errorf("reviewer: %w", err)
	}
	dev, devPW, err := mk("dana@noodlebar.demo.openmini.dev", "Dana Developer", "")
	if err != nil {
		return fmt.Errorf("developer: %w", err)
	}
	w.dev = openmini.Actor{AccountID: dev.ID, Label: dev.Email}
	w.devOrg, err = p.Orgs.Create(ctx, w.dev, "Noodle Bar Ltd 面馆")
	if err != nil {
		return fmt.Errorf("developer organisation: %w", err)
	}
	user, userPW, err := mk("lily@demo.openmini.dev", "Lily 莉莉", "")
	if err != nil {
		return fmt.Errorf("user: %w", err)
	}
	w.users = append(w.users, user)
	w.lines = append(w.lines,
		"Demo accounts (passwords are shown only now):",
		fmt.Sprintf("  operator   %-36s %s   (%s/admin)", admin.Email, adminPW, p.URL),
		fmt.Sprintf("  developer  %-36s %s   (%s/console)", dev.Email, devPW, p.URL),
		fmt.Sprintf("  user       %-36s %s   (%s/)", user.Email, userPW, p.URL),
	)
	return nil
}

// demoApp describes one demo mini program.
type demoApp struct {
	key, name, short, category, description string
	keywords                                []string
	color                                   color.RGBA
	dir                                     string // under demo/, or "" for the game template
}

func (p *Platform) seedDemoApps(ctx context.Context, w *demoWorld) error {
	apps := []demoApp{
		{key: "noodles", name: "Noodle Bar 面馆", short: "Noodle Bar", category: "food", dir: "noodles",
			description: "Scan the code on your table, order hand-pulled noodles and pay from your phone. 扫桌码点餐，手机支付。",
			keywords:    []string{"noodles", "restaurant", "面馆", "拉面", "点餐"}, color: color.RGBA{200, 67, 30, 255}},
		{key: "game", name: "Tap Dash 点点乐", short: "Tap Dash", category: "games",
			description: "Tap the dots before they fade: thirty seconds, one best score. 三十秒点击小游戏。",
			keywords:    []string{"game", "tap", "游戏", "休闲"}, color: color.RGBA{122, 63, 214, 255}},
		{key: "tipsplit", name: "Tip & Split 分账", short: "Tip & Split", category: "tools", dir: "tipsplit",
			description: "Split a bill between friends, with or without a tip. 朋友聚餐一键分账。",
			keywords:    []string{"bill", "split", "calculator", "分账", "计算器", "AA"}, color: color.RGBA{47, 111, 222, 255}},
	}
	for _, d := range apps {
		a, err := p.publishDemoApp(ctx, w, d)
		if err != nil {
			return fmt.Errorf("demo app %s: %w", d.key, err)
		}
		w.apps[d.key] = a
	}
	return nil
}

// publishDemoApp registers, uploads, reviews and releases one demo app
// through the same services the console and API use.
func (p *Platform) publishDemoApp(ctx context.Context, w *demoWorld, d demoApp) (app.App, error) {
	name, short, cat, desc, kw := d.name, d.short, d.category, d.description, d.keywords
	a, _, err := p.Apps.Create(ctx, w.dev, w.devOrg.ID, app.Settings{Name: &name, ShortName: &short, Category: &cat, Description: &desc, Keywords: &kw})
	if err != nil {
		return a, err
	}
	dir, err := os.MkdirTemp("", "openmini-demo-*")
	if err != nil {
		return a, err
	}
	defer os.RemoveAll(dir)
	proj := filepath.Join(dir, d.key)
	if d.dir == "" {
		if err := miniapp.Init(proj, "game", name); err != nil {
			return a, err
		}
	} else if err := copyEmbedded(demoFS, "demo/"+d.dir, proj); err != nil {
		return a, err
	}
	if err := writeIcon(filepath.Join(proj, "common", "icon.png"), d.color); err != nil {
		return a, err
	}
	pkg, _, err := miniapp.Pack(ctx, proj, miniapp.DefaultLimits())
	if err != nil {
		return a, err
	}
	v, err := p.Apps.Upload(ctx, w.dev, a.ID, app.Upload{Package: pkg, Version: "1.0.0", Note: "First release."})
	if err != nil {
		return a, err
	}
	if _, err := p.Apps.Submit(ctx, w.dev, a.ID, v.Version); err != nil {
		return a, err
	}
	if _, err := p.Apps.Approve(ctx, w.admin, v.ID); err != nil {
		return a, err
	}
	if _, err := p.Apps.ReleaseVersion(ctx, w.dev, a.ID, v.Version, 100); err != nil {
		return a, err
	}
	return p.Apps.Get(ctx, a.ID)
}

func copyEmbedded(fsys fs.FS, root, dst string) error {
	return fs.WalkDir(fsys, root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// writeIcon draws a 144×144 icon: a rounded square of the app's colour
// with a light disc.
func writeIcon(path string, c color.RGBA) error {
	const n = 144
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			dx, dy := max(0, max(24-x, x-(n-25))), max(0, max(24-y, y-(n-25)))
			if dx*dx+dy*dy > 24*24 {
				continue // outside the rounded corner
			}
			px := c
			cx, cy := x-n/2, y-n/2
			if cx*cx+cy*cy < 36*36 {
				px = color.RGBA{255, 255, 255, 235}
			}
			img.SetRGBA(x, y, px)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
