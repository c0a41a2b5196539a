package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

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
