package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// TestConsoleAuditChangesReadable: the audit page's Changes column reads "field: before
// → after" (or "field: value"), one line per field, escaped, never raw JSON; secrets
// show only that they changed, even when a row holds a value by mistake.
func TestConsoleAuditChangesReadable(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	ctx := context.Background()
	src, dst := mkSource(t, a, "orders"), mkDestination(t, a, "analytics")
	port := 6543
	if _, err := a.Catalog.UpdateSource(ctx, src.ID, catalog.SourcePatch{PgHost: ptr("orders-2.db.internal"), PgPort: &port,
		PgPassword: ptr("new-hunter2-secret")}); err != nil {
		t.Fatal(err)
	}
	p := mkPipeline(t, a, "orders-to-analytics", src.ID, dst.ID)
	// an event recorded as a careless caller might: a secret's value and markup
	if err := db.New(a.Pool).InsertAuditEvent(ctx, db.InsertAuditEventParams{ActorEmail: "cli", Action: "update",
		EntityKind: "pipeline", EntityID: &p.ID, EntityName: p.Name, RemoteAddr: "127.0.0.1",
		Changes: []byte(`{"pg_password": {"from": "old-secret-value", "to": "raw-secret-value"}, "name": {"from": "<b>old</b>", "to": "orders-to-analytics"}, "note": null, "retries": 3}`)}); err != nil {
		t.Fatal(err)
	}

	r := a.Browser(auth.Viewer).Get("/audit").Expect(t, http.StatusOK)
	doc := r.Doc(t)
	changes := func(action, kind string) map[string]string {
		out := map[string]string{}
		doc.Find(`[data-testid="audit-row"][data-action="` + action + `"][data-entity-kind="` + kind + `"]`).First().
			Find(`[data-testid="audit-changes"] li`).Each(func(_ int, li *goquery.Selection) {
			out[li.AttrOr("data-field", "")] = text(li)
		})
		return out
	}
	upd := changes("update", "source")
	for field, want := range map[string]string{
		"pg host":     "pg host: db.internal → to orders-2.db.internal",
		"pg port":     "pg port: 5432 → to 6543",
		"pg password": "pg password: (changed)",
	} {
		if upd[field] != want {
			t.Errorf("source update %s: %q, want %q (all: %v)", field, upd[field], want, upd)
		}
	}
	odd := changes("update", "pipeline")
	for field, want := range map[string]string{
		"pg password": "pg password: (changed)",
		"name":        "name: <b>old</b> → to orders-to-analytics",
		"note":        "note: none",
		"retries":     "retries: 3",
	} {
		if odd[field] != want {
			t.Errorf("hand-made event %s: %q, want %q (all: %v)", field, odd[field], want, odd)
		}
	}
	body := string(r.Body)
	for _, leak := range []string{"old-secret-value", "raw-secret-value", "new-hunter2-secret", "<b>old</b>"} {
		if strings.Contains(body, leak) {
			t.Errorf("the audit page holds %q", leak)
		}
	}
	doc.Find(`[data-testid="audit-changes"]`).Each(func(_ int, c *goquery.Selection) {
		if strings.Contains(c.Text(), `{"`) || strings.Contains(c.Text(), `"from"`) {
			t.Errorf("raw JSON in the Changes column: %q", text(c))
		}
	})
	if doc.Find(`[data-testid="audit-changes"] .change-before b`).Length() != 0 {
		t.Error("markup in a recorded value was rendered as markup")
	}
	// the arrow is for eyes; a screen reader hears "to"
	if doc.Find(`[data-testid="audit-changes"] [aria-hidden="true"]`).First().Text() != "→" {
		t.Error("no hidden arrow")
	}
	// on a phone the table stacks into cards like the others: every cell has its label
	if doc.Find(`table[data-testid="audit-events"].stack`).Length() != 1 ||
		doc.Find(`[data-testid="audit-row"] td:not([data-label])`).Length() != 0 {
		t.Error("the audit table does not stack on a phone (class stack, data-label on every cell)")
	}
}
