package policy

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/sqldb"
)

// Category is an operator-defined app category.
type Category struct {
	Slug     string `json:"slug"`
	NameEN   string `json:"name_en"`
	NameZH   string `json:"name_zh"`
	IsGame   bool   `json:"is_game"`
	Position int    `json:"position"`
}

// Name returns the category's name in lang ("zh-Hans" or English).
func (c Category) Name(lang string) string {
	if strings.HasPrefix(lang, "zh") && c.NameZH != "" {
		return c.NameZH
	}
	return c.NameEN
}

// Categories lists the categories in display order. With games switched
// off by policy, game categories are left out unless all is true.
func (s *Service) Categories(ctx context.Context, all bool) ([]Category, error) {
	p, err := s.Get(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT slug, name_en, name_zh, is_game, position FROM categories ORDER BY position, slug`)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	defer rows.Close()
	var out []Category
	for rows.Next() {
		var c Category
		var game int
		if err := rows.Scan(&c.Slug, &c.NameEN, &c.NameZH, &game, &c.Position); err != nil {
			return nil, fmt.Errorf("list categories: %w", err)
		}
		c.IsGame = game != 0
		if c.IsGame && !p.GamesEnabled && !all {
			continue
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Category returns one category; not_found if there is none.
func (s *Service) Category(ctx context.Context, slug string) (Category, error) {
	var c Category
	var game int
	err := s.db.QueryRow(ctx, `SELECT slug, name_en, name_zh, is_game, position FROM categories WHERE slug = ?`, slug).
		Scan(&c.Slug, &c.NameEN, &c.NameZH, &game, &c.Position)
	if errors.Is(err, sqldb.ErrNotFound) {
		return c, openmini.Errorf(openmini.ENOTFOUND, "category: %q is not a category", slug)
	}
	c.IsGame = game != 0
	return c, err
}

// CheckCategory returns an error unless slug may be chosen for an app now:
// it exists, and it is not a game category while games are off.
func (s *Service) CheckCategory(ctx context.Context, slug string) error {
	c, err := s.Category(ctx, slug)
	if err != nil {
		if openmini.ErrorCode(err) == openmini.ENOTFOUND {
			return openmini.Errorf(openmini.EINVALID, "category: %q is not a category", slug)
		}
		return err
	}
	if c.IsGame {
		p, err := s.Get(ctx)
		if err != nil {
			return err
		}
		if !p.GamesEnabled {
			return openmini.Errorf(openmini.EFORBIDDEN, "category: the operator does not allow games")
		}
	}
	return nil
}

var slugRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// SaveCategory adds or changes a category (operator admins only).
func (s *Service) SaveCategory(ctx context.Context, actor openmini.Actor, c Category) error {
	if !actor.IsAdmin() {
		return openmini.Errorf(openmini.EFORBIDDEN, "only an operator admin may change categories")
	}
	c.NameEN, c.NameZH = strings.TrimSpace(c.NameEN), strings.TrimSpace(c.NameZH)
	switch {
	case !slugRE.MatchString(c.Slug):
		return openmini.Errorf(openmini.EINVALID, "slug: %q must be lower-case letters, digits and hyphens, starting with a letter", c.Slug)
	case c.NameEN == "" || len(c.NameEN) > 60:
		return openmini.Errorf(openmini.EINVALID, "name_en: give a name of 1 to 60 characters")
	case len(c.NameZH) > 60:
		return openmini.Errorf(openmini.EINVALID, "name_zh: at most 60 characters")
	}
	game := 0
	if c.IsGame {
		game = 1
	}
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO categories (slug, name_en, name_zh, is_game, position) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (slug) DO UPDATE SET name_en = excluded.name_en, name_zh = excluded.name_zh, is_game = excluded.is_game, position = excluded.position`,
			c.Slug, c.NameEN, c.NameZH, game, c.Position)
		if err != nil {
			return fmt.Errorf("save category: %w", err)
		}
		return recordAudit(ctx, tx, actor, "category.save", c)
	})
}

// DeleteCategory removes a category no app uses.
func (s *Service) DeleteCategory(ctx context.Context, actor openmini.Actor, slug string) error {
	if !actor.IsAdmin() {
		return openmini.Errorf(openmini.EFORBIDDEN, "only an operator admin may change categories")
	}
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM apps WHERE category = ?`, slug).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return openmini.Errorf(openmini.ECONFLICT, "category %q is used by %d apps; move them first", slug, n)
		}
		res, err := tx.Exec(ctx, `DELETE FROM categories WHERE slug = ?`, slug)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return openmini.Errorf(openmini.ENOTFOUND, "category: %q is not a category", slug)
		}
		return recordAudit(ctx, tx, actor, "category.delete", slug)
	})
}

func recordAudit(ctx context.Context, q sqldb.Querier, actor openmini.Actor, action string, detail any) error {
	return audit.Record(ctx, q, actor, 0, "", action, detail)
}
