// Package pgsource talks to an operator's PostgreSQL: connecting with tight deadlines,
// the test-connection checks that gate a pipeline start (preflight), and the WAL and slot
// probe behind the WAL monitor. It never creates slots or publications: an unconsumed slot
// retains WAL until the source's disk fills.
package pgsource

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ConnectTimeout bounds reaching and authenticating to a source, DNS included.
const ConnectTimeout = 5 * time.Second

// StatementTimeout is set on every session so a query Rosetta sends can never hold locks
// or a backend on a production database for long.
const StatementTimeout = 5 * time.Second

// Conn says where a source is and how to log in.
type Conn struct {
	Host     string
	Port     int
	Database string
	User     string
	Password string
}

// String omits the password so a Conn can be printed or logged without leaking it.
func (c Conn) String() string {
	return fmt.Sprintf("%s@%s/%s", c.User, c.Addr(), c.Database)
}

// LogValue keeps slog from printing the password field.
func (c Conn) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host), slog.Int("port", c.Port),
		slog.String("database", c.Database), slog.String("user", c.User))
}

// Addr is host:port.
func (c Conn) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// baseConfig only exists because pgx configs must come from ParseConfig, which merges in
// PG* environment variables, ~/.pgpass and ~/.postgresql certificates. Every key here
// overrides an environment variable that could otherwise make parsing fail or change the
// connection (password=unused merely keeps it from reading ~/.pgpass); Connect then
// assigns each real value field by field, so nothing the operator typed is ever spliced
// into a connection string. (PGSERVICE cannot be overridden this way; Rosetta's
// environment must not set it.)
const baseConfig = "host=localhost port=5432 dbname=postgres user=rosetta password=unused " +
	"sslmode=disable sslcertmode=disable connect_timeout=5 target_session_attrs=any " +
	"min_protocol_version=3.0 max_protocol_version=3.0 channel_binding=prefer sslnegotiation=postgres"

// Connect opens a session to the source: TLS preferred but not required (libpq's
// sslmode=prefer), application_name=rosetta, statement_timeout 5s, and at most
// ConnectTimeout to get in. Failures are *ConnectError whose text is a sentence an
// operator can act on and never contains the password.
func Connect(ctx context.Context, c Conn) (*pgx.Conn, error) {
	cfg, err := config(c)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	// ConnectTimeout alone would allow 5 s per resolved address and per TLS fallback.
	cctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, classify(ctx, c, err, time.Since(start))
	}
	return conn, nil
}

func config(c Conn) (*pgx.ConnConfig, error) {
	if c.Host == "" {
		return nil, &ConnectError{Reason: ReasonInvalid, Message: "no host is configured"}
	}
	if c.Port < 1 || c.Port > 65535 {
		return nil, &ConnectError{Reason: ReasonInvalid, Message: fmt.Sprintf("port %d is not a valid TCP port", c.Port)}
	}
	if c.User == "" || c.Database == "" {
		return nil, &ConnectError{Reason: ReasonInvalid, Message: "a user and a database are required"}
	}
	cfg, err := pgx.ParseConfig(baseConfig)
	if err != nil {
		return nil, &ConnectError{Reason: ReasonInvalid, Message: "cannot build a connection configuration: " + err.Error(), err: err}
	}
	cfg.Host = c.Host
	cfg.Port = uint16(c.Port)
	cfg.Database = c.Database
	cfg.User = c.User
	cfg.Password = c.Password
	cfg.ConnectTimeout = ConnectTimeout
	cfg.DialFunc = (&net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	cfg.RuntimeParams = map[string]string{
		"application_name":  "rosetta",
		"statement_timeout": strconv.Itoa(int(StatementTimeout / time.Millisecond)),
	}
	// The extended protocol without a prepare step: each query is one round trip, and no
	// prepared statements linger on the operator's server.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	cfg.Fallbacks = nil
	if !strings.HasPrefix(c.Host, "/") {
		// sslmode=prefer: try TLS without verifying the certificate, fall back to plain text
		// when the server does not offer TLS.
		tlsCfg := &tls.Config{InsecureSkipVerify: true}
		if net.ParseIP(c.Host) == nil {
			tlsCfg.ServerName = c.Host
		}
		cfg.TLSConfig = tlsCfg
		cfg.Fallbacks = []*pgconn.FallbackConfig{{Host: c.Host, Port: uint16(c.Port)}}
	}
	return cfg, nil
}

// ConnectReason classifies a failed connection, for callers that treat causes differently
// (a wrong password is not worth retrying, a timeout is).
type ConnectReason string

const (
	ReasonInvalid     ConnectReason = "invalid"     // incomplete connection settings
	ReasonDNS         ConnectReason = "dns"         // host name does not resolve
	ReasonRefused     ConnectReason = "refused"     // nothing listening on the port
	ReasonUnreachable ConnectReason = "unreachable" // no route to the host
	ReasonTimeout     ConnectReason = "timeout"     // no answer within ConnectTimeout
	ReasonAuth        ConnectReason = "auth"        // wrong user or password
	ReasonNoDatabase  ConnectReason = "database"    // database does not exist
	ReasonRejected    ConnectReason = "rejected"    // server refused the login (pg_hba, privileges, limits)
	ReasonUnavailable ConnectReason = "unavailable" // server starting up or shutting down
	ReasonCanceled    ConnectReason = "canceled"    // the caller gave up
	ReasonOther       ConnectReason = "other"
)

// ConnectError is a failed Connect. Error() is the human sentence.
type ConnectError struct {
	Reason  ConnectReason
	Message string
	err     error
}

func (e *ConnectError) Error() string { return e.Message }
func (e *ConnectError) Unwrap() error { return e.err }

// Retryable reports whether trying again later may succeed without anyone changing the
// source's settings.
func (e *ConnectError) Retryable() bool {
	switch e.Reason {
	case ReasonRefused, ReasonUnreachable, ReasonTimeout, ReasonUnavailable, ReasonDNS, ReasonOther:
		return true
	}
	return false
}

func classify(ctx context.Context, c Conn, err error, elapsed time.Duration) *ConnectError {
	e := &ConnectError{Reason: ReasonOther, err: err}
	addr := c.Addr()
	var pgErr *pgconn.PgError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		e.Reason, e.Message = ReasonCanceled, fmt.Sprintf("connecting to %s was cancelled", addr)
	case errors.As(err, &pgErr):
		e.Reason, e.Message = classifyServerError(c, pgErr)
	case errors.As(err, &dnsErr) && !dnsErr.IsTimeout:
		e.Reason, e.Message = ReasonDNS, fmt.Sprintf("host name %q could not be resolved", c.Host)
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Reason, e.Message = ReasonRefused, fmt.Sprintf(
			"connection refused by %s: nothing is listening on that port (is PostgreSQL running and listening on that address?)", addr)
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		e.Reason, e.Message = ReasonUnreachable, fmt.Sprintf("host %s is unreachable (no route to %s)", c.Host, addr)
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || isNetTimeout(err):
		e.Reason, e.Message = ReasonTimeout, fmt.Sprintf(
			"timed out after %s connecting to %s: no answer (the host may be down, or a firewall may be dropping the traffic)",
			roundElapsed(elapsed), addr)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		e.Reason, e.Message = ReasonOther, fmt.Sprintf(
			"the server at %s closed the connection during start-up (is it a PostgreSQL server?)", addr)
	default:
		e.Message = fmt.Sprintf("could not connect to %s: %v", addr, err)
	}
	e.Message = scrub(e.Message, c.Password)
	return e
}

func classifyServerError(c Conn, pgErr *pgconn.PgError) (ConnectReason, string) {
	switch pgErr.Code {
	case "28P01":
		// PostgreSQL answers the same for an unknown role, on purpose; so do we.
		return ReasonAuth, fmt.Sprintf("password authentication failed for user %q", c.User)
	case "3D000":
		return ReasonNoDatabase, fmt.Sprintf("database %q does not exist on %s", c.Database, c.Addr())
	case "28000":
		return ReasonRejected, fmt.Sprintf("the server at %s rejected the login: %s", c.Addr(), pgErr.Message)
	case "42501":
		return ReasonRejected, fmt.Sprintf("user %q may not connect to database %q: %s", c.User, c.Database, pgErr.Message)
	case "53300":
		return ReasonUnavailable, fmt.Sprintf("the server at %s has no free connection slots: %s", c.Addr(), pgErr.Message)
	case "57P03":
		return ReasonUnavailable, fmt.Sprintf("the server at %s is not accepting connections yet: %s", c.Addr(), pgErr.Message)
	}
	return ReasonRejected, fmt.Sprintf("the server at %s refused the connection: %s (SQLSTATE %s)", c.Addr(), pgErr.Message, pgErr.Code)
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func roundElapsed(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Millisecond)
}

// scrub removes the password from text taken from driver or server errors: they are not
// supposed to contain it, and this makes sure.
func scrub(msg, password string) string {
	if password == "" {
		return msg
	}
	return strings.ReplaceAll(msg, password, "********")
}
