package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// TestAPIProbeSource: POST /api/v1/sources/{id}/probe records a sample of the real source
// and returns it; a source that cannot be reached answers 503 with the reason, and its
// failure is recorded on the source; viewers may not probe.
func TestAPIProbeSource(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	real := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true})
	good := a.Do("POST", "/api/v1/sources", sourceFor("good", real)).Expect(t, http.StatusCreated).Map(t)
	goodID := int64(good["id"].(float64))
	wrong := sourceFor("wrong-password", real)
	wrong["pg_password"] = "not-the-password"
	bad := a.Do("POST", "/api/v1/sources", wrong).Expect(t, http.StatusCreated).Map(t)
	badID := int64(bad["id"].(float64))

	var direct int64
	if err := testdb.Admin(t).QueryRow(a.Ctx(), `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`).Scan(&direct); err != nil {
		t.Fatal(err)
	}
	w := a.Do("POST", fmt.Sprintf("/api/v1/sources/%d/probe", goodID), nil).Expect(t, http.StatusOK).Map(t)
	if int64(w["source_id"].(float64)) != goodID || int64(w["size_bytes"].(float64)) < direct || w["slot_active"] != false ||
		w["wal_status"] != "reserved" || w["id"] == nil || w["recorded_at"] == nil {
		t.Errorf("sample %v (WAL position read before: %d)", w, direct)
	}
	src := a.Do("GET", fmt.Sprintf("/api/v1/sources/%d", goodID), nil).Expect(t, http.StatusOK).Map(t)
	if src["probe_state"] != "ok" || src["latest_wal"] == nil {
		t.Errorf("source after the probe: state %v latest %v", src["probe_state"], src["latest_wal"])
	}

	p := expectProblem(t, a.Do("POST", fmt.Sprintf("/api/v1/sources/%d/probe", badID), nil), http.StatusServiceUnavailable)
	if !strings.Contains(p.Detail, "password authentication failed") || strings.Contains(p.Detail, "not-the-password") {
		t.Errorf("problem detail %q", p.Detail)
	}
	src = a.Do("GET", fmt.Sprintf("/api/v1/sources/%d", badID), nil).Expect(t, http.StatusOK).Map(t)
	if src["probe_state"] != "failing" || src["last_probe_reason"] != "auth" || src["probe_failures"] != float64(1) {
		t.Errorf("failed source: state %v reason %v failures %v", src["probe_state"], src["last_probe_reason"], src["probe_failures"])
	}
	expectProblem(t, a.Do("POST", "/api/v1/sources/999999/probe", nil), http.StatusNotFound)
	a.As(auth.Viewer).Do("POST", fmt.Sprintf("/api/v1/sources/%d/probe", goodID), nil).Expect(t, http.StatusForbidden)
}

// TestConsoleProbeNow: the source page's "Probe now" swaps the WAL panel in place with
// htmx (the new sample and a flash), and without JavaScript redirects back with a flash.
func TestConsoleProbeNow(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	real := testdb.NewSource(t, testdb.SourceOptions{})
	s := mkRealSource(t, a, "orders", real)
	page := fmt.Sprintf("/sources/%d", s.ID)

	doc, _ := get(t, a, page, http.StatusOK)
	form := doc.Find(`[data-testid="probe-now"]`).Closest("form")
	target := fmt.Sprintf("#source-wal-%d", s.ID)
	if form.AttrOr("action", "") != page+"/probe" || form.AttrOr("method", "") != "post" || form.AttrOr("hx-post", "") != page+"/probe" ||
		form.AttrOr("hx-target", "") != target || doc.Find(target).Length() != 1 {
		t.Fatalf("probe form action=%q hx-target=%q", form.AttrOr("action", ""), form.AttrOr("hx-target", ""))
	}
	if !strings.Contains(text(doc.Find(`[data-testid="source-wal"]`)), "Never checked") {
		t.Errorf("before a probe: %q", text(doc.Find(`[data-testid="source-wal"]`)))
	}

	r := post(a, page+"/probe", nil, htmx)
	if r.Code != http.StatusOK {
		t.Fatalf("htmx probe: %d %s", r.Code, r.Body)
	}
	expectFragment(t, r)
	frag := parse(t, r)
	panel := frag.Find(target)
	if panel.Length() != 1 || panel.Find(`[data-testid="wal-size"]`).Length() != 1 || panel.Find(".badge-ok").Length() != 1 {
		t.Fatalf("panel after the probe:\n%s", r.Body)
	}
	if oob := frag.Find(`#flash[hx-swap-oob]`); !strings.Contains(text(oob), "Probed “orders”") {
		t.Errorf("flash %q", text(oob))
	}

	// The password changes on the server: the probe fails, the panel says why.
	if _, err := testdb.Admin(t).Exec(a.Ctx(), "ALTER ROLE "+pgx.Identifier{real.User}.Sanitize()+" PASSWORD 'elsewhere'"); err != nil {
		t.Fatal(err)
	}
	r = post(a, page+"/probe", nil)
	if got := redirectTo(t, r); got != page {
		t.Fatalf("no-JS probe redirects to %q", got)
	}
	doc, flashes := followFlash(t, a, r, page)
	if !contains(flashes, "password authentication failed") {
		t.Errorf("flashes %q", flashes)
	}
	if got := text(doc.Find(`[data-testid="source-wal"] [data-testid="probe-error"]`)); !strings.Contains(got, "password authentication failed") {
		t.Errorf("probe state on the page: %q", got)
	}
	// viewers see no button and may not post
	vdoc := parse(t, a.Browser(auth.Viewer).Get(page).Expect(t, http.StatusOK))
	if vdoc.Find(`[data-testid="probe-now"]`).Length() != 0 {
		t.Error("a viewer sees Probe now")
	}
}

// TestAPISourceAlertThreshold: the per-source retention threshold is an API field:
// validated with a message naming it, stored, and 0 returns the source to the default.
func TestAPISourceAlertThreshold(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	body := sourceBody("orders")
	body["wal_alert_threshold_bytes"] = -5
	p := expectProblem(t, a.Do("POST", "/api/v1/sources", body), http.StatusUnprocessableEntity)
	if _, ok := fieldsOf(p)["body.wal_alert_threshold_bytes"]; !ok {
		if _, ok := fieldsOf(p)["wal_alert_threshold_bytes"]; !ok {
			t.Errorf("errors %v do not name wal_alert_threshold_bytes", p.Errors)
		}
	}
	body["wal_alert_threshold_bytes"] = 1 << 20
	s := a.Do("POST", "/api/v1/sources", body).Expect(t, http.StatusCreated).Map(t)
	if s["wal_alert_threshold_bytes"] != float64(1<<20) {
		t.Fatalf("created: %v", s["wal_alert_threshold_bytes"])
	}
	path := fmt.Sprintf("/api/v1/sources/%d", int64(s["id"].(float64)))
	s = a.Do("PATCH", path, map[string]any{"wal_alert_threshold_bytes": 0}).Expect(t, http.StatusOK).Map(t)
	if _, set := s["wal_alert_threshold_bytes"]; set {
		t.Errorf("after 0 the source still has its own threshold: %v", s["wal_alert_threshold_bytes"])
	}
	s = a.Do("PATCH", path, map[string]any{"name": "orders-2"}).Expect(t, http.StatusOK).Map(t)
	if _, set := s["wal_alert_threshold_bytes"]; set || s["active_alerts"] == nil || s["probe_state"] != "never" {
		t.Errorf("source: %v", s)
	}
}
