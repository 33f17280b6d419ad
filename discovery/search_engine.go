package discovery

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/openmini/openmini/sqldb"
)

// searchIndex is the engine-specific part of search: how documents' tokens
// and the vocabulary's trigrams are stored and matched. Tokenizing, typo
// correction and ranking are shared Go code (text.go, search.go), so both
// engines return the same results.
type searchIndex interface {
	// put adds documents (not already present) to the full-text index.
	put(ctx context.Context, q sqldb.Querier, docs []indexedDoc) error
	// drop removes documents (ID and the Tier they were put with) from the
	// full-text index.
	drop(ctx context.Context, q sqldb.Querier, docs []indexedDoc) error
	// addTerms adds new vocabulary words to the trigram index.
	addTerms(ctx context.Context, q sqldb.Querier, terms []vocabTerm) error
	// dropTerms removes vocabulary words from the trigram index (before
	// their discovery_terms rows are deleted).
	dropTerms(ctx context.Context, q sqldb.Querier, ids []int64) error
	// ids returns the ids of up to m.limit indexed documents matching
	// every term, from the highest popularity tier down, so that a common
	// word costs about as much as a rare one.
	ids(ctx context.Context, q sqldb.Querier, m matchQuery) ([]int64, error)
	// similarTerms returns up to limit vocabulary words sharing the most
	// trigrams with word.
	similarTerms(ctx context.Context, q sqldb.Querier, word string, limit int) ([]vocabTerm, error)
}

// vocabTerm is a row of discovery_terms.
type vocabTerm struct {
	ID   int64
	Term string
	Docs int64
}

type matchQuery struct {
	terms    []qterm
	nameOnly bool // every term in the name field
	limit    int
}

// candidate is a matching document with what ranking needs.
type candidate struct {
	ID                                    int64
	AppID, Name, ShortName, Keywords      string
	Description, Category, Merchant, Icon string
	Games                                 bool
	Launches                              int64
}

// candidateColumns selects a candidate from discovery_apps aliased d. The
// description is cut: results show a snippet, and ranking reads its start.
const candidateColumns = `d.id, d.app_id, d.name, d.short_name, d.keywords, substr(d.description, 1, 300),
	d.category, d.merchant_name, d.icon_url, d.games, d.launches`

// loadCandidates reads the documents with the given ids, leaving out games
// when noGames is set.
func loadCandidates(ctx context.Context, q sqldb.Querier, ids []int64, noGames bool) ([]candidate, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	games := ""
	if noGames {
		games = " AND d.games = 0"
	}
	rows, err := q.Query(ctx, `SELECT `+candidateColumns+` FROM discovery_apps d
		WHERE d.id IN (`+placeholders(len(ids))+`)`+games, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var c candidate
		var g int64
		if err := rows.Scan(&c.ID, &c.AppID, &c.Name, &c.ShortName, &c.Keywords, &c.Description,
			&c.Category, &c.Merchant, &c.Icon, &g, &c.Launches); err != nil {
			return nil, err
		}
		c.Games = g == 1
		out = append(out, c)
	}
	return out, rows.Err()
}

func scanIDs(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}) ([]int64, error) {
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ---------------------------------------------------------------- SQLite

// sqliteIndex keeps tokens in the FTS5 table discovery_fts (unicode61
// splits our space-separated tokens as they are) under the rowid
// tier << 40 | id, so ORDER BY rowid DESC reads matches most popular first
// and stops at the limit; and the vocabulary in the FTS5 trigram table
// discovery_terms_trgm.
type sqliteIndex struct{}

const tierShift = 40

func ftsRowid(d indexedDoc) int64 { return d.Tier<<tierShift | d.ID }

func (sqliteIndex) put(ctx context.Context, q sqldb.Querier, docs []indexedDoc) error {
	for start := 0; start < len(docs); start += 200 {
		chunk := docs[start:min(len(docs), start+200)]
		vals := make([]string, len(chunk))
		args := make([]any, 0, 4*len(chunk))
		for i, d := range chunk {
			vals[i] = "(?, ?, ?, ?)"
			args = append(args, ftsRowid(d), strings.Join(d.Name, " "), strings.Join(d.Tags, " "), strings.Join(d.Body, " "))
		}
		if _, err := q.Exec(ctx, `INSERT INTO discovery_fts (rowid, name, tags, body) VALUES `+strings.Join(vals, ", "), args...); err != nil {
			return fmt.Errorf("fts insert: %w", err)
		}
	}
	return nil
}

func (sqliteIndex) drop(ctx context.Context, q sqldb.Querier, docs []indexedDoc) error {
	rowids := make([]int64, len(docs))
	for i, d := range docs {
		rowids[i] = ftsRowid(d)
	}
	return execIDs(ctx, q, `DELETE FROM discovery_fts WHERE rowid IN (%s)`, rowids)
}

func (sqliteIndex) addTerms(ctx context.Context, q sqldb.Querier, terms []vocabTerm) error {
	for start := 0; start < len(terms); start += 400 {
		chunk := terms[start:min(len(terms), start+400)]
		vals := make([]string, len(chunk))
		args := make([]any, 0, 2*len(chunk))
		for i, t := range chunk {
			vals[i] = "(?, ?)"
			args = append(args, t.ID, " "+t.Term+" ")
		}
		if _, err := q.Exec(ctx, `INSERT INTO discovery_terms_trgm (rowid, term) VALUES `+strings.Join(vals, ", "), args...); err != nil {
			return err
		}
	}
	return nil
}

func (sqliteIndex) dropTerms(ctx context.Context, q sqldb.Querier, ids []int64) error {
	return execIDs(ctx, q, `DELETE FROM discovery_terms_trgm WHERE rowid IN (%s)`, ids)
}

// fts5Quote makes s one FTS5 string (a phrase when it holds several
// tokens).
func fts5Quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// fts5Expr is the MATCH expression requiring every term.
func fts5Expr(terms []qterm, nameOnly bool) string {
	parts := make([]string, 0, len(terms))
	for _, t := range terms {
		switch {
		case len(t.alts) > 0:
			alts := make([]string, len(t.alts))
			for i, a := range t.alts {
				alts[i] = fts5Quote(a)
			}
			parts = append(parts, "("+strings.Join(alts, " OR ")+")")
		case t.cjk && t.bigrams() != nil:
			parts = append(parts, fts5Quote(strings.Join(t.bigrams(), " ")))
		case t.cjk || t.prefix:
			parts = append(parts, fts5Quote(t.text)+"*")
		default:
			parts = append(parts, fts5Quote(t.text))
		}
	}
	expr := strings.Join(parts, " AND ")
	if nameOnly {
		return "name : (" + expr + ")"
	}
	return expr
}

func (sqliteIndex) ids(ctx context.Context, q sqldb.Querier, m matchQuery) ([]int64, error) {
	rows, err := q.Query(ctx, `SELECT rowid FROM discovery_fts WHERE discovery_fts MATCH ? ORDER BY rowid DESC LIMIT ?`,
		fts5Expr(m.terms, m.nameOnly), m.limit)
	if err != nil {
		return nil, err
	}
	ids, err := scanIDs(rows)
	for i := range ids {
		ids[i] &= 1<<tierShift - 1
	}
	return ids, err
}

func (sqliteIndex) similarTerms(ctx context.Context, q sqldb.Querier, word string, limit int) ([]vocabTerm, error) {
	grams := trigrams(word)
	parts := make([]string, len(grams))
	for i, g := range grams {
		parts[i] = fts5Quote(g)
	}
	rows, err := q.Query(ctx, `SELECT t.id, t.term, t.docs
		FROM discovery_terms_trgm g CROSS JOIN discovery_terms t ON t.id = g.rowid
		WHERE discovery_terms_trgm MATCH ? ORDER BY g.rank LIMIT ?`, strings.Join(parts, " OR "), limit)
	if err != nil {
		return nil, err
	}
	return scanTerms(rows)
}

// ---------------------------------------------------------------- PostgreSQL

// postgresIndex keeps tokens as tsvectors (written as literals, so no text
// search configuration or locale is involved) with GIN indexes: one of the
// name alone, one of everything (name tokens weigh A, tags B, the
// description D). Every lexeme starts with the document's popularity tier
// (tierPrefix), so a query asks the tiers from the top, each an exact GIN
// lookup, in one UNION ALL that stops at the limit. The vocabulary has a
// pg_trgm GIN index.
type postgresIndex struct{}

// tsLexeme quotes a token for tsvector and tsquery input.
func tsLexeme(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// tsvectorLiteral lays the fields out one after another with a gap, so no
// phrase spans two fields, every lexeme prefixed with the tier.
func tsvectorLiteral(d indexedDoc, fields ...[]string) string {
	weights := []string{"A", "B", "D"}
	lex := map[string][]string{}
	var order []string
	pos := 1
	for i, toks := range fields {
		for _, t := range toks {
			if pos > 16383 {
				break
			}
			if _, ok := lex[t]; !ok {
				order = append(order, t)
			}
			if len(lex[t]) < 256 {
				lex[t] = append(lex[t], strconv.Itoa(pos)+weights[min(i, 2)])
			}
			pos++
		}
		pos += 2
	}
	var b strings.Builder
	tier := tierPrefix(d.Tier)
	for i, t := range order {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(tsLexeme(tier + t))
		b.WriteByte(':')
		b.WriteString(strings.Join(lex[t], ","))
	}
	return b.String()
}

// tsqueryLiteral is the tsquery requiring every term in documents of one
// popularity tier.
func tsqueryLiteral(terms []qterm, tier int64) string {
	p := tierPrefix(tier)
	tsLexeme := func(s string) string { return tsLexeme(p + s) }
	parts := make([]string, 0, len(terms))
	for _, t := range terms {
		switch {
		case len(t.alts) > 0:
			alts := make([]string, len(t.alts))
			for i, a := range t.alts {
				alts[i] = tsLexeme(a)
			}
			parts = append(parts, "( "+strings.Join(alts, " | ")+" )")
		case t.cjk && t.bigrams() != nil:
			bg := t.bigrams()
			lx := make([]string, len(bg))
			for i, g := range bg {
				lx[i] = tsLexeme(g)
			}
			parts = append(parts, "( "+strings.Join(lx, " <-> ")+" )")
		case t.cjk || t.prefix:
			parts = append(parts, tsLexeme(t.text)+":*")
		default:
			parts = append(parts, tsLexeme(t.text))
		}
	}
	return strings.Join(parts, " & ")
}

func (postgresIndex) put(ctx context.Context, q sqldb.Querier, docs []indexedDoc) error {
	for start := 0; start < len(docs); start += 500 {
		chunk := docs[start:min(len(docs), start+500)]
		vals := make([]string, len(chunk))
		args := make([]any, 0, 3*len(chunk))
		for i, d := range chunk {
			vals[i] = "(?, CAST(? AS tsvector), CAST(? AS tsvector))"
			args = append(args, d.ID, tsvectorLiteral(d, d.Name), tsvectorLiteral(d, d.Name, d.Tags, d.Body))
		}
		if _, err := q.Exec(ctx, `INSERT INTO discovery_fts (doc_id, name_tsv, tsv) VALUES `+strings.Join(vals, ", "), args...); err != nil {
			return fmt.Errorf("tsvector insert: %w", err)
		}
	}
	return nil
}

func (postgresIndex) drop(ctx context.Context, q sqldb.Querier, docs []indexedDoc) error {
	ids := make([]int64, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return execIDs(ctx, q, `DELETE FROM discovery_fts WHERE doc_id IN (%s)`, ids)
}

func (postgresIndex) addTerms(ctx context.Context, q sqldb.Querier, terms []vocabTerm) error {
	for start := 0; start < len(terms); start += 1000 {
		chunk := terms[start:min(len(terms), start+1000)]
		vals := make([]string, len(chunk))
		args := make([]any, 0, 2*len(chunk))
		for i, t := range chunk {
			vals[i] = "(?, ?)"
			args = append(args, t.ID, t.Term)
		}
		if _, err := q.Exec(ctx, `INSERT INTO discovery_terms_trgm (term_id, term) VALUES `+strings.Join(vals, ", "), args...); err != nil {
			return err
		}
	}
	return nil
}

// dropTerms has nothing to do: the trigram rows go with their
// discovery_terms rows (ON DELETE CASCADE).
func (postgresIndex) dropTerms(context.Context, sqldb.Querier, []int64) error { return nil }

func (postgresIndex) ids(ctx context.Context, q sqldb.Querier, m matchQuery) ([]int64, error) {
	col := "tsv"
	if m.nameOnly {
		col = "name_tsv"
	}
	branches := make([]string, 0, maxTier+1)
	args := make([]any, 0, 2*maxTier+3)
	for t := int64(maxTier); t >= 0; t-- {
		branches = append(branches, `(SELECT doc_id FROM discovery_fts WHERE `+col+` @@ CAST(? AS tsquery) LIMIT ?)`)
		args = append(args, tsqueryLiteral(m.terms, t), m.limit)
	}
	rows, err := q.Query(ctx, `SELECT doc_id FROM (`+strings.Join(branches, " UNION ALL ")+`) AS tiers LIMIT ?`,
		append(args, m.limit)...)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

func (postgresIndex) similarTerms(ctx context.Context, q sqldb.Querier, word string, limit int) ([]vocabTerm, error) {
	rows, err := q.Query(ctx, `SELECT t.id, t.term, t.docs
		FROM discovery_terms_trgm g JOIN discovery_terms t ON t.id = g.term_id
		WHERE g.term % ? ORDER BY similarity(g.term, ?) DESC, t.docs DESC LIMIT ?`, word, word, limit)
	if err != nil {
		return nil, err
	}
	return scanTerms(rows)
}

// ---------------------------------------------------------------- shared

func scanTerms(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}) ([]vocabTerm, error) {
	defer rows.Close()
	var out []vocabTerm
	for rows.Next() {
		var t vocabTerm
		if err := rows.Scan(&t.ID, &t.Term, &t.Docs); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// execIDs runs a statement whose %s is an IN list, in chunks.
func execIDs(ctx context.Context, q sqldb.Querier, stmt string, ids []int64) error {
	ids = append([]int64(nil), ids...)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(len(ids), start+500)]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if _, err := q.Exec(ctx, fmt.Sprintf(stmt, placeholders(len(chunk))), args...); err != nil {
			return err
		}
	}
	return nil
}
