package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
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
