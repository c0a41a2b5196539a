package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/web/webtest"
)

func validDestination(name string) url.Values {
	return url.Values{"name": {name}, "snowflake_account": {"acme-analytics"}, "snowflake_user": {"ROSETTA"},
		"snowflake_database": {"RAW"}, "snowflake_schema": {"ORDERS"}, "snowflake_role": {"LOADER"},
		"snowflake_private_key_path": {"/etc/rosetta/key.p8"}, "snowflake_host": {""}, "snowflake_warehouse": {"LOAD_WH"},
		"snowflake_private_key_passphrase": {"open-sesame"}}
}

func TestConsoleDestinationsList(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	for _, n := range []string{"analytics", "finance", "analytics-eu"} {
		mkDestination(t, a, n)
	}
	doc, got := listed(t, a, "/destinations?sort=-name", "destination-row")
	if strings.Join(got, ",") != "finance,analytics-eu,analytics" {
		t.Errorf("rows %v", got)
	}
	row := doc.Find(`[data-testid="destination-row"]`).First()
	for _, want := range []string{"acme-analytics", "RAW.ORDERS", "ROSETTA · LOADER"} {
		if !strings.Contains(text(row), want) {
			t.Errorf("row %q lacks %q", text(row), want)
		}
	}
	r := a.Do(http.MethodGet, "/destinations?q=analytics", nil, htmx)
	expectFragment(t, r)
	frag := parse(t, r)
	if frag.Find("body > section#destinations-list").Length() != 1 || frag.Find(`[data-testid="destination-row"]`).Length() != 2 {
		t.Errorf("search fragment:\n%s", r.Body)
	}
}

func TestConsoleDestinationFormValidation(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	doc, _ := get(t, a, "/destinations/new", http.StatusOK)
	if doc.Find(`form#destination-form[method=post][action="/destinations"] input[name="_csrf"]`).Length() != 1 {
		t.Fatal("no destination form with a CSRF field")
	}
	bad := url.Values{"name": {""}, "snowflake_account": {"bad account"}, "snowflake_user": {"no spaces allowed"},
		"snowflake_database": {"1RAW"}, "snowflake_schema": {""}, "snowflake_role": {"bad-role"},
		"snowflake_private_key_path": {"relative/key.p8"}, "snowflake_host": {"bad host"}, "snowflake_warehouse": {"bad wh"},
		"snowflake_private_key_passphrase": {strings.Repeat("p", 2000)}}
	want := []string{"name", "snowflake_account", "snowflake_user", "snowflake_database", "snowflake_schema", "snowflake_role",
		"snowflake_private_key_path", "snowflake_host", "snowflake_warehouse", "snowflake_private_key_passphrase"}
	for _, hx := range []bool{false, true} {
		form, body := refusedForm(t, a, "/destinations", bad, hx, "destination-form")
		errs := fieldErrors(form)
		for _, f := range want {
			if errs[f] == "" {
				t.Errorf("htmx=%v: no message beside %s (%v)", hx, f, errs)
			}
		}
		for _, f := range []string{"snowflake_account", "snowflake_user", "snowflake_private_key_path", "snowflake_host", "snowflake_warehouse"} {
			if v, _ := inputValue(form, f); v != bad.Get(f) {
				t.Errorf("%s = %q, want what was typed", f, v)
			}
		}
		if strings.Contains(body, "ppppp") {
			t.Error("the passphrase is echoed")
		}
	}
}

func TestConsoleDestinationCreateEditDelete(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	loc, id, doc, r := createThroughForm(t, a, "/destinations", validDestination("analytics"))
	details := text(doc.Find(`[data-testid="destination-details"]`))
	for _, want := range []string{"acme-analytics", "acme-analytics.snowflakecomputing.com", "the account's default", "LOAD_WH",
		"RAW.ORDERS", "/etc/rosetta/key.p8", "stored (encrypted)"} {
		if !strings.Contains(details, want) {
			t.Errorf("destination page lacks %q: %s", want, details)
		}
	}
	if strings.Contains(string(r.Body)+doc.Text(), "open-sesame") {
		t.Fatal("the passphrase is shown")
	}

	// edit: the passphrase shows "unchanged"; blank keeps it, the checkbox removes it
	doc, _ = get(t, a, loc+"/edit", http.StatusOK)
	form := doc.Find("form#destination-form")
	if v, _ := inputValue(form, "snowflake_host"); v != "" {
		t.Errorf("a default host is shown as configured: %q", v)
	}
	if pp := form.Find(`input[name="snowflake_private_key_passphrase"]`); pp.AttrOr("placeholder", "") != "unchanged" {
		t.Errorf("passphrase placeholder %q", pp.AttrOr("placeholder", ""))
	}
	if form.Find(`input[type=checkbox][name="clear_passphrase"]`).Length() != 1 {
		t.Error("no way to remove a stored passphrase")
	}
	edit := validDestination("analytics-eu")
	edit.Set("snowflake_private_key_passphrase", "")
	edit.Set("snowflake_warehouse", "")
	redirectTo(t, post(a, loc, edit))
	d, err := a.Catalog.GetDestination(context.Background(), id)
	if err != nil || d.Name != "analytics-eu" || !d.SnowflakePrivateKeyPassphraseSet || d.SnowflakeWarehouse != nil {
		t.Errorf("after edit: %+v %v", d, err)
	}
	edit.Set("clear_passphrase", "1")
	redirectTo(t, post(a, loc, edit, "X-Ignored: 1"))
	if d, _ = a.Catalog.GetDestination(context.Background(), id); d.SnowflakePrivateKeyPassphraseSet {
		t.Error("the passphrase was not removed")
	}

	// a duplicate, in words
	mkDestination(t, a, "finance")
	edit.Set("name", "Finance")
	r = post(a, loc, edit, htmx)
	if r.Code != http.StatusConflict || !strings.Contains(fieldErrors(parse(t, r).Selection)["name"], "already used by another destination") {
		t.Errorf("duplicate: status %d, %v", r.Code, fieldErrors(parse(t, r).Selection))
	}

	// delete refused while used, naming the pipeline; then allowed
	src := mkSource(t, a, "orders")
	p := mkPipeline(t, a, "orders-to-eu", src.ID, id)
	doc, _ = get(t, a, loc, http.StatusOK)
	if doc.Find(`[data-testid="confirm-delete"]`).Length() != 0 ||
		text(doc.Find(fmt.Sprintf(`[data-testid="delete-blocked"] a[href="/pipelines/%d"]`, p.ID))) != "orders-to-eu" {
		t.Errorf("a destination in use still offers delete: %q", text(doc.Find(`.danger-zone`)))
	}
	r = post(a, loc+"/delete", nil)
	if got := redirectTo(t, r); got != loc {
		t.Fatalf("refused delete redirects to %q", got)
	}
	if doc, _ := followFlash(t, a, r, loc); text(doc.Find(fmt.Sprintf(`#flash .flash-error a[href="/pipelines/%d"]`, p.ID))) != "orders-to-eu" {
		t.Error("refusal flash does not link the pipeline")
	}
	if err := a.Catalog.DeletePipeline(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	if got := redirectTo(t, post(a, loc+"/delete", nil)); got != "/destinations" {
		t.Errorf("delete redirects to %q", got)
	}
	get(t, a, loc, http.StatusNotFound)
}
