package discovery

import (
	"fmt"
	"strings"
)

// ReasonKind says why an app is recommended.
type ReasonKind string

// Reason kinds, and which Reason fields each sets.
const (
	ReasonTimeOfDay ReasonKind = "time_of_day"       // DayPart; Count: launches in that part of the day
	ReasonFrequent  ReasonKind = "frequent"          // Count: the user's launches
	ReasonAlsoUsed  ReasonKind = "also_used"         // AppID, AppName: the user's app that led here
	ReasonSpending  ReasonKind = "spending_category" // Category; Count: the user's payments in it
	ReasonMerchant  ReasonKind = "merchant"          // AppID, AppName: where the user paid; Merchant
	ReasonNearby    ReasonKind = "nearby"            // DistanceM
	ReasonTrending  ReasonKind = "trending"          // Rank; Count: users in the last 3 days
	ReasonPopular   ReasonKind = "popular"           // Count: launches
)

// Reason is why an app is recommended, as data: the UI renders it in the
// user's language (Text does it for English and Chinese).
type Reason struct {
	Kind      ReasonKind `json:"kind"`
	AppID     string     `json:"app_id,omitempty"`
	AppName   string     `json:"app_name,omitempty"`
	Category  string     `json:"category,omitempty"`
	Merchant  string     `json:"merchant,omitempty"`
	DayPart   string     `json:"day_part,omitempty"` // morning, afternoon, evening, night
	DistanceM int        `json:"distance_m,omitempty"`
	Count     int64      `json:"count,omitempty"`
	Rank      int        `json:"rank,omitempty"`
}

var dayPartZH = map[string]string{"morning": "早上", "afternoon": "下午", "evening": "晚上", "night": "深夜"}

// Text renders the reason for a user: lang "zh" (any "zh-*") gives
// Simplified Chinese, anything else English.
func (r Reason) Text(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "zh") {
		return r.textZH()
	}
	return r.textEN()
}

func (r Reason) textEN() string {
	switch r.Kind {
	case ReasonTimeOfDay:
		return "You often use it in the " + r.DayPart
	case ReasonFrequent:
		return "You use it often"
	case ReasonAlsoUsed:
		return "People who use " + r.AppName + " also use this"
	case ReasonSpending:
		return "Because you often pay for " + r.Category
	case ReasonMerchant:
		if r.Merchant != "" {
			return "From " + r.Merchant + ", where you paid"
		}
		return "From the merchant of " + r.AppName
	case ReasonNearby:
		return distanceEN(r.DistanceM) + " away"
	case ReasonTrending:
		return fmt.Sprintf("Trending: #%d", r.Rank)
	case ReasonPopular:
		return "Popular"
	}
	return "Recommended"
}

func (r Reason) textZH() string {
	switch r.Kind {
	case ReasonTimeOfDay:
		return "你常在" + dayPartZH[r.DayPart] + "使用"
	case ReasonFrequent:
		return "你经常使用"
	case ReasonAlsoUsed:
		return "使用「" + r.AppName + "」的人也在用"
	case ReasonSpending:
		return "你常在「" + r.Category + "」消费"
	case ReasonMerchant:
		if r.Merchant != "" {
			return "来自你付过款的「" + r.Merchant + "」"
		}
		return "来自「" + r.AppName + "」的商家"
	case ReasonNearby:
		return "距你" + distanceZH(r.DistanceM)
	case ReasonTrending:
		return fmt.Sprintf("热门第 %d 名", r.Rank)
	case ReasonPopular:
		return "大家都在用"
	}
	return "为你推荐"
}

func distanceEN(m int) string {
	if m < 1000 {
		return fmt.Sprintf("%d m", roundTo(m, 10))
	}
	return fmt.Sprintf("%.1f km", float64(m)/1000)
}

func distanceZH(m int) string {
	if m < 1000 {
		return fmt.Sprintf("%d米", roundTo(m, 10))
	}
	return fmt.Sprintf("%.1f公里", float64(m)/1000)
}

func roundTo(v, step int) int { return (v + step/2) / step * step }
