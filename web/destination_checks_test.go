package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/snowflake/sftest"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// keyLine is a line from the middle of the test key: if it shows anywhere, the key leaked.
func keyLine() string { return strings.Split(sftest.KeyPEM(), "\n")[5] }

func TestDestinationTestAPI(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	body := startableDestBody("pasted")
	body["snowflake_private_key_passphrase"] = "unneeded-passphrase-4411"
	d := a.Do("POST", "/api/v1/destinations", body).Expect(t, http.StatusCreated).Map(t)
	if d["snowflake_private_key_set"] != true || d["snowflake_private_key"] != nil || d["snowflake_private_key_path"] != nil {
		t.Errorf("created: %v", d)
	}
	if d["last_test"] != nil {
		t.Errorf("never tested, but last_test = %v", d["last_test"])
	}
	path := fmt.Sprintf("/api/v1/destinations/%v/test", d["id"])

	r := a.Do("POST", path, nil).Expect(t, http.StatusOK)
	for _, secret := range []string{keyLine(), "unneeded-passphrase-4411", "PRIVATE KEY-----"} {
		if strings.Contains(string(r.Body), secret) {
			t.Errorf("the test answer holds %q", secret)
		}
	}
	res := r.Map(t)
	status := map[string]string{}
	message := map[string]string{}
	for _, c := range res["checks"].([]any) {
		m := c.(map[string]any)
		status[m["name"].(string)], message[m["name"].(string)] = m["status"].(string), m["message"].(string)
	}
	want := map[string]string{"account": "ok", "private_key": "ok", "key_format": "ok", "key_passphrase": "warn",
		"key_strength": "ok", "dns": "ok", "tls": "fail", "sign_in": "fail"}
	for name, st := range want {
		if status[name] != st {
			t.Errorf("%s: %s (%s), want %s", name, status[name], message[name], st)
		}
	}
	if res["ok"] != false || !strings.HasPrefix(fmt.Sprint(res["fingerprint"]), "SHA256:") {
		t.Errorf("ok %v fingerprint %v", res["ok"], res["fingerprint"])
	}
	if !strings.Contains(message["tls"], "cannot connect to 127.0.0.1:443") {
		t.Errorf("tls: %q", message["tls"])
	}

	// The outcome is kept on the destination.
	got := a.Do("GET", fmt.Sprintf("/api/v1/destinations/%v", d["id"]), nil).Expect(t, http.StatusOK).Map(t)
	lt, _ := got["last_test"].(map[string]any)
	if lt["status"] != "fail" || !strings.HasPrefix(fmt.Sprint(lt["summary"]), "tls: cannot connect") || lt["at"] == nil {
		t.Errorf("last_test: %v", got["last_test"])
	}

	// A key file that is not there: the sentence says so.
	missing := destBody("missing")
	missing["snowflake_private_key_path"] = t.TempDir() + "/nope.p8"
	m := a.Do("POST", "/api/v1/destinations", missing).Expect(t, http.StatusCreated).Map(t)
	res = a.Do("POST", fmt.Sprintf("/api/v1/destinations/%v/test", m["id"]), nil).Expect(t, http.StatusOK).Map(t)
	first := res["checks"].([]any)[1].(map[string]any)
	if first["name"] != "private_key" || first["status"] != "fail" || !strings.Contains(first["message"].(string), "does not exist on the Rosetta server") {
		t.Errorf("missing key: %v", first)
	}

	// Exactly one key source.
	both := startableDestBody("both")
	both["snowflake_private_key_path"] = "/etc/rosetta/key.p8"
	f := fieldsOf(expectProblem(t, a.Do("POST", "/api/v1/destinations", both), http.StatusUnprocessableEntity))
	if !strings.Contains(f["snowflake_private_key"], "not both") || !strings.Contains(f["snowflake_private_key_path"], "not both") {
		t.Errorf("both: %v", f)
	}
	neither := destBody("neither")
	delete(neither, "snowflake_private_key_path")
	f = fieldsOf(expectProblem(t, a.Do("POST", "/api/v1/destinations", neither), http.StatusUnprocessableEntity))
	if !strings.Contains(f["snowflake_private_key_path"], "is required unless snowflake_private_key is given") {
		t.Errorf("neither: %v", f)
	}

	expectProblem(t, a.Do("POST", "/api/v1/destinations/999999/test", nil), http.StatusNotFound)
	expectProblem(t, a.As(auth.Viewer).Do("POST", path, nil), http.StatusForbidden)

	// Documented in the OpenAPI document.
	doc := string(a.Do("GET", "/api/v1/openapi.json", nil).Expect(t, http.StatusOK).Body)
	if !strings.Contains(doc, `"/destinations/{id}/test"`) || !strings.Contains(doc, "snowflake_private_key_set") {
		t.Error("the destination test is not in the OpenAPI document")
	}
	if strings.Contains(a.Logs.String(), keyLine()) {
		t.Error("the key reached the log")
	}
}

func TestDestinationTestConsole(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	d := mkDestination(t, a, "analytics")

	doc, _ := get(t, a, fmt.Sprintf("/destinations/%d", d.ID), http.StatusOK)
	form := doc.Find(`[data-testid="test-connection"]`).Closest("form")
	if form.AttrOr("action", "") != fmt.Sprintf("/destinations/%d/test", d.ID) ||
		form.AttrOr("hx-target", "") != fmt.Sprintf("#destination-%d-checks", d.ID) {
		t.Errorf("test form action=%q hx-target=%q", form.AttrOr("action", ""), form.AttrOr("hx-target", ""))
	}
	if doc.Find(form.AttrOr("hx-target", "none")).Length() != 1 {
		t.Errorf("the page has no %s for the results", form.AttrOr("hx-target", ""))
	}
	if text(doc.Find(`[data-testid="key-source"]`)) != "pasted (stored encrypted)" {
		t.Errorf("key source %q", text(doc.Find(`[data-testid="key-source"]`)))
	}
	if lt := doc.Find(`[data-testid="destination-details"] [data-testid="last-test"]`); lt.AttrOr("data-status", "x") != "" ||
		text(lt) != "never tested" {
		t.Errorf("last test before any: %q", text(lt))
	}

	// htmx: the results region, the flash out of band
	r := post(a, fmt.Sprintf("/destinations/%d/test", d.ID), nil, htmx)
	if r.Code != http.StatusOK {
		t.Fatalf("status %d", r.Code)
	}
	expectFragment(t, r)
	frag := parse(t, r)
	region := frag.Find(fmt.Sprintf("#destination-%d-checks", d.ID))
	if region.Find(`[data-testid="check-results"] li`).Length() != 8 {
		t.Fatalf("checks:\n%s", r.Body)
	}
	if ok := region.Find(`li[data-status="ok"]`); ok.Length() != 6 || !strings.Contains(text(ok), "Key strength") {
		t.Errorf("ok checks: %q", text(ok))
	}
	tls := region.Find(`li[data-status="fail"]`).First()
	if !strings.Contains(text(tls), "TLS") || !strings.Contains(text(tls), "cannot connect to 127.0.0.1:443") {
		t.Errorf("failed check: %q", text(tls))
	}
	if !strings.HasPrefix(text(region.Find(`[data-testid="key-fingerprint"] code`)), "SHA256:") {
		t.Errorf("fingerprint %q", text(region.Find(`[data-testid="key-fingerprint"]`)))
	}
	if oob := frag.Find(`#flash[hx-swap-oob]`); !strings.Contains(text(oob), "2 checks failed") {
		t.Errorf("flash %q", text(oob))
	}
	if strings.Contains(string(r.Body), keyLine()) {
		t.Error("the key is in the answer")
	}

	// without JavaScript: the page, with the results, the flash and the recorded outcome
	r = post(a, fmt.Sprintf("/destinations/%d/test", d.ID), nil)
	expectFullPage(t, r)
	doc = parse(t, r)
	if doc.Find(`[data-testid="check-results"] li`).Length() != 8 {
		t.Errorf("page checks: %q", text(doc.Find(`[data-testid="check-results"]`)))
	}
	if !contains(texts(doc.Find(`#flash [data-testid="flash"]`)), "Connection test of “analytics”") {
		t.Errorf("flash %q", texts(doc.Find(`#flash [data-testid="flash"]`)))
	}
	if lt := doc.Find(`[data-testid="destination-details"] [data-testid="last-test"]`); lt.AttrOr("data-status", "") != "fail" {
		t.Errorf("last test on the page: %q", text(lt))
	}

	// the list shows it too
	doc, _ = get(t, a, "/destinations", http.StatusOK)
	row := doc.Find(`[data-testid="destination-row"]`)
	if lt := row.Find(`[data-testid="last-test"]`); lt.AttrOr("data-status", "") != "fail" || !strings.Contains(text(lt), "Failed") {
		t.Errorf("list last test: %q", text(lt))
	}
	if r := a.As(auth.Viewer).Do("POST", fmt.Sprintf("/destinations/%d/test", d.ID), url.Values{}.Encode(),
		"Content-Type: application/x-www-form-urlencoded"); r.Code != http.StatusForbidden {
		t.Errorf("viewer test: %d", r.Code)
	}
}

// TestDestinationPastedKeyForm: the console form takes a pasted key, never shows it
// back, and switching to a path drops it.
func TestDestinationPastedKeyForm(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	form := url.Values{"name": {"pasted"}, "snowflake_account": {"acme-analytics"}, "snowflake_user": {"ROSETTA"},
		"snowflake_database": {"RAW"}, "snowflake_schema": {"ORDERS"}, "snowflake_role": {"LOADER"},
		"snowflake_private_key_path": {""}, "snowflake_private_key": {sftest.KeyPEM()}, "snowflake_host": {""},
		"snowflake_warehouse": {""}}
	r := post(a, "/destinations", form)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", r.Code, r.Body)
	}
	loc := r.Header.Get("Location")
	doc, page := get(t, a, loc+"/edit", http.StatusOK)
	if strings.Contains(string(page.Body), keyLine()) {
		t.Fatal("the edit form shows the key")
	}
	if !strings.Contains(text(doc.Find(`[data-testid="field-snowflake_private_key"]`)), "A pasted key is stored") {
		t.Errorf("key field: %q", text(doc.Find(`[data-testid="field-snowflake_private_key"]`)))
	}
	// Saving the form untouched keeps the pasted key.
	form.Set("snowflake_private_key", "")
	if r := post(a, loc, form); r.Code != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", r.Code, r.Body)
	}
	doc, _ = get(t, a, loc, http.StatusOK)
	if text(doc.Find(`[data-testid="key-source"]`)) != "pasted (stored encrypted)" {
		t.Errorf("after save: %q", text(doc.Find(`[data-testid="key-source"]`)))
	}
	// Neither on create: both fields say why, and nothing typed is lost but the secrets.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("name", "neither")
	bad.Set("snowflake_private_key", "")
	r = post(a, "/destinations", bad)
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("neither: %d", r.Code)
	}
	doc = parse(t, r)
	if !strings.Contains(text(doc.Find(`[data-testid="field-snowflake_private_key"] [data-testid="field-error"]`)), "is required unless") {
		t.Errorf("no message beside the key: %q", text(doc.Find(`[data-testid="field-snowflake_private_key"]`)))
	}
	// A path replaces the pasted key.
	form.Set("snowflake_private_key_path", "/etc/rosetta/key.p8")
	if r := post(a, loc, form); r.Code != http.StatusSeeOther {
		t.Fatalf("path: %d\n%s", r.Code, r.Body)
	}
	doc, _ = get(t, a, loc, http.StatusOK)
	if text(doc.Find(`[data-testid="key-source"]`)) != "/etc/rosetta/key.p8" {
		t.Errorf("after giving a path: %q", text(doc.Find(`[data-testid="key-source"]`)))
	}
	// The audit log says the key changed, never what it is.
	audit := string(a.Do("GET", "/audit", nil).Body)
	if strings.Contains(audit, keyLine()) || strings.Contains(a.Logs.String(), keyLine()) {
		t.Error("the key is in the audit log or the log")
	}
}

// TestPipelineShowsUnreachableSnowflakeWarning: an unreachable Snowflake does not block
// a start; the pipeline page and the API say so.
func TestPipelineShowsUnreachableSnowflakeWarning(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src := testdb.NewSource(t, testdb.SourceOptions{})
	id, _ := setupPipeline(t, a, src)
	r := a.Do("POST", fmt.Sprintf("/api/v1/pipelines/%v/start", id), nil).Expect(t, http.StatusOK).Map(t)
	md := metadata(r["pipeline"].(map[string]any))
	if md["status"] != "RUNNING" || !strings.Contains(fmt.Sprint(md["preflight_warning"]), "Snowflake could not be reached") {
		t.Fatalf("start: %v", r)
	}
	dp := r["destination_preflight"].([]any)
	if len(dp) != 8 {
		t.Fatalf("destination preflight: %v", dp)
	}
	// Unreachable did not block the start, so in the preflight it reads as a warning.
	if tls := dp[6].(map[string]any); tls["name"] != "tls" || tls["status"] != "warn" {
		t.Errorf("tls in the preflight: %v", tls)
	}
	doc, _ := get(t, a, fmt.Sprintf("/pipelines/%v", id), http.StatusOK)
	if w := text(doc.Find(`[data-testid="preflight-warning"]`)); !strings.Contains(w, "Snowflake could not be reached from Rosetta") {
		t.Errorf("pipeline page warning %q", w)
	}
	// A destination that fails locally blocks the start, naming the check.
	ctx := context.Background()
	p, err := a.Catalog.GetPipeline(ctx, int64(id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Catalog.Pause(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Catalog.UpdateDestination(ctx, p.DestinationID, catalog.DestinationPatch{
		SnowflakePrivateKeyPath: ptr(t.TempDir())}); err != nil {
		t.Fatal(err)
	}
	res, err := a.Catalog.Start(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m := res.Pipeline.Metadata; m.Status != catalog.RuntimeError || m.LastError == nil ||
		!strings.Contains(*m.LastError, `destination check "private_key" failed`) || !strings.Contains(*m.LastError, "is a directory") ||
		m.PreflightWarning != nil {
		t.Errorf("after pointing the key at a directory: %+v", res.Pipeline.Metadata)
	}
}
