package pgsource

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// WALSample is one WAL monitor reading of a source.
type WALSample struct {
	// SizeBytes is the current WAL position as a byte offset: the source's total WAL
	// written, whose growth rate is its write volume.
	SizeBytes int64
	// RetainedBytes is how much WAL the slot holds back (current position minus the slot's
	// restart_lsn): what the source cannot recycle until the pipeline catches up. Nil when
	// the slot does not exist or has no restart_lsn (never reserved, or invalidated).
	RetainedBytes *int64
	// SlotActive is whether a consumer is attached to the slot; nil means no slot.
	SlotActive *bool
	// WALStatus is the slot's wal_status (reserved, extended, unreserved, lost); nil when
	// there is no slot or the server predates PostgreSQL 13.
	WALStatus *string
	// SafeWALSize is how many more bytes of WAL can be written before the slot is lost
	// (pg_replication_slots.safe_wal_size). Nil when max_slot_wal_keep_size is unlimited,
	// there is no slot, or the server predates PostgreSQL 13.
	SafeWALSize *int64
	// InRecovery: the source is a standby, and SizeBytes is its received/replayed position.
	InRecovery bool
}

// probeHead is what both probe statements read first: whether the server is a standby,
// its WAL position, and the slot's retention and activity.
const probeHead = `
WITH cur AS (
    SELECT pg_is_in_recovery() AS in_recovery,
           CASE WHEN pg_is_in_recovery()
                THEN coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
                ELSE pg_current_wal_lsn()
           END AS lsn
)
SELECT cur.in_recovery,
       pg_wal_lsn_diff(cur.lsn, '0/0')::bigint,
       pg_wal_lsn_diff(cur.lsn, s.restart_lsn)::bigint,
       s.active,
`

// probeSQL takes the sample in one round trip. pg_current_wal_lsn() fails on a standby,
// hence the CASE: there the position is the last WAL received (or, without streaming,
// replayed). The slot is read from pg_get_replication_slots(), the set-returning function
// behind the pg_replication_slots view, because the probe is nearly always the first
// statement of a new backend, whose catalog caches are cold: expanding the view (its rule,
// and its join to pg_database for a column the probe does not read) cost the source about
// 1.5 ms of CPU per probe more than the function alone (BenchmarkProbePhases).
const probeSQL = probeHead + `       s.wal_status,
       s.safe_wal_size
FROM cur
LEFT JOIN pg_get_replication_slots() s ON s.slot_name = $1`

// probeSQLBefore13 is probeSQL for servers older than PostgreSQL 13, which have no
// wal_status or safe_wal_size: read through to_jsonb, they are simply null there.
const probeSQLBefore13 = probeHead + `       to_jsonb(s) ->> 'wal_status',
       (to_jsonb(s) ->> 'safe_wal_size')::bigint
FROM cur
LEFT JOIN pg_replication_slots s ON s.slot_name = $1`

// probeStatement picks the statement for the server's version, which every server reports
// at login (server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)" or "9.6.24"), so knowing
// it costs no round trip. A version that cannot be read gets the statement that runs
// everywhere.
func probeStatement(serverVersion string) string {
	major := 0
	for _, r := range serverVersion {
		if r < '0' || r > '9' {
			break
		}
		major = major*10 + int(r-'0')
		if major > 1000 {
			break
		}
	}
	if major >= 13 {
		return probeSQL
	}
	return probeSQLBefore13
}

// ProbeWAL connects, samples the source's WAL position and the slot named slot, and
// disconnects. Connection failures are *ConnectError.
func ProbeWAL(ctx context.Context, c Conn, slot string) (WALSample, error) {
	conn, err := Connect(ctx, c)
	if err != nil {
		return WALSample{}, err
	}
	defer closeQuietly(conn)
	return SampleWAL(ctx, conn, c, slot)
}

// SampleWAL takes the sample on an open session to the source described by c (the WAL
// monitor keeps sessions between cycles). The statement has its own deadline, whatever
// ctx allows. Errors never contain c's password.
func SampleWAL(ctx context.Context, conn *pgx.Conn, c Conn, slot string) (WALSample, error) {
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var s WALSample
	var size *int64
	if err := conn.QueryRow(qctx, probeStatement(conn.PgConn().ParameterStatus("server_version")), slot).Scan(
		&s.InRecovery, &size, &s.RetainedBytes, &s.SlotActive, &s.WALStatus, &s.SafeWALSize); err != nil {
		return WALSample{}, fmt.Errorf("probe WAL on %s: %s", c.Addr(), queryFailure(err))
	}
	if size == nil {
		return WALSample{}, fmt.Errorf("probe WAL on %s: the standby has neither received nor replayed any WAL yet", c.Addr())
	}
	s.SizeBytes = *size
	return s, nil
}
