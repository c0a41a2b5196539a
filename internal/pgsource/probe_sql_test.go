package pgsource

import (
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestProbeStatementByServerVersion(t *testing.T) {
	for version, want := range map[string]string{
		"15.18 (Debian 15.18-0+deb12u1)": probeSQL,
		"13.0":                           probeSQL,
		"16beta1":                        probeSQL,
		"100.1":                          probeSQL,
		"12.22":                          probeSQLBefore13,
		"9.6.24":                         probeSQLBefore13,
		"":                               probeSQLBefore13,
		"unknown":                        probeSQLBefore13,
	} {
		if got := probeStatement(version); got != want {
			t.Errorf("server_version %q: got the other statement", version)
		}
	}
}

// The statement for servers before 13 runs on every version, so both can be compared on
// the test server: same slot, same answers (the WAL position only moves forward between
// them, since other tests write WAL on the same server).
func TestProbeStatementsAgree(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{CreateSlot: true})
	c := Conn{Host: src.Host, Port: src.Port, Database: src.Database, User: src.User, Password: src.Password}
	conn, err := Connect(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer closeQuietly(conn)
	type row struct {
		inRecovery     bool
		size, retained *int64
		active         *bool
		walStatus      *string
		safe           *int64
	}
	read := func(sql, slot string) row {
		t.Helper()
		var r row
		if err := conn.QueryRow(t.Context(), sql, slot).Scan(&r.inRecovery, &r.size, &r.retained, &r.active, &r.walStatus, &r.safe); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, slot := range []string{src.Slot, src.Slot + "_missing"} {
		old, cur := read(probeSQLBefore13, slot), read(probeSQL, slot)
		if old.size == nil || cur.size == nil || *cur.size < *old.size || old.inRecovery != cur.inRecovery {
			t.Fatalf("slot %s: positions %v then %v", slot, old.size, cur.size)
		}
		if (old.retained == nil) != (cur.retained == nil) || (old.active == nil) != (cur.active == nil) ||
			(old.active != nil && *old.active != *cur.active) || deref(old.walStatus) != deref(cur.walStatus) ||
			(old.safe == nil) != (cur.safe == nil) {
			t.Errorf("slot %s: before-13 statement %+v, current %+v", slot, old, cur)
		}
		if slot == src.Slot && (cur.retained == nil || deref(cur.walStatus) != "reserved") {
			t.Errorf("slot %s: retained %v, wal_status %q; want a reserved slot's retention", slot, cur.retained, deref(cur.walStatus))
		}
	}
}
