package discovery

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// SearchQuery is a search from the host's search box.
type SearchQuery struct {
	Text   string // what the user typed; at most 100 characters
	Limit  int    // results per page: default 20, at most 50
	Offset int    // results to skip: at most 100
}

// SearchResult is one page of results.
type SearchResult struct {
	Apps []SearchHit `json:"apps"`
	// Corrected is the query as it was run after typo correction
	// ("starbucks" for "starbuks"), for a "showing results for" line;
	// empty when nothing was corrected.
	Corrected string `json:"corrected,omitempty"`
	// More is true when a further page may have results.
	More bool `json:"more"`
}

// SearchHit is one result.
type SearchHit struct {
	AppCard
	Description  string `json:"description,omitempty"` // the first 300 characters
	MerchantName string `json:"merchant_name,omitempty"`
	Launches     int64  `json:"launches"`
}

const (
	maxQueryRunes   = 100
	maxSearchLimit  = 50
	maxSearchOffset = 100
	// Candidates fetched per pass (name matches, any-field matches), most
	// popular first, before ranking in Go: enough for the page asked for
	// and 30 more, at most searchPass.
	searchPass  = 180
	suggestPass = 40
)

// Search finds published apps by name, short name, keywords, merchant,
// category and description, in Chinese or English. Every term must match:
// Latin words as word prefixes ("star" finds "Starbucks"), Chinese text as a
// substring ("咖啡" finds "星巴克咖啡"). A Latin word found nowhere in the
// index is replaced by the closest indexed words (one typo in words of 4-6
// letters, two in longer ones). Results are ranked by where the terms
// match (name, then keywords/merchant/category, then description) and by
// launch count. Removed, unlisted and, when disallowed, game apps are never
// returned. Errors: invalid (empty query), too_large.
func (s *Service) Search(ctx context.Context, q SearchQuery) (SearchResult, error) {
	if q.Limit <= 0 {
		q.Limit = 20
	}
	if q.Limit > maxSearchLimit {
		return SearchResult{}, openmini.Errorf(openmini.ETOOLARGE, "limit: at most %d results per page", maxSearchLimit)
	}
	if q.Offset < 0 || q.Offset > maxSearchOffset {
		return SearchResult{}, invalid("offset: must be between 0 and %d", maxSearchOffset)
	}
	hits, corrected, err := s.find(ctx, q.Text, min(s.searchPass, q.Offset+q.Limit+30), false)
	if err != nil {
		return SearchResult{}, err
	}
	res := SearchResult{Corrected: corrected, Apps: []SearchHit{}}
	if q.Offset < len(hits) {
		end := min(len(hits), q.Offset+q.Limit)
		for _, h := range hits[q.Offset:end] {
			res.Apps = append(res.Apps, h.hit())
		}
		res.More = end < len(hits) && end < maxSearchOffset+maxSearchLimit
	}
	return res, nil
}

// Suggest returns up to limit (default 8, at most 10) apps for what the
// user has typed so far, for the list under the search box. It matches like
// Search, so the last word may be incomplete. An empty prefix gives no
// suggestions.
func (s *Service) Suggest(ctx context.Context, prefix string, limit int) ([]AppCard, error) {
	if limit <= 0 {
		limit = 8
	}
	if limit > 10 {
		return nil, openmini.Errorf(openmini.ETOOLARGE, "limit: at most 10 suggestions")
	}
	out := []AppCard{}
	if strings.TrimSpace(prefix) == "" {
		return out, nil
	}
	hits, _, err := s.find(ctx, prefix, suggestPass, true)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(hits) && i < limit; i++ {
		out = append(out, hits[i].card())
	}
	return out, nil
}

// scored is a candidate with its rank.
type scored struct {
	candidate
	score float64
}

func (c scored) card() AppCard {
	return AppCard{AppID: c.AppID, Name: c.Name, ShortName: c.ShortName, IconURL: c.Icon, Category: c.Category, Games: c.Games}
}

func (c scored) hit() SearchHit {
	return SearchHit{AppCard: c.card(), Description: c.Description, MerchantName: c.Merchant, Launches: c.Launches}
}

// find runs a query and returns ranked hits and the corrected query.
func (s *Service) find(ctx context.Context, text string, pass int, typing bool) ([]scored, string, error) {
	if !utf8.ValidString(text) {
		return nil, "", invalid("q: not valid UTF-8")
	}
	if strings.TrimSpace(text) == "" {
		return nil, "", invalid("q: empty search")
	}
	if utf8.RuneCountInString(text) > maxQueryRunes {
		return nil, "", openmini.Errorf(openmini.ETOOLARGE, "q: longer than %d characters", maxQueryRunes)
	}
	terms := parseQuery(text, typing)
	if len(terms) == 0 {
		return nil, "", nil // only punctuation
	}
	games, err := s.gamesAllowed(ctx)
	if err != nil {
		return nil, "", err
	}
	corrected, err := s.correct(ctx, s.db, terms)
	if err != nil {
		return nil, "", fmt.Errorf("search: %w", err)
	}
	ids, err := s.candidateIDs(ctx, terms, pass)
	if err != nil {
		return nil, "", fmt.Errorf("search: %w", err)
	}
	cands, err := loadCandidates(ctx, s.db, ids, !games)
	if err != nil {
		return nil, "", fmt.Errorf("search: %w", err)
	}
	return rank(terms, cands), corrected, nil
}

// candidateIDs picks the documents to rank: the pass most popular matches
// anywhere and, when that is not all of them, the pass most popular matches
// in names (so a little-used app named for the query is not crowded out by
// popular apps that only mention it).
func (s *Service) candidateIDs(ctx context.Context, terms []qterm, pass int) ([]int64, error) {
	out, err := s.search.ids(ctx, s.db, matchQuery{terms: terms, limit: pass})
	if err != nil || len(out) < pass {
		return out, err
	}
	names, err := s.search.ids(ctx, s.db, matchQuery{terms: terms, nameOnly: true, limit: pass})
	if err != nil {
		return nil, err
	}
	seen := make(map[int64]bool, len(out))
	for _, id := range out {
		seen[id] = true
	}
	for _, id := range names {
		if !seen[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// correct gives each Latin word of four or more letters that starts no
// indexed word the closest indexed words as alternatives, and returns the
// query as corrected ("" if nothing changed).
func (s *Service) correct(ctx context.Context, q sqldb.Querier, terms []qterm) (string, error) {
	changed := false
	for i := range terms {
		t := &terms[i]
		if t.cjk || !isVocabularyWord(t.text) || maxEdits(len(t.text)) == 0 {
			continue
		}
		var one int
		err := q.QueryRow(ctx, `SELECT 1 FROM discovery_terms WHERE term >= ? AND term < ? LIMIT 1`, t.text, t.text+"{").Scan(&one)
		if err == nil {
			continue // some indexed word starts with it
		}
		if !isNotFound(err) {
			return "", err
		}
		similar, err := s.search.similarTerms(ctx, q, t.text, 40)
		if err != nil {
			return "", err
		}
		limit := maxEdits(len(t.text))
		best := limit + 1
		var alts []vocabTerm
		for _, v := range similar {
			d := editDistance(t.text, v.Term, limit)
			switch {
			case d < best:
				best, alts = d, []vocabTerm{v}
			case d == best && d <= limit:
				alts = append(alts, v)
			}
		}
		if best > limit {
			continue
		}
		sort.Slice(alts, func(i, j int) bool {
			if alts[i].Docs != alts[j].Docs {
				return alts[i].Docs > alts[j].Docs
			}
			return alts[i].Term < alts[j].Term
		})
		for j := 0; j < len(alts) && j < 3; j++ {
			t.alts = append(t.alts, alts[j].Term)
		}
		changed = true
	}
	if !changed {
		return "", nil
	}
	words := make([]string, len(terms))
	for i, t := range terms {
		words[i] = t.text
		if len(t.alts) > 0 {
			words[i] = t.alts[0]
		}
	}
	return strings.Join(words, " "), nil
}

// Ranking weights: where a term matches, then usage.
const (
	weightName  = 10.0
	weightTags  = 5.0
	weightBody  = 1.5
	weightUsage = 1.2 // per tenfold launches
)

// fieldSegments is a field split the way documents are indexed.
type fieldSegments []segment

// strength says how well term t matches the field: 1 for a whole word or a
// CJK substring, less for a word prefix or a corrected word, 0 for none.
func (f fieldSegments) strength(t qterm) float64 {
	best := 0.0
	for _, seg := range f {
		switch {
		case t.cjk:
			if seg.cjk && strings.Contains(seg.text, t.text) {
				return 1
			}
		case seg.cjk:
		case len(t.alts) > 0:
			for _, a := range t.alts {
				if seg.text == a {
					best = max(best, 0.8)
				}
			}
		case seg.text == t.text:
			return 1
		case t.prefix && strings.HasPrefix(seg.text, t.text):
			best = max(best, 0.6+0.4*float64(len(t.text))/float64(len(seg.text)))
		}
	}
	return best
}

// rank scores candidates and sorts them best first.
func rank(terms []qterm, cands []candidate) []scored {
	whole := ""
	for _, t := range terms {
		whole += t.text
	}
	out := make([]scored, len(cands))
	for i, c := range cands {
		name := fieldSegments(split(c.Name + " , " + c.ShortName))
		tags := fieldSegments(split(c.Keywords + " , " + c.Merchant + " , " + c.Category))
		var body fieldSegments
		text := 0.0
		for _, t := range terms {
			best := max(weightName*name.strength(t), weightTags*tags.strength(t))
			if best < weightBody {
				if body == nil {
					body = fieldSegments(split(c.Description))
				}
				best = max(best, weightBody*body.strength(t))
			}
			if best == 0 {
				best = weightBody / 2 // matched in the part of the description not read here
			}
			text += best
		}
		text /= float64(len(terms))
		// The whole query as the name, or its start, ranks first.
		compact := strings.Join(segmentTexts(split(c.Name)), "")
		switch {
		case compact == whole:
			text += 5
		case strings.HasPrefix(compact, whole):
			text += 2
		}
		out[i] = scored{candidate: c, score: text + weightUsage*math.Log10(1+float64(c.Launches))}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.score != b.score {
			return a.score > b.score
		}
		if a.Launches != b.Launches {
			return a.Launches > b.Launches
		}
		return a.AppID < b.AppID
	})
	return out
}

func segmentTexts(segs []segment) []string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = s.text
	}
	return out
}
