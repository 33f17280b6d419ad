package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/qr"
	"github.com/openmini/openmini/web"
)

// TestQRConsoleInBrowser walks a developer (or a merchant, who is a
// member of the organisation) through the QR pages on a phone-sized
// screen: create a code for a table, see its image, link and statistics,
// create codes for a shop's tables and download the printable kit, turn
// a code off from the list; then the pages in Chinese.
func TestQRConsoleInBrowser(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Noodle Bar", nil, nil)
	dev := &walker{t: t, ctx: testenv.Browser(t), base: w.p.URL, name: "developer's browser"}
	dev.signIn("dev@fixtures.example", "developer-password-1")

	dev.open("/console/apps/" + f.ID)
	dev.submit(`nav.tabs a[href$="/qr"]`)
	dev.contains(`main`, "No QR codes yet.")
	dev.fill(`#qr-create input[name=page]`, "pages/second", `#qr-create input[name=query]`, "table=12&store=88",
		`#qr-create input[name=label]`, "Table 12", `#qr-create input[name=sublabel]`, "Store 88 · 八十八号店")
	dev.submit(`#qr-create button[type=submit]`)
	dev.flash("QR code created.")
	dev.contains(`#qr-where`, "pages/second?store=88&table=12")
	short := dev.text(`#qr-short`)
	if !strings.HasPrefix(short, w.p.URL+"/s/") {
		t.Fatalf("the code page shows the link %q", short)
	}
	var loaded bool
	dev.run(chromedp.Poll(`document.querySelector('#qr-image').complete && document.querySelector('#qr-image').naturalWidth > 0`, &loaded))

	// Somebody scans it; the code page counts the scan.
	phone := w.p.Client()
	hostLaunch(t, w.p, phone, follow(t, w.p, phone, short).String())
	var here string
	dev.run(chromedp.Location(&here))
	dev.open(strings.TrimPrefix(here, w.p.URL))
	dev.contains(`#qr-code-stats`, "1")
	dev.contains(`#qr-days`, "1")

	// Codes for tables 1 to 6, four to an A4 page.
	dev.open("/console/apps/" + f.ID + "/qr")
	dev.fill(`#qr-batch input[name=page]`, "pages/second", `#qr-batch input[name=query]`, "store=88", `#qr-batch input[name=param]`, "table",
		`#qr-batch input[name=from]`, "1", `#qr-batch input[name=to]`, "6", `#qr-batch input[name=label_template]`, "Table {n}",
		`#qr-batch input[name=sublabel]`, "Store 88")
	dev.run(chromedp.SetValue(`#qr-batch select[name=per_page]`, "4", chromedp.ByQuery))
	dev.submit(`#qr-batch button[type=submit]`)
	dev.flash("QR codes created.")
	var pdfHref string
	dev.run(chromedp.AttributeValue(`#qr-kit-pdf`, "href", &pdfHref, nil, chromedp.ByQuery))
	if !strings.HasSuffix(pdfHref, "/kit.pdf?per_page=4") {
		t.Fatalf("kit link %q", pdfHref)
	}
	code, h, pdf := getBytes(t, w.dev, pdfHref)
	if code != 200 || h.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("the console's kit link: %d %v", code, h)
	}
	var rows int
	dev.run(chromedp.Evaluate(`document.querySelectorAll('#qr-codes li.qr-code').length`, &rows))
	if rows != 7 {
		t.Fatalf("%d codes listed, want 7", rows)
	}
	dev.contains(`#qr-totals`, "1")

	// Turn the first code off from the list; scanning it shows the notice.
	var list web.QRCodeList
	w.dev.Must(t, 200, "GET", "/api/v1/qr/codes?app_id="+f.ID, nil, &list)
	first := list.Codes[0]
	dev.submit(fmt.Sprintf(`#qr-%d form button`, first.ID))
	dev.flash("QR code turned off.")
	dev.contains(fmt.Sprintf(`#qr-%d .badge`, first.ID), "Turned off")
	var c web.QRCode
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/api/v1/qr/codes/%d", first.ID), nil, &c)
	if c.Status != qr.StatusDisabled {
		t.Fatalf("after turning off in the console: %+v", c)
	}
	// A bad batch names the problem and keeps the form.
	dev.fill(`#qr-batch input[name=from]`, "1", `#qr-batch input[name=to]`, "5000")
	dev.submit(`#qr-batch button[type=submit]`)
	dev.contains(`.error`, "at most 1000")
	var kept string
	dev.run(chromedp.Value(`#qr-batch input[name=to]`, &kept, chromedp.ByQuery))
	if kept != "5000" {
		t.Fatalf("the batch form lost its value: %q", kept)
	}

	dev.inChinese("/console/apps/"+f.ID+"/qr", fmt.Sprintf("/console/apps/%s/qr/%d", f.ID, first.ID))
}
