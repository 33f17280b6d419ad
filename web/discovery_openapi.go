package web

import (
	"net/http"

	"github.com/openmini/openmini/discovery"
)

// tagDiscovery groups analytics and the directory feed in the OpenAPI
// document.
const (
	tagDiscovery            = "Analytics and directory"
	tagDiscoveryDescription = "An app's analytics (launches, users, sources, sessions, retention, payments, QR scan to payment) as JSON or CSV, " +
		"and the public directory feed of published mini programs for third-party stores."
)

// analyticsRange are the analytics operations' query parameters.
var analyticsRange = []param{
	{"from", "string", "First day, YYYY-MM-DD (default: 29 days before to)."},
	{"to", "string", "Last day, YYYY-MM-DD, inclusive (default: today). At most 366 days."},
	{"tz", "string", "IANA time zone where days begin, e.g. Asia/Shanghai (default UTC)."},
	{"currency", "string", "ISO 4217 currency whose payments are added up (default: the platform's)."},
}

// discoveryAPIOperations documents the analytics API and the directory
// feed (see apiOperations).
func discoveryAPIOperations() []apiOp {
	const ok = http.StatusOK
	return []apiOp{
		op("GET /api/v1/apps/{appID}/analytics", "getAppAnalytics", "An app's analytics over a range of days", tagDiscovery, authCaller, nil, discovery.Report{}, ok).
			describe("Per day and in total: launches (anonymous ones too), unique and new users, launches by scene (qr, search, recommendation, channel, share, recent, favourite, link, miniprogram), " +
				"average foreground session, day-1 and day-7 retention of the day's new users (null until known), payments (count, amount in minor units), " +
				"QR scans, QR launches, scanners and those who paid within 24 hours of scanning, with a row per QR code. Payments and scans reach analytics within about two minutes.").
			withQuery(analyticsRange...),
		op("GET /api/v1/apps/{appID}/analytics/csv", "getAppAnalyticsCSV", "An app's analytics as CSV, one row per day", tagDiscovery, authCaller, nil, rawBody("text/csv"), ok).
			describe("Amounts in minor units, rates as fractions with four decimals (empty when unknown), session length in seconds.").
			withQuery(analyticsRange...),
		op("GET /api/v1/directory", "getDirectory", "The public directory of published mini programs", tagDiscovery, authPublic, nil, discovery.FeedPage{}, ok).
			describe("Pages through every mini program listed in discovery, oldest change first: follow next_cursor until it is empty. "+
				"Every answer has a strong ETag; send it back in If-None-Match to get 304 Not Modified when the page has not changed. "+
				"With updated_since (the last updated_at you stored, inclusive) only changes come back, including mini programs that left the directory "+
				"({\"id\", \"updated_at\", \"removed\": true}); overlap it by a minute, as changes on several servers can commit slightly out of order. No credentials needed; any web page may read it (CORS).").
			withQuery(param{"cursor", "string", "next_cursor of the previous page."}, param{"limit", "integer", "Items per page: 1 to 500, default 100."},
				param{"updated_since", "string", "Only entries changed at or after this RFC 3339 time."}),
		op("GET /api/v1/directory/{appID}/qr.png", "getDirectoryQR", "A listed mini program's QR code (its launch link)", tagDiscovery, authPublic, nil, rawBody("image/png"), ok).
			describe("The qr_image_url of the directory feed: a PNG of the app's launch link, counted as a QR launch when scanned.").
			withQuery(param{"size", "integer", "Image edge in pixels, 128 to 1024 (default 512)."}),
	}
}
