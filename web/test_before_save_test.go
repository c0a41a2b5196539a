package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/snowflake/sftest"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

func countSources(t *testing.T, a *webtest.App) int64 {
	t.Helper()
	p, err := a.Catalog.ListSources(context.Background(), catalog.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Total
}

func countDestinations(t *testing.T, a *webtest.App) int64 {
	t.Helper()
	p, err := a.Catalog.ListDestinations(context.Background(), catalog.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Total
}

// POST /api/v1/sources/test and /destinations/test run the checks on a body that is
// never saved; a bad body is refused as a create would refuse it.
func TestAPITestBeforeSave(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src := testdb.NewSource(t, testdb.SourceOptions{})
	r := a.Do("POST", "/api/v1/sources/test", sourceFor("orders", src)).Expect(t, http.StatusOK).Map(t)
	checks, _ := r["checks"].([]any)
	if r["ok"] != true || len(checks) < 4 {
		t.Errorf("test of a good source: %v", r)
	}
	bad := sourceFor("orders", src)
	bad["pg_password"] = "wrong"
	if r := a.Do("POST", "/api/v1/sources/test", bad).Expect(t, http.StatusOK).Map(t); r["ok"] != false {
		t.Errorf("a wrong password passes the test: %v", r)
	}
	pr := expectProblem(t, a.Do("POST", "/api/v1/sources/test", map[string]any{"name": "x", "pg_host": "not a host"}), http.StatusUnprocessableEntity)
	if f := fieldsOf(pr); f["pg_host"] == "" || f["pg_password"] == "" || f["publication_name"] == "" {
		t.Errorf("422 does not name every bad field: %v", f)
	}

	d := a.Do("POST", "/api/v1/destinations/test", startableDestBody("dw")).Expect(t, http.StatusOK).Map(t)
	if checks, _ := d["checks"].([]any); len(checks) == 0 || d["fingerprint"] == "" {
		t.Errorf("destination test: %v", d)
	}
	pr = expectProblem(t, a.Do("POST", "/api/v1/destinations/test", map[string]any{"name": ""}), http.StatusUnprocessableEntity)
	if f := fieldsOf(pr); f["name"] == "" || f["snowflake_account"] == "" {
		t.Errorf("destination 422: %v", f)
	}
	if n, m := countSources(t, a), countDestinations(t, a); n != 0 || m != 0 {
		t.Errorf("testing saved %d sources and %d destinations", n, m)
	}
}

func realSourceForm(name string, src testdb.Source) url.Values {
	return url.Values{"name": {name}, "pg_host": {src.Host}, "pg_port": {fmt.Sprint(src.Port)},
		"pg_database": {src.Database}, "pg_username": {src.User}, "pg_password": {src.Password},
		"publication_name": {src.Publication}, "replication_id": {src.Slot}, "tls_mode": {"prefer"}}
}

// "Test connection" on the new and edit forms: without JavaScript the form comes back
// with the results and what was typed (never the password); with htmx only the results
// region; nothing is saved either way.
func TestConsoleSourceTestBeforeSave(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src := testdb.NewSource(t, testdb.SourceOptions{})

	doc, _ := get(t, a, "/sources/new", http.StatusOK)
	btn := doc.Find(`form#source-form button[data-testid="test-connection"]`)
	if btn.AttrOr("name", "") != "action" || btn.AttrOr("value", "") != "test" || btn.AttrOr("type", "") != "submit" {
		t.Errorf("the test button is not a second submit button: %v", btn.Nodes)
	}
	if !strings.Contains(text(doc.Find(`[data-testid="test-wait"]`)), "waits up to 5 s") {
		t.Errorf("the form does not say how long a test can wait: %q", text(doc.Find(`[data-testid="test-wait"]`)))
	}

	v := realSourceForm("orders", src)
	v.Set("action", "test")
	r := post(a, "/sources", v)
	if r.Code != http.StatusOK {
		t.Fatalf("no-JS test: %d", r.Code)
	}
	expectFullPage(t, r)
	form := parse(t, r).Find("form#source-form")
	if s := text(form.Find(`[data-testid="form-test-results"] [data-testid="check-summary"]`)); !strings.Contains(s, "Nothing was saved") {
		t.Errorf("results %q", s)
	}
	if form.Find(`[data-testid="check-results"] li`).Length() < 4 {
		t.Errorf("check list missing:\n%s", r.Body)
	}
	if got, _ := inputValue(form, "pg_host"); got != src.Host {
		t.Errorf("typed host not kept: %q", got)
	}
	if strings.Contains(string(r.Body), src.Password) {
		t.Error("the password typed came back in the page")
	}

	r = post(a, "/sources", v, htmx)
	expectFragment(t, r)
	frag := parse(t, r)
	if frag.Find(`body > #source-form-test`).Length() != 1 || frag.Find("form").Length() != 0 {
		t.Errorf("htmx test answers more than the results region:\n%s", r.Body)
	}
	// invalid: the form again, messages beside the fields
	bad := url.Values{"action": {"test"}, "name": {"x"}}
	r = post(a, "/sources", bad)
	if r.Code != http.StatusUnprocessableEntity || fieldErrors(parse(t, r).Selection)["pg_host"] != "Host is required." {
		t.Errorf("invalid test: %d %v", r.Code, fieldErrors(parse(t, r).Selection))
	}
	r = post(a, "/sources", bad, htmx)
	if r.Code != http.StatusUnprocessableEntity || r.Header.Get("HX-Retarget") != "#source-form" {
		t.Errorf("htmx invalid test: %d retarget %q", r.Code, r.Header.Get("HX-Retarget"))
	}
	if n := countSources(t, a); n != 0 {
		t.Fatalf("testing saved %d sources", n)
	}

	// edit: the typed values merged over the stored ones; the stored password only while
	// the endpoint is unchanged, as on save
	s := mkRealSource(t, a, "orders", src)
	path := fmt.Sprintf("/sources/%d", s.ID)
	e := realSourceForm("renamed", src)
	e.Del("pg_password")
	e.Set("action", "test")
	r = post(a, path, e)
	if r.Code != http.StatusOK || !strings.Contains(text(parse(t, r).Find(`[data-testid="check-summary"]`)), "Nothing was saved") {
		t.Fatalf("edit test with the stored password: %d\n%s", r.Code, parse(t, r).Find("main").Text())
	}
	if parse(t, r).Find(`[data-testid="check-results"] li[data-status="fail"]`).Length() != 0 {
		t.Errorf("the stored password was not used: %s", text(parse(t, r).Find(`[data-testid="check-results"]`)))
	}
	e.Set("pg_port", "1")
	r = post(a, path, e)
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(fieldErrors(parse(t, r).Selection)["pg_password"], "endpoint changed") {
		t.Errorf("a changed endpoint tested with the stored password: %d %v", r.Code, fieldErrors(parse(t, r).Selection))
	}
	if got, err := a.Catalog.GetSource(context.Background(), s.ID); err != nil || got.Name != "orders" {
		t.Errorf("the edit test saved something: %+v %v", got.Name, err)
	}
}

func TestConsoleDestinationTestBeforeSave(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	v := url.Values{"name": {"dw"}, "snowflake_account": {"acme-analytics"}, "snowflake_user": {"ROSETTA"},
		"snowflake_database": {"RAW"}, "snowflake_schema": {"ORDERS"}, "snowflake_role": {"LOADER"},
		"snowflake_private_key": {sftest.KeyPEM()}, "snowflake_host": {sftest.OfflineHost}, "action": {"test"}}
	r := post(a, "/destinations", v)
	if r.Code != http.StatusOK {
		t.Fatalf("no-JS destination test: %d", r.Code)
	}
	form := parse(t, r).Find("form#destination-form")
	if form.Find(`[data-testid="form-test-results"] [data-testid="check-results"] li`).Length() == 0 ||
		form.Find(`[data-testid="fingerprint"]`).Length() != 1 {
		t.Errorf("destination results missing:\n%s", form.Text())
	}
	if got, _ := inputValue(form, "snowflake_account"); got != "acme-analytics" {
		t.Errorf("typed account not kept: %q", got)
	}
	d := mkDestination(t, a, "stored")
	r = post(a, fmt.Sprintf("/destinations/%d", d.ID), url.Values{"name": {"stored"}, "snowflake_account": {"acme-analytics"},
		"snowflake_user": {"ROSETTA"}, "snowflake_database": {"RAW"}, "snowflake_schema": {"OTHER"}, "snowflake_role": {"LOADER"},
		"snowflake_host": {sftest.OfflineHost}, "action": {"test"}}, htmx)
	if r.Code != http.StatusOK || parse(t, r).Find(`body > #destination-form-test [data-testid="check-results"]`).Length() != 1 {
		t.Errorf("htmx edit test: %d\n%s", r.Code, r.Body)
	}
	if n := countDestinations(t, a); n != 1 {
		t.Errorf("testing saved a destination: %d", n)
	}
	if got, _ := a.Catalog.GetDestination(context.Background(), d.ID); got.SnowflakeSchema != "ORDERS" {
		t.Errorf("the edit test saved the schema: %q", got.SnowflakeSchema)
	}
}
