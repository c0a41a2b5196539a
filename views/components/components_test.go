package components_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/viewtest"
)

// labelled returns the control a <label for> points at, failing unless exactly one
// element has that id.
func labelled(t *testing.T, doc *goquery.Document, label string) *goquery.Selection {
	t.Helper()
	var control *goquery.Selection
	doc.Find("label").EachWithBreak(func(_ int, l *goquery.Selection) bool {
		if strings.Contains(l.Text(), label) {
			id := l.AttrOr("for", "")
			if id == "" {
				t.Fatalf("label %q has no for", label)
			}
			control = doc.Find("#" + id)
			return false
		}
		return true
	})
	if control == nil || control.Length() != 1 {
		t.Fatalf("label %q is not tied to exactly one control", label)
	}
	return control
}

// describedText is the text of the elements aria-describedby names, in order.
func describedText(t *testing.T, doc *goquery.Document, control *goquery.Selection) string {
	t.Helper()
	var parts []string
	for _, id := range strings.Fields(control.AttrOr("aria-describedby", "")) {
		el := doc.Find("#" + id)
		if el.Length() != 1 {
			t.Errorf("aria-describedby names %q, which is not there", id)
		}
		parts = append(parts, el.Text())
	}
	return strings.Join(parts, " | ")
}

func TestTextFieldLabelValueAndError(t *testing.T) {
	doc, _ := viewtest.Render(t, components.TextField(components.Field{
		Name: "pg_host", Label: "Host", Value: "db.internal", Required: true,
		Error: "Host is required.", Help: "Name or address of the PostgreSQL server.",
	}))
	in := labelled(t, doc, "Host")
	if goquery.NodeName(in) != "input" || in.AttrOr("type", "") != "text" || in.AttrOr("name", "") != "pg_host" {
		t.Errorf("control is <%s type=%q name=%q>", goquery.NodeName(in), in.AttrOr("type", ""), in.AttrOr("name", ""))
	}
	if in.AttrOr("value", "") != "db.internal" {
		t.Errorf("value %q: what the user typed must be kept", in.AttrOr("value", ""))
	}
	if in.AttrOr("aria-invalid", "") != "true" {
		t.Error("field with an error is not aria-invalid")
	}
	if _, ok := in.Attr("required"); !ok {
		t.Error("required field lacks required")
	}
	if got := describedText(t, doc, in); got != "Host is required. | Name or address of the PostgreSQL server." {
		t.Errorf("described by %q, want the error then the hint", got)
	}
}

func TestTextFieldWithoutError(t *testing.T) {
	doc, _ := viewtest.Render(t, components.TextField(components.Field{Name: "name", Label: "Name", Type: "email"}))
	in := labelled(t, doc, "Name")
	if _, ok := in.Attr("aria-invalid"); ok {
		t.Error("aria-invalid without an error (Pico would paint it green or red)")
	}
	if _, ok := in.Attr("aria-describedby"); ok {
		t.Error("aria-describedby with nothing to describe")
	}
	if in.AttrOr("type", "") != "email" {
		t.Errorf("type %q, want email", in.AttrOr("type", ""))
	}
	if doc.Find(".field-error").Length() != 0 {
		t.Error("error element without an error")
	}
}

// A ComboboxField is a labelled text field in the ARIA combobox pattern: it controls an
// empty, hidden listbox that asks the options URL with the field's own value; the value
// typed, the error and the hint are a text field's; its own attributes come along.
func TestComboboxField(t *testing.T) {
	doc, _ := viewtest.Render(t, components.ComboboxField(components.Field{
		Name: "source", Label: "Source", Value: "<b>orders</b>", Required: true,
		Error: "No source is named “<b>orders</b>”.", Help: "By name.", Attrs: templ.Attributes{"maxlength": "100"},
	}, "/pipelines/filter/sources", "Source names"))
	in := labelled(t, doc, "Source")
	list := doc.Find("#" + in.AttrOr("aria-controls", "-"))
	for attr, want := range map[string]string{"type": "text", "name": "source", "role": "combobox", "aria-expanded": "false",
		"aria-autocomplete": "list", "autocomplete": "off", "maxlength": "100", "value": "<b>orders</b>", "aria-invalid": "true"} {
		if got := in.AttrOr(attr, ""); got != want {
			t.Errorf("input %s=%q, want %q", attr, got, want)
		}
	}
	if _, ok := in.Attr("data-ref-filter"); !ok {
		t.Error("the input is not marked for app.js's combobox keys")
	}
	if list.Length() != 1 || list.AttrOr("role", "") != "listbox" || list.AttrOr("aria-label", "") != "Source names" ||
		list.Children().Length() != 0 || list.AttrOr("hx-get", "") != "/pipelines/filter/sources" ||
		list.AttrOr("hx-include", "") != "#"+in.AttrOr("id", "") || list.AttrOr("hx-target", "") != "this" {
		h, _ := goquery.OuterHtml(list)
		t.Errorf("listbox: %s", h)
	}
	if _, hidden := list.Attr("hidden"); !hidden {
		t.Error("the listbox shows before any suggestion")
	}
	if got := describedText(t, doc, in); got != "No source is named “<b>orders</b>”. | By name." {
		t.Errorf("described by %q", got)
	}
	if doc.Find("b").Length() != 0 {
		t.Error("the value or the message is not escaped")
	}
}

func TestNumberField(t *testing.T) {
	doc, _ := viewtest.Render(t, components.NumberField(components.Field{
		Name: "pg_port", Label: "Port", Value: "54x2", Error: "Port must be a number.",
		Attrs: templ.Attributes{"min": "1", "max": "65535"},
	}))
	in := labelled(t, doc, "Port")
	if in.AttrOr("type", "") != "number" || in.AttrOr("min", "") != "1" || in.AttrOr("max", "") != "65535" {
		t.Errorf("number input attrs: type=%q min=%q max=%q", in.AttrOr("type", ""), in.AttrOr("min", ""), in.AttrOr("max", ""))
	}
	if in.AttrOr("value", "") != "54x2" {
		t.Errorf("value %q: the typed value must be kept", in.AttrOr("value", ""))
	}
	if describedText(t, doc, in) != "Port must be a number." {
		t.Error("error not tied to the input")
	}
}

func TestPasswordFieldNeverRendersValue(t *testing.T) {
	const secret = "hunter2-s3cret"
	for _, stored := range []bool{false, true} {
		doc, raw := viewtest.Render(t, components.PasswordField(components.Field{
			Name: "pg_password", Label: "Password", Value: secret, Required: true,
			Error: "Password is required.", Attrs: templ.Attributes{"value": secret, "data-x": "1"},
		}, stored))
		if strings.Contains(raw, secret) {
			t.Fatalf("stored=%v: the secret appears in the HTML: %s", stored, raw)
		}
		in := labelled(t, doc, "Password")
		if in.AttrOr("type", "") != "password" {
			t.Errorf("type %q", in.AttrOr("type", ""))
		}
		if _, ok := in.Attr("value"); ok {
			t.Errorf("stored=%v: password input has a value attribute", stored)
		}
		if in.AttrOr("autocomplete", "") != "new-password" {
			t.Errorf("autocomplete %q: browsers would fill in the console password", in.AttrOr("autocomplete", ""))
		}
		if in.AttrOr("data-x", "") != "1" {
			t.Error("other attrs dropped")
		}
		_, required := in.Attr("required")
		if stored {
			if in.AttrOr("placeholder", "") != "unchanged" {
				t.Errorf("placeholder %q, want unchanged", in.AttrOr("placeholder", ""))
			}
			if required {
				t.Error("a stored secret's field must not be required: blank keeps it")
			}
			if !strings.Contains(describedText(t, doc, in), "Leave blank to keep") {
				t.Error("no hint that blank keeps the stored secret")
			}
		} else {
			if _, ok := in.Attr("placeholder"); ok {
				t.Error("placeholder without a stored secret")
			}
			if !required {
				t.Error("required dropped")
			}
		}
	}
}

func TestSelectField(t *testing.T) {
	doc, _ := viewtest.Render(t, components.SelectField(components.Field{
		Name: "source_id", Label: "Source", Value: "2", Placeholder: "Choose a source…", Error: "Pick one.",
	}, []components.Option{{Value: "1", Label: "orders-db"}, {Value: "2", Label: "billing-db"}, {Value: "3", Label: "old", Disabled: true}}))
	sel := labelled(t, doc, "Source")
	if goquery.NodeName(sel) != "select" || sel.AttrOr("aria-invalid", "") != "true" {
		t.Errorf("<%s aria-invalid=%q>", goquery.NodeName(sel), sel.AttrOr("aria-invalid", ""))
	}
	opts := sel.Find("option")
	if opts.Length() != 4 || opts.First().AttrOr("value", "x") != "" {
		t.Errorf("%d options, first value %q", opts.Length(), opts.First().AttrOr("value", "x"))
	}
	selected := sel.Find("option[selected]")
	if selected.Length() != 1 || selected.Text() != "billing-db" {
		t.Errorf("selected %d options: %q", selected.Length(), selected.Text())
	}
	if _, ok := sel.Find(`option[value="3"]`).Attr("disabled"); !ok {
		t.Error("disabled option not disabled")
	}
	if describedText(t, doc, sel) != "Pick one." {
		t.Error("error not tied to the select")
	}
}

func TestStatusBadge(t *testing.T) {
	for status, class := range map[string]string{
		"RUNNING": "badge-running", "PAUSED": "badge-paused", "ERROR": "badge-error",
		"START": "badge-start", "PAUSE": "badge-pause", "REFRESH": "badge-refresh", "running": "badge-running",
	} {
		doc, _ := viewtest.Render(t, components.StatusBadge(status))
		b := doc.Find(`[data-testid="status-badge"]`)
		if !b.HasClass("badge") || !b.HasClass(class) {
			t.Errorf("%s: class %q, want badge %s", status, b.AttrOr("class", ""), class)
		}
		if got := strings.TrimSpace(b.Text()); got != strings.ToUpper(status) {
			t.Errorf("%s: text %q: the status must be spelled out, not only coloured", status, got)
		}
	}
	doc, _ := viewtest.Render(t, components.StatusBadge("WEIRD"))
	if b := doc.Find(".badge"); b.AttrOr("class", "") != "badge" || strings.TrimSpace(b.Text()) != "WEIRD" {
		t.Errorf("unknown status: class %q text %q", b.AttrOr("class", ""), b.Text())
	}
}

func TestCheckResults(t *testing.T) {
	doc, _ := viewtest.Render(t, components.CheckResults([]components.Check{
		{Name: "Reachable", Status: "ok", Message: "Connected as rosetta."},
		{Name: "Replication slot", Status: "warn", Message: "Slot rosetta_1 does not exist yet."},
		{Name: "wal_level", Status: "fail", Message: "wal_level is replica, not logical."},
		{Name: "Mystery", Status: "??"},
	}))
	items := doc.Find(`[data-testid="check-results"] li`)
	if items.Length() != 4 {
		t.Fatalf("%d checks", items.Length())
	}
	want := []struct{ status, label string }{{"ok", "OK"}, {"warn", "Warning"}, {"fail", "Failed"}, {"fail", "Failed"}}
	items.Each(func(i int, li *goquery.Selection) {
		if li.AttrOr("data-status", "") != want[i].status || !li.HasClass("check-"+want[i].status) {
			t.Errorf("check %d: data-status %q class %q", i, li.AttrOr("data-status", ""), li.AttrOr("class", ""))
		}
		if got := strings.TrimSpace(li.Find(`[data-testid="check-status"]`).Text()); got != want[i].label {
			t.Errorf("check %d: status text %q, want %q", i, got, want[i].label)
		}
	})
	if got := items.Eq(2).Find(".check-message").Text(); got != "wal_level is replica, not logical." {
		t.Errorf("message %q", got)
	}
	if _, raw := viewtest.Render(t, components.CheckResults(nil)); raw != "" {
		t.Errorf("no checks rendered %q", raw)
	}
}

func TestFlashListEscapes(t *testing.T) {
	doc, raw := viewtest.Render(t, components.FlashList([]components.Flash{{Kind: "bogus", Message: `<script>alert(1)</script>`}}))
	if strings.Contains(raw, "<script>") {
		t.Error("flash message not escaped")
	}
	if f := doc.Find(".flash"); !f.HasClass("flash-info") {
		t.Errorf("unknown kind rendered as %q, want flash-info", f.AttrOr("class", ""))
	}
}

func TestWithQuery(t *testing.T) {
	for _, tc := range []struct{ base, key, value, want string }{
		{"/sources", "offset", "50", "/sources?offset=50"},
		{"/sources?q=prod&offset=50", "offset", "", "/sources?q=prod"},
		{"/sources?sort=-name&limit=20", "offset", "40", "/sources?limit=20&offset=40&sort=-name"},
		{"https://evil.example/x?y=1", "offset", "10", "/x?offset=10&y=1"},
		{"//evil.example/x", "a", "b", "/x?a=b"},
		{"/wal?q=a%26b#frag", "limit", "5", "/wal?limit=5&q=a%26b"},
	} {
		if got := components.WithQuery(tc.base, tc.key, tc.value); got != tc.want {
			t.Errorf("WithQuery(%q, %q, %q) = %q, want %q", tc.base, tc.key, tc.value, got, tc.want)
		}
	}
}

func query(t *testing.T, href string) url.Values {
	t.Helper()
	u, err := url.Parse(href)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestPagination(t *testing.T) {
	doc, _ := viewtest.Render(t, components.Pagination(components.Pager{
		Total: 250, Limit: 20, Offset: 100, BaseURL: "/sources?q=prod&sort=name&offset=100", Target: "#sources-list",
	}))
	nav := doc.Find(`nav[data-testid="pagination"]`)
	if nav.AttrOr("aria-label", "") != "Pagination" {
		t.Errorf("nav aria-label %q", nav.AttrOr("aria-label", ""))
	}
	if got := nav.Find(".summary").Text(); got != "Showing 101–120 of 250" {
		t.Errorf("summary %q", got)
	}
	current := nav.Find(`a[aria-current="page"]`)
	if current.Length() != 1 || current.Text() != "6" {
		t.Fatalf("current page link %q (%d)", current.Text(), current.Length())
	}
	var labels []string
	nav.Find("li").Each(func(_ int, li *goquery.Selection) { labels = append(labels, strings.TrimSpace(li.Text())) })
	if got := strings.Join(labels, " "); got != "Previous 1 … 4 5 6 7 8 … 13 Next" {
		t.Errorf("links %q", got)
	}
	nav.Find("a").Each(func(_ int, a *goquery.Selection) {
		href := a.AttrOr("href", "")
		q := query(t, href)
		if q.Get("q") != "prod" || q.Get("sort") != "name" {
			t.Errorf("%s: filters lost in %q", a.Text(), href)
		}
		if a.AttrOr("hx-get", "") != href || a.AttrOr("hx-target", "") != "#sources-list" ||
			a.AttrOr("hx-push-url", "") != "true" || a.AttrOr("hx-swap", "") != "outerHTML" {
			t.Errorf("%s: htmx attributes missing or inconsistent", a.Text())
		}
	})
	if q := query(t, nav.Find(`a[aria-label="Page 1"]`).AttrOr("href", "")); q.Has("offset") {
		t.Error("page 1 link carries an offset")
	}
	if q := query(t, nav.Find(`a[aria-label="Next page"]`).AttrOr("href", "")); q.Get("offset") != "120" {
		t.Errorf("next offset %q", q.Get("offset"))
	}
	if q := query(t, nav.Find(`a[aria-label="Previous page"]`).AttrOr("href", "")); q.Get("offset") != "80" {
		t.Errorf("previous offset %q", q.Get("offset"))
	}
}

func TestPaginationEdges(t *testing.T) {
	// First page, no htmx target: plain links, Previous disabled.
	doc, _ := viewtest.Render(t, components.Pagination(components.Pager{Total: 45, Limit: 20, BaseURL: "/audit"}))
	if doc.Find("[hx-get]").Length() != 0 {
		t.Error("hx-get without a target")
	}
	if doc.Find(`span[aria-disabled="true"]`).Text() != "Previous" {
		t.Error("Previous not disabled on page 1")
	}
	// One page: the summary only.
	doc, _ = viewtest.Render(t, components.Pagination(components.Pager{Total: 3, Limit: 20, BaseURL: "/audit"}))
	if doc.Find("a").Length() != 0 || doc.Find(".summary").Text() != "Showing 1–3 of 3" {
		t.Errorf("single page: %d links, summary %q", doc.Find("a").Length(), doc.Find(".summary").Text())
	}
	// No limit: nothing.
	if _, raw := viewtest.Render(t, components.Pagination(components.Pager{Total: 3})); raw != "" {
		t.Errorf("limit 0 rendered %q", raw)
	}
	// Nothing matches: nothing (the list's empty state speaks instead).
	if _, raw := viewtest.Render(t, components.Pagination(components.Pager{Total: 0, Limit: 20, BaseURL: "/audit"})); raw != "" {
		t.Errorf("an empty list rendered %q", raw)
	}
}

// A total above the count cap is an estimate, and the summary says so; large numbers are
// grouped by thousands.
func TestPaginationEstimatedTotal(t *testing.T) {
	doc, _ := viewtest.Render(t, components.Pagination(components.Pager{Total: 100_000, Estimate: true, Limit: 50, BaseURL: "/pipelines"}))
	if got := doc.Find(".summary").Text(); got != "Showing 1–50 of about 100,000" {
		t.Errorf("estimated summary %q", got)
	}
	doc, _ = viewtest.Render(t, components.Pagination(components.Pager{Total: 1234, Limit: 50, Offset: 1200, BaseURL: "/pipelines"}))
	if got := doc.Find(".summary").Text(); got != "Showing 1,201–1,234 of 1,234" {
		t.Errorf("exact summary %q", got)
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := components.Count(n, false); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
	if got := components.Count(5000, true); got != "about 5,000" {
		t.Errorf("estimate: %q", got)
	}
}

func TestSortHeader(t *testing.T) {
	base := "/sources?q=prod&sort=name&offset=40"
	for _, tc := range []struct{ current, ariaSort, nextSort string }{
		{"name", "ascending", "-name"},
		{"-name", "descending", "name"},
		{"created_at", "none", "name"},
	} {
		_, raw := viewtest.Render(t, components.SortHeader(components.SortColumn{
			Key: "name", Label: "Name", Current: tc.current, BaseURL: base, Target: "#sources-list",
		}))
		// A <th> only parses inside a table.
		doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><thead><tr>" + raw + "</tr></thead></table>"))
		if err != nil {
			t.Fatal(err)
		}
		th := doc.Find("th")
		if th.AttrOr("aria-sort", "") != tc.ariaSort || th.AttrOr("scope", "") != "col" {
			t.Errorf("current %q: aria-sort %q scope %q", tc.current, th.AttrOr("aria-sort", ""), th.AttrOr("scope", ""))
		}
		a := th.Find("a")
		q := query(t, a.AttrOr("href", ""))
		if q.Get("sort") != tc.nextSort || q.Has("offset") || q.Get("q") != "prod" {
			t.Errorf("current %q: link %q, want sort=%s, no offset, q kept", tc.current, a.AttrOr("href", ""), tc.nextSort)
		}
		if a.AttrOr("hx-get", "") != a.AttrOr("href", "") {
			t.Error("hx-get differs from href")
		}
	}
}

func TestConfirmDelete(t *testing.T) {
	doc, _ := viewtest.Render(t, components.ConfirmDelete(components.DeleteConfirm{
		Action: "/sources/12/delete", CSRFToken: "tok", What: `source "orders-db"`,
		Consequence: "Its WAL samples are deleted with it.",
	}))
	d := doc.Find(`details[data-testid="confirm-delete"]`)
	form := d.Find("form")
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/sources/12/delete" {
		t.Errorf("form method %q action %q", form.AttrOr("method", ""), form.AttrOr("action", ""))
	}
	if form.Find(`input[type=hidden][name="_csrf"]`).AttrOr("value", "") != "tok" {
		t.Error("no CSRF field")
	}
	if !strings.Contains(form.Text(), `Delete source "orders-db"?`) || !strings.Contains(form.Text(), "WAL samples") {
		t.Errorf("confirmation text %q", form.Text())
	}
	if form.Find(`button[type=submit].danger`).Length() != 1 {
		t.Error("no danger submit button")
	}
}

func TestActionForm(t *testing.T) {
	doc, _ := viewtest.Render(t, components.ActionForm(components.Action{
		URL: "/pipelines/7/start", Label: "Start", CSRFToken: "tok",
		Attrs: templ.Attributes{"hx-post": "/pipelines/7/start", "hx-target": "#pipeline"},
	}))
	form := doc.Find("form")
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/pipelines/7/start" || form.AttrOr("hx-post", "") == "" {
		t.Errorf("form %v", form.Nodes[0].Attr)
	}
	if form.Find(`input[name="_csrf"]`).AttrOr("value", "") != "tok" || strings.TrimSpace(form.Find("button").Text()) != "Start" {
		t.Error("CSRF field or button missing")
	}
}

func TestErrorBody(t *testing.T) {
	doc, raw := viewtest.Render(t, components.ErrorBody(components.ErrorInfo{
		Status: 500, Title: "Something went wrong", Message: "internal error", RequestID: "req-42",
	}))
	if doc.Find("h1").Text() != "Something went wrong" || doc.Find(".error-status").Text() != "Error 500" {
		t.Errorf("error body %q", raw)
	}
	if doc.Find(`[data-testid="request-id"]`).Text() != "req-42" {
		t.Error("request id not shown")
	}
}

func TestEmptyStateAndPageHeader(t *testing.T) {
	action := templ.Raw(`<a href="/sources/new" role="button">Add source</a>`)
	doc, raw := viewtest.Render(t, viewtest.WithChildren(components.EmptyState("No sources yet", "Register one."), action))
	es := doc.Find(`[data-testid="empty-state"]`)
	if es.Find("h2").Text() != "No sources yet" || es.Find(`a[href="/sources/new"]`).Length() != 1 {
		t.Errorf("empty state %q", raw)
	}
	doc, raw = viewtest.Render(t, viewtest.WithChildren(components.PageHeader("Sources", "PostgreSQL databases Rosetta reads from."), action))
	if doc.Find(".page-header h1").Text() != "Sources" || doc.Find(".page-header .actions a").Length() != 1 {
		t.Errorf("page header %q", raw)
	}
}
