package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestRecordNeverStoresASecretValue(t *testing.T) {
	t.Parallel()
	pool := db.Wrap(testdb.New(t).Pool, 5*time.Second)
	ctx := auth.WithRemoteAddr(auth.WithPrincipal(context.Background(),
		auth.Principal{Email: "cli:ops", Role: auth.Admin}), "10.1.2.3")
	err := audit.Record(ctx, pool, auth.AuditEvent{Action: "update", EntityKind: "source", EntityID: 7, EntityName: "orders",
		Changes: map[string]any{"pg_password": "hunter2-plain", "Password": "(set)", "token": map[string]any{"to": "rst_x"},
			"pg_host": map[string]any{"from": "a", "to": "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	svc := audit.New(pool)
	page, err := svc.List(ctx, audit.Filter{EntityKind: "source", EntityID: 7})
	if err != nil || page.Total != 1 {
		t.Fatalf("%+v %v", page, err)
	}
	e := page.Items[0]
	if e.Changes["pg_password"] != "(changed)" || e.Changes["Password"] != "(set)" || e.Changes["token"] != "(changed)" {
		t.Errorf("secrets recorded: %v", e.Changes)
	}
	if e.ActorEmail != "cli:ops" || e.ActorUserID != nil || e.RemoteAddr != "10.1.2.3" || e.EntityID == nil || *e.EntityID != 7 {
		t.Errorf("event %+v", e)
	}
	var raw string
	if err := pool.QueryRow(context.Background(), `SELECT changes::text FROM audit_events`).Scan(&raw); err != nil || strings.Contains(raw, "hunter2") || strings.Contains(raw, "rst_x") {
		t.Errorf("stored changes %s (%v)", raw, err)
	}
	// reading needs a principal
	if _, err := svc.List(context.Background(), audit.Filter{}); apperr.CodeOf(err) != apperr.Unauthorized {
		t.Errorf("anonymous read: %v", err)
	}
	if _, err := svc.List(ctx, audit.Filter{Limit: 501}); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("limit 501: %v", err)
	}
}

// The log reads newest first by id, not by time: an event's time is its transaction's
// start (now()), so a long transaction that records after a short one committed would
// otherwise be listed below it although it committed later.
func TestListIsOrderedByIDNotTransactionStart(t *testing.T) {
	t.Parallel()
	pool := db.Wrap(testdb.New(t).Pool, 5*time.Second)
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Email: "cli:ops", Role: auth.Admin})
	long, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer long.Rollback(ctx)                                  //nolint:errcheck // after Commit, a no-op
	if _, err := long.Exec(ctx, `SELECT now()`); err != nil { // the long transaction's clock starts here
		t.Fatal(err)
	}
	if err := pool.InTx(ctx, func(_ *db.Queries, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_sleep(0.01)`); err != nil { // a later now() than the long one's
			return err
		}
		return audit.Record(ctx, tx, auth.AuditEvent{Action: "update", EntityKind: "source", EntityID: 1, EntityName: "first-committed"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := audit.Record(ctx, long, auth.AuditEvent{Action: "update", EntityKind: "source", EntityID: 1, EntityName: "last-committed"}); err != nil {
		t.Fatal(err)
	}
	if err := long.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := audit.New(pool).List(ctx, audit.Filter{})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("%+v %v", page, err)
	}
	first, second := page.Items[0], page.Items[1]
	if !first.At.Before(second.At) {
		t.Fatalf("the setup did not give the later commit the earlier time: %v, %v", first.At, second.At)
	}
	if first.EntityName != "last-committed" || first.ID <= second.ID {
		t.Errorf("newest first: %s (id %d) then %s (id %d)", first.EntityName, first.ID, second.EntityName, second.ID)
	}
}

// Filters combine, the order is newest first, and a log longer than the count cap
// answers an estimated total rather than counting every event it ever recorded.
func TestListFiltersAndCappedTotal(t *testing.T) {
	t.Parallel()
	pool := db.Wrap(testdb.New(t).Pool, 5*time.Second)
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Email: "ops@example.com", Role: auth.Viewer})
	n := catalog.DefaultExactTotalCap + 50
	if _, err := pool.Exec(ctx, `INSERT INTO audit_events (actor_email, action, entity_kind, entity_id, entity_name)
		SELECT CASE WHEN i % 10 = 0 THEN 'Ops@Example.com' ELSE 'cli:seed' END,
		       CASE WHEN i % 3 = 0 THEN 'delete' ELSE 'update' END, 'source', i % 7, 's' || i
		FROM generate_series(1, $1::int) i`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE audit_events"); err != nil {
		t.Fatal(err)
	}
	svc := audit.New(pool)
	all, err := svc.List(ctx, audit.Filter{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !all.TotalIsEstimate || all.Total <= int64(catalog.DefaultExactTotalCap) {
		t.Errorf("%d events: total %d, estimate %v; want an estimate above the cap", n, all.Total, all.TotalIsEstimate)
	}
	if len(all.Items) != 5 || all.Items[0].EntityName != fmt.Sprintf("s%d", n) {
		t.Errorf("newest first: %d items, first %q", len(all.Items), all.Items[0].EntityName)
	}
	// delete ∧ actor (case-insensitive email) ∧ entity 3: i ≡ 0 (mod 30) and i ≡ 3 (mod 7).
	var want []string
	for i := n; i >= 1; i-- {
		if i%30 == 0 && i%7 == 3 {
			want = append(want, fmt.Sprintf("s%d", i))
		}
	}
	got, err := svc.List(ctx, audit.Filter{Action: "delete", Actor: "ops@example.com", EntityKind: "source", EntityID: 3})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range got.Items {
		names = append(names, e.EntityName)
	}
	if strings.Join(names, ",") != strings.Join(want, ",") || got.Total != int64(len(want)) || got.TotalIsEstimate || len(want) == 0 {
		t.Errorf("filtered: %v (total %d, estimate %v), want %v", names, got.Total, got.TotalIsEstimate, want)
	}
}
