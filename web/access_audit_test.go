package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

type auditRow struct {
	Action, EntityKind, EntityName, ActorEmail, RemoteAddr, Changes string
	EntityID, ActorUserID, ActorTokenID                             *int64
}

func auditRows(t *testing.T, a *webtest.App) []auditRow {
	t.Helper()
	rows, err := a.Pool.Query(context.Background(), `SELECT action, entity_kind, entity_name, actor_email, remote_addr, changes::text,
		entity_id, actor_user_id, actor_token_id FROM audit_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.Action, &r.EntityKind, &r.EntityName, &r.ActorEmail, &r.RemoteAddr, &r.Changes,
			&r.EntityID, &r.ActorUserID, &r.ActorTokenID); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestEveryActionIsAuditedWithItsActor drives each kind of change through the face a
// person would use and checks the audit row: action, entity, actor (user, and token when
// one was used), address, changed fields, and never a secret value.
func TestEveryActionIsAuditedWithItsActor(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	op := a.NewUser(auth.Operator)
	opAPI := a.AsUser(op)
	src := testdb.NewSource(t, testdb.SourceOptions{})

	s := opAPI.Do("POST", "/api/v1/sources", sourceFor("orders", src)).Expect(t, http.StatusCreated).Map(t)
	sid := fmt.Sprint(s["id"])
	opAPI.Do("PATCH", "/api/v1/sources/"+sid, map[string]any{"pg_password": src.Password, "pg_port": src.Port}).Expect(t, http.StatusOK)
	d := opAPI.Do("POST", "/api/v1/destinations", destBody("wh")).Expect(t, http.StatusCreated).Map(t)
	did := fmt.Sprint(d["id"])
	opBrowser := a.BrowserFor(op) // a console session: audited without a token
	opBrowser.Get("/destinations/" + did + "/edit")
	opBrowser.PostForm("/destinations/"+did, url.Values{"name": {"warehouse"}, "snowflake_account": {"acme-analytics"},
		"snowflake_user": {"ROSETTA"}, "snowflake_database": {"RAW"}, "snowflake_schema": {"ORDERS"}, "snowflake_role": {"LOADER"},
		"snowflake_private_key_path": {"/etc/rosetta/key.p8"}, "snowflake_private_key_passphrase": {"pp-secret-value"}}).
		Expect(t, http.StatusSeeOther)
	p := opAPI.Do("POST", "/api/v1/pipelines", map[string]any{"name": "p1", "source_id": s["id"], "destination_id": d["id"]}).
		Expect(t, http.StatusCreated).Map(t)
	pid := fmt.Sprint(p["id"])
	for _, act := range []string{"start", "pause", "refresh", "pause"} {
		opAPI.Do("POST", "/api/v1/pipelines/"+pid+"/"+act, nil).Expect(t, http.StatusOK)
	}
	opAPI.Do("DELETE", "/api/v1/pipelines/"+pid, nil).Expect(t, http.StatusNoContent)

	admin := a.Browser(auth.Admin)
	admin.Get("/users")
	admin.PostForm("/users", url.Values{"email": {"grace@example.com"}, "role": {"viewer"}, "password": {"a-long-password-1"}}).
		Expect(t, http.StatusSeeOther)
	grace, _ := a.Auth.UserByEmail(a.Ctx(), "grace@example.com")
	admin.PostForm(fmt.Sprintf("/users/%d/role", grace.ID), url.Values{"role": {"operator"}}).Expect(t, http.StatusSeeOther)
	admin.PostForm(fmt.Sprintf("/users/%d/disable", grace.ID), nil).Expect(t, http.StatusSeeOther)
	admin.Get("/settings/tokens")
	admin.PostForm("/settings/tokens", url.Values{"name": {"deploy"}, "expires": {"7d"}}).Expect(t, http.StatusCreated)
	admin.PostForm(fmt.Sprintf("/settings/tokens/%d/revoke", op.TokenID), nil).Expect(t, http.StatusSeeOther)
	bad := a.NewBrowser()
	bad.Get("/login")
	bad.PostForm("/login", url.Values{"email": {op.Email}, "password": {"guessed-wrong-password"}}).Expect(t, http.StatusUnauthorized)
	admin.PostForm("/logout", nil).Expect(t, http.StatusSeeOther)

	type want struct {
		action, kind, name, actor string
		token                     bool   // via an API token
		field                     string // a key changes must have
	}
	wants := []want{
		{"create", "source", "orders", op.Email, true, "pg_host"},
		{"update", "source", "orders", op.Email, true, "pg_password"},
		{"create", "destination", "wh", op.Email, true, "snowflake_account"},
		{"login", "user", op.Email, op.Email, false, ""},
		{"update", "destination", "warehouse", op.Email, false, "snowflake_private_key_passphrase"},
		{"create", "pipeline", "p1", op.Email, true, ""},
		{"start", "pipeline", "p1", op.Email, true, "status"},
		{"pause", "pipeline", "p1", op.Email, true, "status"},
		{"refresh", "pipeline", "p1", op.Email, true, "status"},
		{"delete", "pipeline", "p1", op.Email, true, ""},
		{"login", "user", a.Admin.Email, a.Admin.Email, false, ""},
		{"create", "user", "grace@example.com", a.Admin.Email, false, "role"},
		{"update", "user", "grace@example.com", a.Admin.Email, false, "role"},
		{"disable", "user", "grace@example.com", a.Admin.Email, false, "disabled"},
		{"create", "api_token", "deploy", a.Admin.Email, false, "expires_at"},
		{"revoke", "api_token", "webtest", a.Admin.Email, false, "owner"},
		{"login_failed", "user", op.Email, op.Email, false, "reason"},
		{"logout", "user", a.Admin.Email, a.Admin.Email, false, ""},
	}
	rows := auditRows(t, a)
	found := 0
	next := 0
	for _, w := range wants {
		ok := false
		for i := next; i < len(rows); i++ {
			r := rows[i]
			if r.Action != w.action || r.EntityKind != w.kind || r.EntityName != w.name {
				continue
			}
			ok = true
			next = i + 1
			if r.ActorEmail != w.actor {
				t.Errorf("%s %s %s: actor %q, want %q", w.action, w.kind, w.name, r.ActorEmail, w.actor)
			}
			if w.action != "login_failed" && r.ActorUserID == nil {
				t.Errorf("%s %s: no actor user id", w.action, w.kind)
			}
			if w.action == "login_failed" && r.ActorUserID != nil {
				t.Errorf("a failed sign-in is attributed to user %d", *r.ActorUserID)
			}
			if (r.ActorTokenID != nil) != w.token {
				t.Errorf("%s %s %s: token id %v, want via token = %v", w.action, w.kind, w.name, r.ActorTokenID, w.token)
			}
			if r.RemoteAddr == "" {
				t.Errorf("%s %s: no remote address", w.action, w.kind)
			}
			if w.field != "" && !strings.Contains(r.Changes, `"`+w.field+`"`) {
				t.Errorf("%s %s: changes %s lack %s", w.action, w.kind, r.Changes, w.field)
			}
			if r.EntityID == nil && w.kind != "user" {
				t.Errorf("%s %s: no entity id", w.action, w.kind)
			}
			break
		}
		if !ok {
			t.Errorf("no audit row %s %s %q (in order)", w.action, w.kind, w.name)
		} else {
			found++
		}
	}
	for _, r := range rows {
		for _, secret := range []string{src.Password, "pp-secret-value", "a-long-password-1", "guessed-wrong-password", op.Token} {
			if strings.Contains(r.Changes, secret) || strings.Contains(r.EntityName, secret) {
				t.Errorf("a secret is in the audit log: %+v", r)
			}
		}
	}
	if found < len(wants) {
		for _, r := range rows {
			t.Logf("row: %s %s %q by %q (token %v) %s", r.Action, r.EntityKind, r.EntityName, r.ActorEmail, r.ActorTokenID != nil, r.Changes)
		}
	}

	// ---- reading it back: the API, filtered
	v := a.As(auth.Viewer)
	l := v.Do("GET", "/api/v1/audit?entity_kind=source&entity_id="+sid, nil).Expect(t, http.StatusOK).Map(t)
	if l["total"] != float64(2) {
		t.Errorf("source %s events: %v", sid, l)
	}
	items := l["items"].([]any)
	if first := items[0].(map[string]any); first["action"] != "update" || first["actor_email"] != op.Email {
		t.Errorf("newest first: %v", first)
	}
	l = v.Do("GET", "/api/v1/audit?actor="+url.QueryEscape(strings.ToUpper(a.Admin.Email)), nil).Expect(t, http.StatusOK).Map(t)
	for _, it := range l["items"].([]any) {
		if it.(map[string]any)["actor_email"] != a.Admin.Email {
			t.Errorf("actor filter let through %v", it)
		}
	}
	if l["total"].(float64) < 6 {
		t.Errorf("admin's events: %v", l["total"])
	}
	l = v.Do("GET", fmt.Sprintf("/api/v1/audit?actor=%d&limit=2", op.ID), nil).Expect(t, http.StatusOK).Map(t)
	if len(l["items"].([]any)) != 2 || l["total"].(float64) < 9 {
		t.Errorf("by user id: %v", l)
	}
	expectProblem(t, v.Do("GET", "/api/v1/audit?entity_kind=secret", nil), http.StatusUnprocessableEntity)
	expectProblem(t, a.Anonymous().Do("GET", "/api/v1/audit", nil), http.StatusUnauthorized)

	// ---- and the console page
	doc := a.Browser(auth.Viewer).Get("/audit?entity_kind=pipeline&actor="+url.QueryEscape(op.Email)).Expect(t, http.StatusOK).Doc(t)
	actions := map[string]int{}
	doc.Find(`[data-testid="audit-row"]`).Each(func(_ int, s *goquerySelection) {
		actions[s.AttrOr("data-action", "")]++
		if s.AttrOr("data-entity-kind", "") != "pipeline" {
			t.Errorf("console filter let through %s", s.AttrOr("data-entity-kind", ""))
		}
	})
	if actions["start"] != 1 || actions["pause"] != 2 || actions["refresh"] != 1 || actions["create"] != 1 || actions["delete"] != 1 {
		t.Errorf("console audit rows: %v", actions)
	}
	if sel := doc.Find(`select[name="entity_kind"] option[selected]`).AttrOr("value", ""); sel != "pipeline" {
		t.Errorf("filter not kept in the form: %q", sel)
	}
	a.Browser(auth.Viewer).Get("/audit?entity_id=abc").Expect(t, http.StatusUnprocessableEntity)
}
