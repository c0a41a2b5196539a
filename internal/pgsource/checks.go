package pgsource

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Status of one check. A pipeline may start when no check failed; warnings are shown.
type Status string

const (
	StatusOK   Status = "ok"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
)

// Check names, in the order RunChecks returns them.
const (
	CheckConnection      = "connection"
	CheckWALLevel        = "wal_level"
	CheckPublication     = "publication"
	CheckReplicationRole = "replication_role"
	CheckReplicationSlot = "replication_slot"
)

// Check is one line of the test-connection report. Message is a sentence the console
// shows verbatim to those who may edit the source (only they can run the checks).
// Public, when set, replaces it for everyone else wherever the result is stored and shown
// later (a pipeline's last error): it carries no network detail.
type Check struct {
	Name    string `json:"name"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	Public  string `json:"-"`
}

// check builds a Check whose sentence holds no network detail, so everyone may see it.
func check(name string, status Status, message string) Check {
	return Check{Name: name, Status: status, Message: message}
}

// PublicMessage is the check's sentence for people who may not edit the source.
func (c Check) PublicMessage() string {
	if c.Public != "" {
		return c.Public
	}
	return c.Message
}

// FirstFailure returns the first failed check, which is what a refused pipeline start
// reports as its error.
func FirstFailure(checks []Check) (Check, bool) {
	for _, c := range checks {
		if c.Status == StatusFail {
			return c, true
		}
	}
	return Check{}, false
}

// queryTimeout bounds the catalog query after connecting; it reads a handful of rows.
const queryTimeout = 3 * time.Second

// factsSQL reads everything the checks need in one round trip. pg_roles, pg_publication
// and pg_replication_slots are readable by any role, so the checks work for the
// unprivileged role an operator gives Rosetta.
const factsSQL = `
SELECT current_setting('wal_level'),
       current_database(),
       r.rolsuper,
       r.rolreplication,
       EXISTS (SELECT 1 FROM pg_roles g
               WHERE g.rolname = 'rds_replication' AND pg_has_role(r.oid, g.oid, 'MEMBER')),
       p.oid IS NOT NULL,
       coalesce(p.puballtables, false),
       (SELECT count(*) FROM pg_publication_tables pt WHERE pt.pubname = $1),
       s.slot_type,
       s.plugin,
       s.database
FROM pg_roles r
LEFT JOIN pg_publication p ON p.pubname = $1
LEFT JOIN pg_replication_slots s ON s.slot_name = $2
WHERE r.rolname = current_user`

type facts struct {
	walLevel, database           string
	super, replication, rdsRepl  bool
	pubExists, pubAllTables      bool
	pubTables                    int64
	slotType, slotPlugin, slotDB *string
}

// RunChecks is the preflight: can Rosetta reach the source, and is it set up for logical
// replication through publication and slot? When the connection fails only that check is
// returned, since the others need a session. It finishes within about ConnectTimeout
// against an unreachable host, and never changes anything on the source.
func RunChecks(ctx context.Context, c Conn, publication, slot string) []Check {
	conn, err := Connect(ctx, c)
	if err != nil {
		public, detail := Describe(err)
		return []Check{{Name: CheckConnection, Status: StatusFail, Message: detail, Public: public}}
	}
	defer closeQuietly(conn)

	checks := []Check{{Name: CheckConnection, Status: StatusOK, Message: fmt.Sprintf(
		"connected to database %q on %s as %q (PostgreSQL %s)",
		c.Database, c.Addr(), c.User, conn.PgConn().ParameterStatus("server_version"))}}

	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var f facts
	err = conn.QueryRow(qctx, factsSQL, publication, slot).Scan(
		&f.walLevel, &f.database, &f.super, &f.replication, &f.rdsRepl,
		&f.pubExists, &f.pubAllTables, &f.pubTables, &f.slotType, &f.slotPlugin, &f.slotDB)
	if err != nil {
		msg := "could not read the server's settings: " + queryFailure(err)
		for _, name := range []string{CheckWALLevel, CheckPublication, CheckReplicationRole, CheckReplicationSlot} {
			checks = append(checks, Check{Name: name, Status: StatusFail, Message: msg,
				Public: "could not read the server's settings; operators and admins can see why"})
		}
		return checks
	}
	return append(checks,
		walLevelCheck(f),
		publicationCheck(f, publication),
		replicationRoleCheck(f, c.User),
		slotCheck(f, slot))
}

func walLevelCheck(f facts) Check {
	if f.walLevel == "logical" {
		return check(CheckWALLevel, StatusOK, "wal_level is logical")
	}
	return check(CheckWALLevel, StatusFail, fmt.Sprintf(
		"wal_level is %q, but logical replication needs \"logical\": run ALTER SYSTEM SET wal_level = logical; "+
			"then restart PostgreSQL (a reload is not enough)", f.walLevel))
}

func publicationCheck(f facts, publication string) Check {
	switch {
	case publication == "":
		return check(CheckPublication, StatusFail, "no publication name is configured for this source")
	case !f.pubExists:
		return check(CheckPublication, StatusFail, fmt.Sprintf(
			"publication %q does not exist in database %q: create it with CREATE PUBLICATION %s FOR TABLE …; "+
				"(or FOR ALL TABLES)", publication, f.database, ident(publication)))
	case f.pubTables == 0:
		return check(CheckPublication, StatusWarn, fmt.Sprintf(
			"publication %q exists in database %q but publishes no tables yet: ALTER PUBLICATION %s ADD TABLE …;",
			publication, f.database, ident(publication)))
	case f.pubAllTables:
		return check(CheckPublication, StatusOK, fmt.Sprintf(
			"publication %q exists in database %q and publishes all tables (%d)", publication, f.database, f.pubTables))
	}
	return check(CheckPublication, StatusOK, fmt.Sprintf(
		"publication %q exists in database %q and publishes %d table(s)", publication, f.database, f.pubTables))
}

func replicationRoleCheck(f facts, user string) Check {
	switch {
	case f.super:
		return check(CheckReplicationRole, StatusOK, fmt.Sprintf("role %q is a superuser, so it may replicate", user))
	case f.replication:
		return check(CheckReplicationRole, StatusOK, fmt.Sprintf("role %q has the REPLICATION attribute", user))
	case f.rdsRepl:
		// Amazon RDS does not hand out REPLICATION; membership of rds_replication is its
		// equivalent.
		return check(CheckReplicationRole, StatusOK, fmt.Sprintf("role %q is a member of rds_replication", user))
	}
	return check(CheckReplicationRole, StatusFail, fmt.Sprintf(
		"role %q may not replicate: ALTER ROLE %s WITH REPLICATION; (on Amazon RDS: GRANT rds_replication TO %s;)",
		user, ident(user), ident(user)))
}

// SlotCreation is the one statement of who creates what on an operator's server. The
// missing-slot check says it, and the source form's help, the API's documentation of
// replication_id and the README quote it, so the words cannot drift apart again.
const SlotCreation = "Rosetta never creates replication slots or publications itself: the publication must exist " +
	"before a pipeline starts, and a missing slot is created by the replication worker when the pipeline first streams."

func slotCheck(f facts, slot string) Check {
	if slot == "" {
		return check(CheckReplicationSlot, StatusFail, "no replication slot name (replication id) is configured for this source")
	}
	if f.slotType == nil {
		return check(CheckReplicationSlot, StatusWarn, fmt.Sprintf(
			"replication slot %q does not exist yet. %s", slot, SlotCreation))
	}
	drop := fmt.Sprintf("drop it (SELECT pg_drop_replication_slot(%s);) or choose another replication id", literal(slot))
	switch {
	case *f.slotType != "logical":
		return check(CheckReplicationSlot, StatusFail, fmt.Sprintf(
			"replication slot %q is a %s slot, but the pipeline needs a logical slot using pgoutput: %s",
			slot, *f.slotType, drop))
	case deref(f.slotPlugin) != "pgoutput":
		return check(CheckReplicationSlot, StatusFail, fmt.Sprintf(
			"replication slot %q uses the %q plugin, but the pipeline needs \"pgoutput\": %s",
			slot, deref(f.slotPlugin), drop))
	case deref(f.slotDB) != f.database:
		// Slot names are unique per server, so another database's slot cannot be shared.
		return check(CheckReplicationSlot, StatusFail, fmt.Sprintf(
			"replication slot %q belongs to database %q, not %q: choose another replication id",
			slot, deref(f.slotDB), f.database))
	}
	return check(CheckReplicationSlot, StatusOK, fmt.Sprintf("replication slot %q exists (logical, pgoutput)", slot))
}

// queryFailure describes a failed query on an open session from its classification and
// SQLSTATE, not from its text.
func queryFailure(err error) string {
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		return fmt.Sprintf("the server refused the query (SQLSTATE %s)", sqlstate(pgErr.Code))
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || isNetTimeout(err):
		return fmt.Sprintf("no answer within %s", queryTimeout)
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "the connection broke while reading the answer"
}

func closeQuietly(conn *pgx.Conn) {
	// Closing sends a Terminate message; a hung server must not hold the caller up.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
