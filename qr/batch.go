package qr

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Batch is a set of codes created together from a template.
type Batch struct {
	ID            int64     `json:"id"`
	OrgID         int64     `json:"org_id"`
	AppID         string    `json:"app_id,omitempty"`
	Name          string    `json:"name"`
	Param         string    `json:"param,omitempty"`
	LabelTemplate string    `json:"label_template,omitempty"`
	From          int       `json:"from"`
	To            int       `json:"to"`
	CreatedBy     int64     `json:"created_by,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

// BatchTemplate describes N codes that differ in one number n running from
// From to To: "tables 1 to 200 of store 88" is Target{Kind: page, AppID:
// "menu", Page: "pages/order", Query: {"store": "88"}}, Param "table",
// From 1, To 200, LabelTemplate "Table {n}", Sublabel "Store 88".
type BatchTemplate struct {
	OrgID  int64
	AppID  string // defaults to Target.AppID
	Name   string // shown in the console; defaults to the label template
	Target Target // the target every code shares (for page and trial codes, before Param is set)
	// Param is the query parameter set to ValueTemplate with {n} replaced
	// (page and trial targets only). Empty sets none: the codes differ by
	// slug and label only, which suits collection codes on several
	// counters.
	Param         string
	ValueTemplate string // default "{n}"
	From, To      int    // inclusive; at most MaxBatch codes
	LabelTemplate string // caption line 1, "{n}" replaced, e.g. "Table {n}" or "{n}号桌"
	Sublabel      string // caption line 2, the same on every code, e.g. the store name
	ExpiresAt     time.Time
	CreatedBy     int64
}

func expand(tmpl string, n int) string { return strings.ReplaceAll(tmpl, "{n}", strconv.Itoa(n)) }

// CreateBatch creates To-From+1 codes from the template in one transaction:
// all of them exist afterwards, or none. Errors: invalid template (the
// first bad code's problem, naming n), too_large for more than MaxBatch
// codes, not_found for an unknown org, app or creator.
func (s *Service) CreateBatch(ctx context.Context, bt BatchTemplate) (*Batch, []*Code, error) {
	count := bt.To - bt.From + 1
	switch {
	case bt.From < 0 || bt.To < bt.From:
		return nil, nil, invalid("batch range %d..%d: want 0 <= from <= to", bt.From, bt.To)
	case count > MaxBatch:
		return nil, nil, openmini.Errorf(openmini.ETOOLARGE, "batch of %d codes: at most %d in one call", count, MaxBatch)
	}
	if bt.Param != "" {
		if bt.Target.Kind != KindPage && bt.Target.Kind != KindTrial {
			return nil, nil, invalid("batch param %q: only page and trial codes take query parameters", truncate(bt.Param))
		}
		if _, taken := bt.Target.Query[bt.Param]; taken {
			return nil, nil, invalid("batch param %q is also a fixed query parameter of the target", truncate(bt.Param))
		}
	}
	if bt.ValueTemplate == "" {
		bt.ValueTemplate = "{n}"
	}
	if bt.Name == "" {
		bt.Name = bt.LabelTemplate
	}
	if err := checkLabel("batch name", bt.Name); err != nil {
		return nil, nil, err
	}
	now := s.now()
	codes := make([]*Code, 0, count)
	for n := bt.From; n <= bt.To; n++ {
		t := bt.Target
		if bt.Param != "" {
			q := make(map[string]string, len(t.Query)+1)
			for k, v := range t.Query {
				q[k] = v
			}
			q[bt.Param] = expand(bt.ValueTemplate, n)
			t.Query = q
		}
		c, err := s.prepare(NewCode{
			OrgID: bt.OrgID, AppID: bt.AppID, Target: t, Label: expand(bt.LabelTemplate, n), Sublabel: bt.Sublabel,
			ExpiresAt: bt.ExpiresAt, CreatedBy: bt.CreatedBy,
		}, now)
		if err != nil {
			return nil, nil, invalid("batch code %d: %s", n, openmini.ErrorMessage(err))
		}
		codes = append(codes, c)
	}
	b := &Batch{
		OrgID: bt.OrgID, AppID: codes[0].AppID, Name: strings.TrimSpace(bt.Name), Param: bt.Param, LabelTemplate: bt.LabelTemplate,
		From: bt.From, To: bt.To, CreatedBy: bt.CreatedBy, CreatedAt: truncMS(now),
	}
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if err := insertBatch(ctx, tx, b); err != nil {
			return err
		}
		for _, c := range codes {
			c.BatchID = b.ID
			if err := insertCode(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, storeErr("create qr batch", err)
	}
	return b, codes, nil
}

// GetBatch returns the org's batch and its codes in order.
func (s *Service) GetBatch(ctx context.Context, orgID, id int64) (*Batch, []*Code, error) {
	b, err := getBatch(ctx, s.db, orgID, id)
	if errors.Is(err, sqldb.ErrNotFound) {
		return nil, nil, openmini.Errorf(openmini.ENOTFOUND, "QR code batch not found")
	}
	if err != nil {
		return nil, nil, storeErr("get qr batch", err)
	}
	codes, err := listCodes(ctx, s.db, ListFilter{OrgID: orgID, BatchID: id, Limit: MaxBatch})
	if err != nil {
		return nil, nil, storeErr("get qr batch", err)
	}
	return b, codes, nil
}

func sortAmounts(a []Amount) {
	slices.SortFunc(a, func(x, y Amount) int { return cmp.Compare(x.Currency, y.Currency) })
}

func sortRows(rows []CodeStatsRow) {
	slices.SortFunc(rows, func(a, b CodeStatsRow) int {
		if c := cmp.Compare(b.Scans, a.Scans); c != 0 {
			return c
		}
		return cmp.Compare(a.CodeID, b.CodeID)
	})
}
