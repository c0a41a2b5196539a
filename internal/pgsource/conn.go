// Package pgsource talks to an operator's PostgreSQL: connecting with tight deadlines,
// the test-connection checks that gate a pipeline start (preflight), and the WAL and slot
// probe behind the WAL monitor. It never creates slots or publications: an unconsumed slot
// retains WAL until the source's disk fills.
package pgsource

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
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

// Conn says where a source is, how to log in and how to protect the connection.
type Conn struct {
	Host     string
	Port     int
	Database string
	User     string
	Password string
	// TLSMode has libpq's sslmode meanings; "" is TLSPrefer, how Rosetta always connected
	// before sources had a mode.
	TLSMode TLSMode
	// CACert is PEM text: the CA certificate(s) verify-ca and verify-full trust. Empty
	// means the system's trusted roots.
	CACert string
}

// String omits the password so a Conn can be printed or logged without leaking it.
func (c Conn) String() string {
	return fmt.Sprintf("%s@%s/%s", c.User, c.Addr(), c.Database)
}

// LogValue keeps slog from printing the password field.
func (c Conn) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host), slog.Int("port", c.Port),
		slog.String("database", c.Database), slog.String("user", c.User),
		slog.String("tls_mode", string(c.mode())))
}

// Addr is host:port.
func (c Conn) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// Key names everything that decides where and how a Conn connects, for caches of open
// sessions: a cached session may be reused only while its Conn's Key is unchanged. Every
// field is listed by name (TestConnKeyCoversEveryField changes each field of Conn by
// reflection, so a field added to Conn but not here fails it), each length-prefixed so
// no two values run together into the same bytes. It is a SHA-256, so the password is
// never kept in the clear beside a session. The empty TLS mode counts as prefer, which is
// what it means.
func (c Conn) Key() string {
	h := sha256.New()
	for _, v := range []string{c.Host, strconv.Itoa(c.Port), c.Database, c.User, c.Password, string(c.mode()), c.CACert} {
		fmt.Fprintf(h, "%d:%s;", len(v), v)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (c Conn) mode() TLSMode {
	if c.TLSMode == "" {
		return TLSPrefer
	}
	return c.TLSMode
}

// baseConfig only exists because pgx configs must come from ParseConfig, which merges in
// PG* environment variables, ~/.pgpass and ~/.postgresql certificates. Every key here
// overrides an environment variable that could otherwise make parsing fail or change the
// connection (password=unused merely keeps it from reading ~/.pgpass); Connect then
// assigns each real value field by field, so nothing the operator typed is ever spliced
// into a connection string. Empty values are quoted: unquoted, the parser would take the
// next key as the value. The TLS files are emptied because pgx reads PGSSLROOTCERT even
// with sslmode=disable; TLS is configured per source in tlsConfig instead. (PGSERVICE
// cannot be overridden this way; Rosetta's environment must not set it.)
const baseConfig = "host=localhost port=5432 dbname=postgres user=rosetta password=unused " +
	"sslmode=disable sslcertmode=disable connect_timeout=5 target_session_attrs=any " +
	"min_protocol_version=3.0 max_protocol_version=3.0 channel_binding=prefer sslnegotiation=postgres require_auth='' sslrootcert='' sslcert='' sslkey='' sslpassword=''"

// refuseCleartext is libpq's require_auth value that accepts every authentication method
// but "password", which sends the password itself. It is set on every attempt without
// TLS: SCRAM never reveals the password, md5 sends a salted hash (see the README on why
// md5 stays allowed), and trust sends nothing.
const refuseCleartext = "!password"

// Connect opens a session to the source with the source's TLS mode,
// application_name=rosetta, statement_timeout 5s, and at most ConnectTimeout to get in.
// It never sends the password in cleartext over a connection without TLS. Failures are
// *ConnectError, whose text is a sentence an operator can act on, built only from the
// failure's classification and the settings Rosetta holds: never from driver or server
// text, which could echo what was sent.
func Connect(ctx context.Context, c Conn) (*pgx.Conn, error) {
	return connect(ctx, c, nil)
}

// ConnectCached is Connect for a caller that connects to the same source again and again
// (the WAL monitor): the SCRAM keys derived from the source's password are kept in cache
// under id, the caller's name for the source, so later connections skip the key
// derivation (PBKDF2, 4,096 rounds of HMAC-SHA-256 at PostgreSQL's default) while the
// source's settings and its server's salt are unchanged. Everything else is Connect's.
func ConnectCached(ctx context.Context, c Conn, cache *SCRAMCache, id int64) (*pgx.Conn, error) {
	if cache == nil {
		return connect(ctx, c, nil)
	}
	return connect(ctx, c, &keySlot{cache: cache, id: id, connKey: c.Key()})
}

func connect(ctx context.Context, c Conn, slot *keySlot) (*pgx.Conn, error) {
	cfg, err := connConfig(c, slot)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	// One deadline for the whole of it, DNS and every resolved address included.
	cctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, classify(ctx, c, err, time.Since(start))
	}
	return conn, nil
}

// connConfig is the connection configuration for c. Each mode is one TCP connection:
// disable is plain text; require and the verify modes are pgx's own TLS, refused when the
// server declines; prefer asks for TLS on the socket itself (preferTLS) and carries on in
// plain text on that same socket when the server declines, as libpq does. In every mode
// Rosetta then logs in itself (startSession), with the SCRAM key cache slot when given.
func connConfig(c Conn, slot *keySlot) (*pgx.ConnConfig, error) {
	if c.Host == "" {
		return nil, &ConnectError{Reason: ReasonInvalid, Message: "no host is configured"}
	}
	if c.Port < 1 || c.Port > 65535 {
		return nil, &ConnectError{Reason: ReasonInvalid, Message: fmt.Sprintf("port %d is not a valid TCP port", c.Port)}
	}
	if c.User == "" || c.Database == "" {
		return nil, &ConnectError{Reason: ReasonInvalid, Message: "a user and a database are required"}
	}
	if !ValidTLSMode(string(c.mode())) {
		return nil, &ConnectError{Reason: ReasonInvalid, Message: fmt.Sprintf("TLS mode %q is not one of %s", c.TLSMode, tlsModeList())}
	}
	tlsCfg, err := tlsConfig(c)
	if err != nil {
		return nil, err
	}
	cfg, err := config(c)
	if err != nil {
		return nil, err
	}
	switch c.mode() {
	case TLSDisable:
		cfg.RequireAuth = refuseCleartext
		cfg.AfterNetConnect = startSession(nil, slot)
	case TLSPrefer:
		cfg.AfterNetConnect = startSession(tlsCfg, slot)
	default:
		cfg.TLSConfig = tlsCfg
		cfg.AfterNetConnect = startSession(nil, slot)
	}
	return cfg, nil
}

// parsedBase is baseConfig parsed once per process and copied for each connection:
// parsing it took ~110 µs of CPU per connection (~7 % of the monitor's CPU in a cycle
// profile), and since every key in it overrides its environment variable, the result never
// depends on when it is parsed.
var parsedBase = sync.OnceValues(func() (*pgx.ConnConfig, error) { return pgx.ParseConfig(baseConfig) })

func config(c Conn) (*pgx.ConnConfig, error) {
	base, err := parsedBase()
	if err != nil {
		// The string is a constant: this only fails if pgx stops understanding a key.
		return nil, &ConnectError{Reason: ReasonInvalid, Message: "cannot build a connection configuration", err: err}
	}
	cfg := base.Copy()
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
	// Nor does pgx need its statement and description caches, which that mode never
	// consults: each is a map sized for 512 statements, made for every new connection —
	// about 52 KB per probe, half of the bytes a WAL monitor cycle allocated (a -memprofile
	// of BenchmarkCycle), all of it garbage a few milliseconds later.
	cfg.StatementCacheCapacity = 0
	cfg.DescriptionCacheCapacity = 0
	cfg.TLSConfig = nil
	cfg.Fallbacks = nil
	return cfg, nil
}

// ConnectReason classifies a failed connection, for callers that treat causes differently
// (a wrong password is not worth retrying, a timeout is).
type ConnectReason string

const (
	ReasonInvalid        ConnectReason = "invalid"         // incomplete connection settings
	ReasonDNS            ConnectReason = "dns"             // host name does not resolve
	ReasonRefused        ConnectReason = "refused"         // nothing listening on the port
	ReasonUnreachable    ConnectReason = "unreachable"     // no route to the host
	ReasonTimeout        ConnectReason = "timeout"         // no answer within ConnectTimeout
	ReasonAuth           ConnectReason = "auth"            // wrong user or password
	ReasonNoDatabase     ConnectReason = "database"        // database does not exist
	ReasonRejected       ConnectReason = "rejected"        // server refused the login (pg_hba, privileges, limits)
	ReasonUnavailable    ConnectReason = "unavailable"     // server starting up or shutting down
	ReasonCanceled       ConnectReason = "canceled"        // the caller gave up
	ReasonCleartext      ConnectReason = "cleartext"       // server wanted the password in cleartext without TLS: refused
	ReasonTLSUnsupported ConnectReason = "tls_unsupported" // TLS required but the server does not offer it
	ReasonTLS            ConnectReason = "tls"             // TLS handshake or certificate verification failed
	ReasonOther          ConnectReason = "other"
)

// ConnectError is a failed Connect. Error() is the sentence for those who may edit the
// source: it names the address and the network reason. Public() is the sentence for
// everyone else, without network detail, so the console cannot be used as a port scanner
// by reading other people's results.
type ConnectError struct {
	Reason  ConnectReason
	Message string
	err     error
}

func (e *ConnectError) Error() string { return e.Message }
func (e *ConnectError) Unwrap() error { return e.err }

// PublicConnectMessage is what a viewer is told about any failed connection.
const PublicConnectMessage = "could not connect to the source; operators and admins can see why on the source's page"

// Public is the sentence for people who may not edit the source.
func (e *ConnectError) Public() string { return PublicConnectMessage }

// Retryable reports whether trying again later may succeed without anyone changing the
// source's settings.
func (e *ConnectError) Retryable() bool {
	switch e.Reason {
	case ReasonRefused, ReasonUnreachable, ReasonTimeout, ReasonUnavailable, ReasonDNS, ReasonOther:
		return true
	}
	return false
}

// Describe splits any error from this package into the sentence everyone may see and the
// detailed one for those who may edit the source, for callers that store errors (a
// pipeline's last error, the monitor's last probe error) and show them per role.
func Describe(err error) (public, detail string) {
	if err == nil {
		return "", ""
	}
	var ce *ConnectError
	if errors.As(err, &ce) {
		return ce.Public(), ce.Message
	}
	return "the source could not be read; operators and admins can see why on the source's page", err.Error()
}

// classify turns a pgx connection error into a sentence. Every message is built from the
// reason and the settings in c (never c.Password), not from the error's text: server and
// driver messages can echo what the client sent.
func classify(ctx context.Context, c Conn, err error, elapsed time.Duration) *ConnectError {
	e := &ConnectError{Reason: ReasonOther, err: err}
	addr := c.Addr()
	var (
		pgErr       *pgconn.PgError
		dnsErr      *net.DNSError
		unknownCA   x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalid     x509.CertificateInvalidError
		errno       syscall.Errno
		unsupported *unsupportedAuthError
	)
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		e.Reason, e.Message = ReasonCanceled, fmt.Sprintf("connecting to %s was cancelled", addr)
	case errors.As(err, &pgErr):
		e.Reason, e.Message = classifyServerError(c, pgErr)
	case cleartextRefused(err):
		e.Reason, e.Message = ReasonCleartext, fmt.Sprintf(
			"the server at %s asked for the password in cleartext on a connection without TLS, so Rosetta did not send it: "+
				"turn on TLS for this source (ssl = on at the server, TLS mode require or stricter), "+
				"or switch the server to scram-sha-256 authentication", addr)
	case errors.Is(err, errServerSignature):
		e.Reason, e.Message = ReasonAuth, fmt.Sprintf(
			"the server at %s did not prove that it knows the password of user %q (its SCRAM signature is wrong), "+
				"so Rosetta did not trust the session: it may not be the server this source names, or something on the "+
				"network path is answering for it (TLS mode verify-full rules that out)", addr, c.User)
	case errors.As(err, &unsupported):
		e.Reason, e.Message = ReasonRejected, fmt.Sprintf("%s (server at %s): use scram-sha-256 for Rosetta's user in pg_hba.conf",
			unsupported.Error(), addr)
	case tlsRefused(err):
		e.Reason, e.Message = ReasonTLSUnsupported, fmt.Sprintf(
			"the server at %s does not accept TLS connections, but this source's TLS mode is %q: "+
				"turn on ssl at the server, or choose TLS mode disable or prefer if the network path is trusted", addr, c.mode())
	case errors.As(err, &unknownCA):
		e.Reason, e.Message = ReasonTLS, fmt.Sprintf(
			"the certificate of the server at %s is not signed by %s: paste the CA certificate that signed it", addr, trustedRoots(c))
	case errors.As(err, &hostErr):
		e.Reason, e.Message = ReasonTLS, fmt.Sprintf(
			"the certificate of the server at %s is not valid for the host name %q: connect by a name the certificate lists, "+
				"or choose TLS mode verify-ca", addr, c.Host)
	case errors.As(err, &invalid):
		e.Reason, e.Message = ReasonTLS, fmt.Sprintf(
			"the certificate of the server at %s is not valid (%s)", addr, certProblem(invalid.Reason))
	case isTLSFailure(err):
		e.Reason, e.Message = ReasonTLS, fmt.Sprintf(
			"the TLS handshake with the server at %s failed (is it a PostgreSQL server with a usable certificate?)", addr)
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
	case errors.As(err, &errno):
		// The operating system's fixed text for the error number, nothing from the peer.
		e.Message = fmt.Sprintf("could not connect to %s: %s", addr, errno.Error())
	default:
		e.Message = fmt.Sprintf("could not connect to %s: the connection failed during start-up "+
			"(is it a PostgreSQL server speaking protocol 3.0?)", addr)
	}
	return e
}

func trustedRoots(c Conn) string {
	if c.CACert != "" {
		return "the CA certificate pasted for this source"
	}
	return "a CA this system trusts (no CA certificate is pasted)"
}

func certProblem(r x509.InvalidReason) string {
	switch r {
	case x509.Expired:
		return "it has expired or is not valid yet"
	case x509.IncompatibleUsage:
		return "it is not meant for server authentication"
	case x509.NotAuthorizedToSign, x509.CANotAuthorizedForThisName:
		return "it is signed by a certificate that may not sign it"
	}
	return "rejected by certificate verification"
}

// isTLSFailure catches handshake failures that are not about the certificate chain: an
// alert from the server, a peer that does not speak TLS after saying it would.
func isTLSFailure(err error) bool {
	var rh tls.RecordHeaderError
	var alert tls.AlertError
	var verr *tls.CertificateVerificationError
	return errors.As(err, &rh) || errors.As(err, &alert) || errors.As(err, &verr)
}

func classifyServerError(c Conn, pgErr *pgconn.PgError) (ConnectReason, string) {
	// The server's own message text is not used: it can quote what the client sent.
	switch pgErr.Code {
	case "28P01":
		// PostgreSQL answers the same for an unknown role, on purpose; so do we.
		return ReasonAuth, fmt.Sprintf("password authentication failed for user %q", c.User)
	case "3D000":
		return ReasonNoDatabase, fmt.Sprintf("database %q does not exist on %s", c.Database, c.Addr())
	case "28000":
		return ReasonRejected, fmt.Sprintf(
			"the server at %s rejected the login of user %q to database %q (SQLSTATE 28000): check that pg_hba.conf has "+
				"a line for Rosetta's address, this user and database, and whether that line requires TLS (hostssl)",
			c.Addr(), c.User, c.Database)
	case "42501":
		return ReasonRejected, fmt.Sprintf(
			"user %q may not connect to database %q (SQLSTATE 42501): GRANT CONNECT ON DATABASE %s TO %s;",
			c.User, c.Database, ident(c.Database), ident(c.User))
	case "53300":
		return ReasonUnavailable, fmt.Sprintf("the server at %s has no free connection slots (SQLSTATE 53300)", c.Addr())
	case "57P03":
		return ReasonUnavailable, fmt.Sprintf("the server at %s is not accepting connections yet: it is starting up, "+
			"shutting down or in recovery (SQLSTATE 57P03)", c.Addr())
	}
	return ReasonRejected, fmt.Sprintf("the server at %s refused the connection (SQLSTATE %s)", c.Addr(), sqlstate(pgErr.Code))
}

// sqlstate passes a server-sent code through only when it has the shape of one.
func sqlstate(code string) string {
	if len(code) != 5 {
		return "unknown"
	}
	for _, r := range code {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z') {
			return "unknown"
		}
	}
	return code
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
