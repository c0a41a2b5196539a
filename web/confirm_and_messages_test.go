package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// Refresh and pause ask first, in place (the disclosure delete uses) and, at GET on the
// action's URL, as a page of their own with a POST form: no JavaScript needed.
func TestConsoleCostlyActionsAskFirst(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src := mkSource(t, a, "orders")
	dst := mkDestination(t, a, "dw")
	p := mkPipeline(t, a, "orders-to-dw", src.ID, dst.ID)
	path := fmt.Sprintf("/pipelines/%d", p.ID)

	doc, _ := get(t, a, "/pipelines", http.StatusOK)
	row := doc.Find(fmt.Sprintf("#pipeline-%d", p.ID))
	ref := row.Find(`details[data-testid="confirm-refresh"]`)
	if ref.Length() != 1 || ref.AttrOr("open", "none") != "none" {
		t.Fatalf("the row's refresh does not ask first:\n%s", goquery.NewDocumentFromNode(row.Get(0)).Text())
	}
	if f := ref.Find("form"); f.AttrOr("method", "") != "post" || f.AttrOr("action", "") != path+"/refresh" ||
		!strings.Contains(text(f), "fresh snapshot") {
		t.Errorf("refresh confirmation: %q", text(f))
	}
	if row.Find(`[data-action="start"]`).Closest("details").Length() != 0 {
		t.Error("start asks for a confirmation: it costs nothing")
	}

	for _, c := range []struct{ action, says string }{
		{"refresh", "fresh snapshot"},
		{"pause", "keeps retaining WAL"},
	} {
		doc, _ := get(t, a, path+"/"+c.action, http.StatusOK)
		conf := doc.Find(`[data-testid="confirm-page"] details[data-testid="confirm-` + c.action + `"]`)
		if _, open := conf.Attr("open"); !open || !strings.Contains(text(conf), c.says) || !strings.Contains(text(conf), "orders-to-dw") {
			t.Errorf("GET %s: confirmation %q", c.action, text(conf))
		}
		form := conf.Find("form")
		if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != path+"/"+c.action ||
			form.Find(`input[name="_csrf"], input[type=hidden]`).Length() == 0 {
			t.Errorf("GET %s: form %v", c.action, form.Nodes)
		}
		if doc.Find(`[data-testid="confirm-cancel"]`).AttrOr("href", "") != path {
			t.Errorf("GET %s: no way back", c.action)
		}
		// looking changed nothing
		if got, _ := a.Catalog.GetPipeline(t.Context(), p.ID); got.Status != catalog.DesiredPause {
			t.Fatalf("GET %s changed the pipeline: %s", c.action, got.Status)
		}
	}
	if _, err := a.Catalog.Start(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	doc, _ = get(t, a, path, http.StatusOK)
	if doc.Find(`[data-testid="pipeline-status"] details[data-testid="confirm-pause"] button[data-action="pause"]`).Length() != 1 {
		t.Error("the detail page's pause does not ask first")
	}
	// viewers are not offered it
	a.Browser(auth.Viewer).Get(path+"/refresh").Expect(t, http.StatusForbidden)
}

func TestConsoleTokenRevokeAsksFirst(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	b := a.Browser(auth.Viewer)
	b.PostForm("/settings/tokens", url.Values{"name": {"ci"}, "expires": {"30d"}}).Expect(t, http.StatusCreated)
	page := b.Get("/settings/tokens").Expect(t, http.StatusOK).Doc(t)
	row := page.Find(`[data-testid="token-row"]`).FilterFunction(func(_ int, r *goquery.Selection) bool {
		return text(r.Find("td").First()) == "ci"
	})
	id := row.AttrOr("data-token-id", "")
	conf := row.Find(`details[data-testid="confirm-revoke"]`)
	if conf.Length() != 1 || !strings.Contains(text(conf), "refused from its next request") ||
		conf.Find("form").AttrOr("action", "") != "/settings/tokens/"+id+"/revoke" {
		t.Fatalf("revoke does not ask first: %q", text(row))
	}
	doc := b.Get("/settings/tokens/"+id+"/revoke").Expect(t, http.StatusOK).Doc(t)
	if c := doc.Find(`[data-testid="confirm-page"] details[data-testid="confirm-revoke"][open] form[method="post"]`); !strings.Contains(text(c), "“ci”") {
		t.Errorf("revoke confirmation page: %q", text(doc.Find("main")))
	}
	// another user's token is not there to confirm
	a.Browser(auth.Operator).Get("/settings/tokens/"+id+"/revoke").Expect(t, http.StatusNotFound)
	if st := b.Get("/settings/tokens").Doc(t).Find(`[data-token-id="`+id+`"]`).AttrOr("data-state", ""); st != "active" {
		t.Errorf("looking at the confirmation revoked the token: %s", st)
	}
}

// Every form names the field in each message, the same way ("Name is required."): the
// entity forms, tokens, users and the password form, each submitted empty.
func TestEveryFormNamesTheFieldInItsMessages(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	admin := a.Browser(auth.Admin)
	forms := []struct {
		name string
		r    *webtest.Response
	}{
		{"source", post(a, "/sources", url.Values{})},
		{"destination", post(a, "/destinations", url.Values{})},
		{"pipeline", post(a, "/pipelines", url.Values{})},
		{"token", admin.PostForm("/settings/tokens", url.Values{})},
		{"user", admin.PostForm("/users", url.Values{})},
		{"password", admin.PostForm("/settings/password", url.Values{})},
	}
	for _, f := range forms {
		if f.r.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s form submitted empty: status %d", f.name, f.r.Code)
			continue
		}
		fields := parse(t, f.r).Find(`.field:has([data-testid="field-error"])`)
		if fields.Length() == 0 {
			t.Errorf("%s form: no message beside any field", f.name)
		}
		fields.Each(func(_ int, field *goquery.Selection) {
			label := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(field.Find("label").First().Text()), "*"))
			msg := text(field.Find(`[data-testid="field-error"]`))
			if label == "" || !strings.HasPrefix(msg, label+" ") || !strings.HasSuffix(msg, ".") {
				t.Errorf("%s form: message %q beside %q does not name its field as a sentence", f.name, msg, label)
			}
		})
	}
}
