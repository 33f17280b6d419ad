package discovery

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// ChannelInput is what the operator sets on a channel.
type ChannelInput struct {
	Slug     string    // [a-z0-9-], 1 to 40, unique: the channel's URL name
	TitleEN  string    // required, at most 40 characters
	TitleZH  string    // required, at most 40 characters
	Games    bool      // a games channel: hidden while games are disallowed
	StartsAt time.Time // zero: shown now
	EndsAt   time.Time // zero: no end
}

// EntryInput schedules one app in a channel.
type EntryInput struct {
	StartsAt time.Time // zero: shown now
	EndsAt   time.Time // zero: no end
}

// Channel is the operator's view of a channel, with every entry.
type Channel struct {
	ID       int64          `json:"id"`
	Slug     string         `json:"slug"`
	TitleEN  string         `json:"title_en"`
	TitleZH  string         `json:"title_zh"`
	Position int            `json:"position"` // 1 is first
	Games    bool           `json:"games"`
	StartsAt time.Time      `json:"starts_at,omitzero"`
	EndsAt   time.Time      `json:"ends_at,omitzero"`
	Live     bool           `json:"live"` // users see it now (schedule and games policy)
	Entries  []ChannelEntry `json:"entries"`
}

// ChannelEntry is an app in a channel, for the operator.
type ChannelEntry struct {
	AppCard
	Position int       `json:"position"` // 1 is first
	StartsAt time.Time `json:"starts_at,omitzero"`
	EndsAt   time.Time `json:"ends_at,omitzero"`
	// Visible is whether users see it now: in schedule, published, not
	// removed from discovery, not a disallowed game.
	Visible bool `json:"visible"`
}

// ChannelView is a channel as users see it.
type ChannelView struct {
	ID      int64     `json:"id"`
	Slug    string    `json:"slug"`
	TitleEN string    `json:"title_en"`
	TitleZH string    `json:"title_zh"`
	Apps    []AppCard `json:"apps"`
}

const (
	maxChannels       = 50
	maxChannelEntries = 200
)

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)

func (in ChannelInput) validate() error {
	if !slugRE.MatchString(in.Slug) {
		return invalid("slug: %.60q must be 1 to 40 of a-z, 0-9 and inner hyphens", in.Slug)
	}
	for _, f := range []struct{ name, v string }{{"title_en", in.TitleEN}, {"title_zh", in.TitleZH}} {
		if strings.TrimSpace(f.v) == "" {
			return invalid("%s: empty", f.name)
		}
		if !utf8.ValidString(f.v) || utf8.RuneCountInString(f.v) > 40 {
			return invalid("%s: longer than 40 characters or not UTF-8", f.name)
		}
	}
	return checkSchedule(in.StartsAt, in.EndsAt)
}

func checkSchedule(start, end time.Time) error {
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		return invalid("ends_at: %s is not after starts_at %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	return nil
}

// live reports whether a schedule covers now (0 = open).
func live(start, end, now int64) bool {
	return (start == 0 || start <= now) && (end == 0 || end > now)
}

func zeroMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// CreateChannel adds a channel after the existing ones. Errors: invalid,
// conflict (slug taken), too_large (50 channels).
func (s *Service) CreateChannel(ctx context.Context, in ChannelInput) (Channel, error) {
	if err := in.validate(); err != nil {
		return Channel{}, err
	}
	var id int64
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM discovery_channels`).Scan(&n); err != nil {
			return err
		}
		if n >= maxChannels {
			return openmini.Errorf(openmini.ETOOLARGE, "channels: at most %d", maxChannels)
		}
		now := ms(s.now())
		return tx.QueryRow(ctx, `INSERT INTO discovery_channels (slug, title_en, title_zh, position, games, starts_at, ends_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			in.Slug, in.TitleEN, in.TitleZH, n+1, boolInt(in.Games), zeroMS(in.StartsAt), zeroMS(in.EndsAt), now, now).Scan(&id)
	})
	if errors.Is(err, sqldb.ErrUnique) {
		return Channel{}, openmini.Errorf(openmini.ECONFLICT, "slug: a channel named %q exists", in.Slug)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("create channel: %w", err)
	}
	return s.Channel(ctx, id)
}

// UpdateChannel replaces a channel's settings (its position and entries
// stay). Errors: invalid, not_found, conflict (slug taken).
func (s *Service) UpdateChannel(ctx context.Context, id int64, in ChannelInput) (Channel, error) {
	if err := in.validate(); err != nil {
		return Channel{}, err
	}
	res, err := s.db.Exec(ctx, `UPDATE discovery_channels SET slug = ?, title_en = ?, title_zh = ?, games = ?,
		starts_at = ?, ends_at = ?, updated_at = ? WHERE id = ?`,
		in.Slug, in.TitleEN, in.TitleZH, boolInt(in.Games), zeroMS(in.StartsAt), zeroMS(in.EndsAt), ms(s.now()), id)
	if errors.Is(err, sqldb.ErrUnique) {
		return Channel{}, openmini.Errorf(openmini.ECONFLICT, "slug: a channel named %q exists", in.Slug)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("update channel: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Channel{}, notFound("channel %d does not exist", id)
	}
	return s.Channel(ctx, id)
}

// DeleteChannel deletes a channel and its entries; the others close the
// gap. Errors: not_found.
func (s *Service) DeleteChannel(ctx context.Context, id int64) error {
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM discovery_channels WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("channel %d does not exist", id)
		}
		order, err := channelOrder(ctx, tx)
		if err != nil {
			return err
		}
		return renumber(ctx, tx, `UPDATE discovery_channels SET position = ? WHERE id = ?`, order)
	})
	if err != nil {
		return fmt.Errorf("delete channel: %w", err)
	}
	return nil
}

// MoveChannel puts a channel at position (1 is first; past the end means
// last). Errors: not_found, invalid.
func (s *Service) MoveChannel(ctx context.Context, id int64, position int) error {
	if position < 1 {
		return invalid("position: must be 1 or more")
	}
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		order, err := channelOrder(ctx, tx)
		if err != nil {
			return err
		}
		moved, ok := moveTo(order, id, position)
		if !ok {
			return notFound("channel %d does not exist", id)
		}
		return renumber(ctx, tx, `UPDATE discovery_channels SET position = ? WHERE id = ?`, moved)
	})
	if err != nil {
		return fmt.Errorf("move channel: %w", err)
	}
	return nil
}

func channelOrder(ctx context.Context, q sqldb.Querier) ([]any, error) {
	rows, err := q.Query(ctx, `SELECT id FROM discovery_channels ORDER BY position, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// moveTo returns order with key moved to 1-based position.
func moveTo(order []any, key any, position int) ([]any, bool) {
	at := -1
	for i, k := range order {
		if k == key {
			at = i
		}
	}
	if at < 0 {
		return nil, false
	}
	rest := append(append([]any{}, order[:at]...), order[at+1:]...)
	p := min(position-1, len(rest))
	out := append(append(append([]any{}, rest[:p]...), key), rest[p:]...)
	return out, true
}

// renumber sets positions 1..n in order with stmt(position, key[, extra]).
func renumber(ctx context.Context, q sqldb.Querier, stmt string, order []any, extra ...any) error {
	for i, k := range order {
		if _, err := q.Exec(ctx, stmt, append([]any{i + 1, k}, extra...)...); err != nil {
			return err
		}
	}
	return nil
}

// AddToChannel puts a published app last in a channel, or reschedules it
// if it is there already. Errors: not_found (channel, or app not in
// discovery), invalid, too_large (200 entries).
func (s *Service) AddToChannel(ctx context.Context, channelID int64, appID string, in EntryInput) error {
	if err := checkAppID("app_id", appID); err != nil {
		return err
	}
	if err := checkSchedule(in.StartsAt, in.EndsAt); err != nil {
		return err
	}
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if err := channelExists(ctx, tx, channelID); err != nil {
			return err
		}
		if _, err := loadDoc(ctx, tx, appID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM discovery_channel_apps WHERE channel_id = ?`, channelID).Scan(&n); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE discovery_channel_apps SET starts_at = ?, ends_at = ? WHERE channel_id = ? AND app_id = ?`,
			zeroMS(in.StartsAt), zeroMS(in.EndsAt), channelID, appID)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k > 0 {
			return nil
		}
		if n >= maxChannelEntries {
			return openmini.Errorf(openmini.ETOOLARGE, "channel %d: at most %d apps", channelID, maxChannelEntries)
		}
		_, err = tx.Exec(ctx, `INSERT INTO discovery_channel_apps (channel_id, app_id, position, starts_at, ends_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, channelID, appID, n+1, zeroMS(in.StartsAt), zeroMS(in.EndsAt), ms(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("add to channel: %w", err)
	}
	return nil
}

func channelExists(ctx context.Context, q sqldb.Querier, id int64) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM discovery_channels WHERE id = ?`, id).Scan(&one)
	if isNotFound(err) {
		return notFound("channel %d does not exist", id)
	}
	return err
}

// RemoveFromChannel takes an app out of a channel. Errors: not_found.
func (s *Service) RemoveFromChannel(ctx context.Context, channelID int64, appID string) error {
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM discovery_channel_apps WHERE channel_id = ? AND app_id = ?`, channelID, appID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("app %s is not in channel %d", appID, channelID)
		}
		order, err := entryOrder(ctx, tx, channelID)
		if err != nil {
			return err
		}
		return renumber(ctx, tx, `UPDATE discovery_channel_apps SET position = ? WHERE app_id = ? AND channel_id = ?`, order, channelID)
	})
	if err != nil {
		return fmt.Errorf("remove from channel: %w", err)
	}
	return nil
}

// MoveEntry puts an app at position in its channel (1 is first; past the
// end means last). Errors: not_found, invalid.
func (s *Service) MoveEntry(ctx context.Context, channelID int64, appID string, position int) error {
	if position < 1 {
		return invalid("position: must be 1 or more")
	}
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		order, err := entryOrder(ctx, tx, channelID)
		if err != nil {
			return err
		}
		moved, ok := moveTo(order, appID, position)
		if !ok {
			return notFound("app %s is not in channel %d", appID, channelID)
		}
		return renumber(ctx, tx, `UPDATE discovery_channel_apps SET position = ? WHERE app_id = ? AND channel_id = ?`, moved, channelID)
	})
	if err != nil {
		return fmt.Errorf("move entry: %w", err)
	}
	return nil
}

// PromoteEntry moves an app one place up in its channel (the first stays
// first). Errors: not_found.
func (s *Service) PromoteEntry(ctx context.Context, channelID int64, appID string) error {
	return s.stepEntry(ctx, channelID, appID, -1)
}

// DemoteEntry moves an app one place down in its channel (the last stays
// last). Errors: not_found.
func (s *Service) DemoteEntry(ctx context.Context, channelID int64, appID string) error {
	return s.stepEntry(ctx, channelID, appID, +1)
}

func (s *Service) stepEntry(ctx context.Context, channelID int64, appID string, step int) error {
	var pos int
	err := s.db.QueryRow(ctx, `SELECT position FROM discovery_channel_apps WHERE channel_id = ? AND app_id = ?`, channelID, appID).Scan(&pos)
	if isNotFound(err) {
		return notFound("app %s is not in channel %d", appID, channelID)
	}
	if err != nil {
		return fmt.Errorf("move entry: %w", err)
	}
	return s.MoveEntry(ctx, channelID, appID, max(1, pos+step))
}

func entryOrder(ctx context.Context, q sqldb.Querier, channelID int64) ([]any, error) {
	rows, err := q.Query(ctx, `SELECT app_id FROM discovery_channel_apps WHERE channel_id = ? ORDER BY position, app_id`, channelID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// channelRow is a row of discovery_channels.
type channelRow struct {
	Channel
	start, end int64
}

func (s *Service) loadChannels(ctx context.Context, where string, args ...any) ([]*channelRow, error) {
	rows, err := s.db.Query(ctx, `SELECT id, slug, title_en, title_zh, position, games, starts_at, ends_at
		FROM discovery_channels`+where+` ORDER BY position, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*channelRow
	for rows.Next() {
		c := &channelRow{}
		var games int64
		if err := rows.Scan(&c.ID, &c.Slug, &c.TitleEN, &c.TitleZH, &c.Position, &games, &c.start, &c.end); err != nil {
			return nil, err
		}
		c.Games, c.StartsAt, c.EndsAt = games == 1, fromMS(c.start), fromMS(c.end)
		c.Entries = []ChannelEntry{}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ListChannels returns every channel with every entry, for the operator
// console, in order.
func (s *Service) ListChannels(ctx context.Context) ([]Channel, error) {
	chs, err := s.channelsWithEntries(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return chs, nil
}

// Channel returns one channel with every entry. Errors: not_found.
func (s *Service) Channel(ctx context.Context, id int64) (Channel, error) {
	chs, err := s.channelsWithEntries(ctx, " WHERE id = ?", id)
	if err != nil {
		return Channel{}, fmt.Errorf("channel %d: %w", id, err)
	}
	if len(chs) == 0 {
		return Channel{}, notFound("channel %d does not exist", id)
	}
	return chs[0], nil
}

func (s *Service) channelsWithEntries(ctx context.Context, where string, args ...any) ([]Channel, error) {
	games, err := s.gamesAllowed(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.loadChannels(ctx, where, args...)
	if err != nil {
		return nil, err
	}
	now := ms(s.now())
	byID := map[int64]*channelRow{}
	for _, c := range rows {
		c.Live = live(c.start, c.end, now) && (games || !c.Games)
		byID[c.ID] = c
	}
	entries, err := s.db.Query(ctx, `SELECT ca.channel_id, ca.position, ca.starts_at, ca.ends_at, d.listed, d.removed, `+cardColumns+`
		FROM discovery_channel_apps ca JOIN discovery_apps d ON d.app_id = ca.app_id
		ORDER BY ca.channel_id, ca.position`)
	if err != nil {
		return nil, err
	}
	defer entries.Close()
	for entries.Next() {
		var e ChannelEntry
		var ch, start, end, listed, removed, g int64
		if err := entries.Scan(append([]any{&ch, &e.Position, &start, &end, &listed, &removed}, scanCard(&e.AppCard, &g)...)...); err != nil {
			return nil, err
		}
		c := byID[ch]
		if c == nil {
			continue
		}
		e.Games, e.StartsAt, e.EndsAt = g == 1, fromMS(start), fromMS(end)
		e.Visible = live(start, end, now) && listed == 1 && removed == 0 && (games || !e.Games)
		c.Entries = append(c.Entries, e)
	}
	if err := entries.Err(); err != nil {
		return nil, err
	}
	out := make([]Channel, len(rows))
	for i, c := range rows {
		out[i] = c.Channel
	}
	return out, nil
}

// HomeChannels returns the channels users see now, in order, each with
// its first perChannel (default 10, at most 50) visible apps; channels with
// no visible app are left out.
func (s *Service) HomeChannels(ctx context.Context, perChannel int) ([]ChannelView, error) {
	if perChannel <= 0 {
		perChannel = 10
	}
	if perChannel > 50 {
		return nil, openmini.Errorf(openmini.ETOOLARGE, "per_channel: at most 50")
	}
	return s.channelViews(ctx, "", nil, perChannel)
}

// ChannelView returns one channel as users see it, with up to 200 visible
// apps ("see all"). Errors: not_found (no such slug, or not live now).
func (s *Service) ChannelView(ctx context.Context, slug string) (ChannelView, error) {
	views, err := s.channelViews(ctx, " AND slug = ?", []any{slug}, maxChannelEntries)
	if err != nil {
		return ChannelView{}, err
	}
	if len(views) == 0 {
		return ChannelView{}, notFound("channel %q is not live", slug)
	}
	return views[0], nil
}

func (s *Service) channelViews(ctx context.Context, where string, args []any, per int) ([]ChannelView, error) {
	games, err := s.gamesAllowed(ctx)
	if err != nil {
		return nil, err
	}
	now := ms(s.now())
	cond := ` WHERE (starts_at = 0 OR starts_at <= ?) AND (ends_at = 0 OR ends_at > ?)`
	if !games {
		cond += ` AND games = 0`
	}
	chs, err := s.loadChannels(ctx, cond+where, append([]any{now, now}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("channels: %w", err)
	}
	out := []ChannelView{}
	if len(chs) == 0 {
		return out, nil
	}
	chIDs := make([]any, len(chs))
	views := map[int64]*ChannelView{}
	for i, c := range chs {
		chIDs[i] = c.ID
		views[c.ID] = &ChannelView{ID: c.ID, Slug: c.Slug, TitleEN: c.TitleEN, TitleZH: c.TitleZH, Apps: []AppCard{}}
	}
	rows, err := s.db.Query(ctx, `SELECT ca.channel_id, `+cardColumns+`
		FROM discovery_channel_apps ca JOIN discovery_apps d ON d.app_id = ca.app_id
		WHERE ca.channel_id IN (`+placeholders(len(chIDs))+`)
		  AND (ca.starts_at = 0 OR ca.starts_at <= ?) AND (ca.ends_at = 0 OR ca.ends_at > ?)
		  AND d.listed = 1 AND d.removed = 0`+gamesFilter(games)+`
		ORDER BY ca.channel_id, ca.position`, append(chIDs, now, now)...)
	if err != nil {
		return nil, fmt.Errorf("channels: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ch, g int64
		var c AppCard
		if err := rows.Scan(append([]any{&ch}, scanCard(&c, &g)...)...); err != nil {
			return nil, err
		}
		c.Games = g == 1
		if v := views[ch]; len(v.Apps) < per {
			v.Apps = append(v.Apps, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, c := range chs {
		if v := views[c.ID]; len(v.Apps) > 0 {
			out = append(out, *v)
		}
	}
	return out, nil
}
