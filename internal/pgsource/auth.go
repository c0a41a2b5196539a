package pgsource

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Rosetta authenticates to a source itself, inside pgx's AfterNetConnect hook, and hands
// pgx the session at the point where the server has said AuthenticationOk: pgx then reads
// the server's parameters, backend key and ReadyForQuery (and any error after login, such
// as a missing database) exactly as it would have. Doing the exchange here is what lets
// the WAL monitor keep each source's SCRAM keys between cycles (scram.go); the rules are
// the ones pgx's configuration expressed before:
//
//   - a cleartext password is sent only over TLS (require_auth=!password otherwise);
//   - MD5 is answered (see the README on why it stays allowed); trust needs nothing;
//   - SCRAM-SHA-256-PLUS is used when TLS is up and the server offers it, and the
//     server's final signature is verified before the login counts;
//   - any other method (GSSAPI, SSPI, OAUTHBEARER) is refused with a sentence saying so.
//
// Passwords outside printable ASCII are left to pgx's own exchange: SCRAM normalizes them
// with SASLprep, which pgx implements (with PostgreSQL's fallbacks) and Rosetta does not
// duplicate. For printable ASCII, SASLprep changes nothing.

// errCleartextRefused: the server asked for the password in cleartext on a connection
// without TLS, and it was not sent.
var errCleartextRefused = errors.New("the server requested password authentication (cleartext) without TLS; the password was not sent")

// unsupportedAuthError names an authentication method Rosetta cannot answer.
type unsupportedAuthError struct{ method string }

func (e *unsupportedAuthError) Error() string {
	return "the server asked for " + e.method + " authentication, which Rosetta does not support"
}

// selfAuthenticates reports whether Rosetta's own exchange handles this password (see above).
func selfAuthenticates(password string) bool {
	for i := 0; i < len(password); i++ {
		if password[i] < 0x20 || password[i] > 0x7e {
			return false
		}
	}
	return true
}

// startSession is the AfterNetConnect hook of every source connection: the TLS decision
// when it is Rosetta's, then the login. For TLS mode prefer, prefer is the TLS
// configuration to ask for on the socket itself (preferTLS); the other modes pass nil and
// arrive here with their TLS, if any, set up by pgx. slot, when not nil, is the source's
// place in a SCRAM key cache.
func startSession(prefer *tls.Config, slot *keySlot) func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error) {
	return func(ctx context.Context, pc *pgconn.Config, nc net.Conn) (net.Conn, error) {
		// pgx watches ctx only from the startup message on: until then this is on its own.
		if d, ok := ctx.Deadline(); ok {
			_ = nc.SetDeadline(d)
		}
		stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
		conn, err := nc, error(nil)
		if prefer != nil {
			conn, err = preferTLS(ctx, prefer, nc)
		} else if tc, ok := nc.(*tls.Conn); ok {
			// require and the verify modes: finish pgx's handshake here, so a certificate
			// problem is reported as one rather than as a failed write.
			err = tc.HandshakeContext(ctx)
		}
		var done *authenticated
		if err == nil {
			// What pgx would enforce if it ran the exchange; kept set for the passwords
			// it still does (non-ASCII).
			if _, encrypted := conn.(*tls.Conn); encrypted {
				pc.RequireAuth = ""
			} else {
				pc.RequireAuth = refuseCleartext
			}
			if selfAuthenticates(pc.Password) {
				done, err = authenticate(conn, pc, slot)
			}
		}
		if !stop() || err != nil {
			if err == nil {
				err = ctx.Err()
			}
			// pgx closes the connection it is handed back with the error.
			return nc, err
		}
		_ = nc.SetDeadline(time.Time{})
		if done != nil {
			return done, nil
		}
		return conn, nil
	}
}

// preferTLS does libpq's sslmode=prefer on one socket: it asks the server for TLS and,
// when the server says yes, completes the handshake with cfg (no certificate check: prefer
// only keeps passive listeners out); when it says no, the connection carries on in plain
// text on the same socket. pgx's own prefer (a TLSConfig plus a plain-text fallback)
// closes the socket after the "no" and dials again, so every connection to a server
// without TLS cost a second TCP connection and a second forked backend on the source,
// which on a small server was a quarter of a WAL probe's cost (BENCHMARKS.md, "WAL
// monitor cycle").
//
// What pgx does not know is that the connection is encrypted, so a cancel request it sends
// after a failed query goes in plain text (with the backend's pid and cancel key, which only
// let an eavesdropper cancel that one query); Rosetta's sessions never ask pgx to cancel.
func preferTLS(ctx context.Context, cfg *tls.Config, nc net.Conn) (net.Conn, error) {
	answer, err := askForTLS(nc)
	if err != nil || answer != 'S' {
		return nc, err
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nc, err
	}
	return tc, nil
}

// authReaders recycles the login's read buffers: a login needs one only until
// AuthenticationOk (what it holds then is copied for pgx), and the WAL monitor logs in to
// every source every cycle, so a new 4 KB buffer each time was garbage for the collector.
var authReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// maxAuthMessage bounds a message during authentication; the largest real one is a list
// of SASL mechanisms or an error, well under a kilobyte.
const maxAuthMessage = 64 << 10

// authenticate sends the startup message built as pgx builds it and answers the server's
// authentication requests until AuthenticationOk, which it keeps for pgx to read.
func authenticate(conn net.Conn, pc *pgconn.Config, slot *keySlot) (*authenticated, error) {
	startup := &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: maps.Clone(pc.RuntimeParams)}
	if startup.Parameters == nil {
		startup.Parameters = map[string]string{}
	}
	startup.Parameters["user"] = pc.User
	if pc.Database != "" {
		startup.Parameters["database"] = pc.Database
	}
	if err := send(conn, startup); err != nil {
		return nil, err
	}
	_, encrypted := conn.(*tls.Conn)
	// Buffered: the server's answers to each step often arrive together (SASLFinal,
	// AuthenticationOk, the parameters, ReadyForQuery), and one read for them costs less
	// than two per message. Whatever is read past AuthenticationOk is handed to pgx with it.
	br := authReaders.Get().(*bufio.Reader)
	br.Reset(conn)
	defer func() {
		br.Reset(nil) // keep no connection reachable from the pool
		authReaders.Put(br)
	}()
	var scram *scramExchange
	method := "trust" // until the server asks for something
	for {
		typ, body, err := receive(br)
		if err != nil {
			return nil, err
		}
		switch typ {
		case 'E':
			var e pgproto3.ErrorResponse
			if err := e.Decode(body); err != nil {
				return nil, err
			}
			if scram != nil {
				scram.failed()
			}
			return nil, pgconn.ErrorResponseToPgError(&e)
		case 'N', 'S':
			continue // a notice, or a parameter the server reports early: pgx learns them after login
		case 'R':
		default:
			return nil, fmt.Errorf("unexpected message %q during authentication", typ)
		}
		if len(body) < 4 {
			return nil, errors.New("authentication message too short")
		}
		var reply pgproto3.FrontendMessage
		switch code := binary.BigEndian.Uint32(body); code {
		case pgproto3.AuthTypeOk:
			if scram != nil && !scram.ok {
				// AuthenticationOk before the server proved itself: a server that skips
				// the SCRAM exchange's end has not shown it knows the password's verifier.
				scram.failed()
				return nil, errServerSignature
			}
			rest, _ := br.Peek(br.Buffered())
			replay := make([]byte, 0, 5+len(body)+len(rest))
			replay = append(replay, 'R')
			replay = binary.BigEndian.AppendUint32(replay, uint32(4+len(body)))
			replay = append(append(replay, body...), rest...)
			if scram != nil {
				method = scram.mechanism
			}
			return &authenticated{Conn: conn, replay: replay, startup: startup, method: method}, nil
		case pgproto3.AuthTypeCleartextPassword:
			if !encrypted {
				return nil, errCleartextRefused
			}
			reply, method = &pgproto3.PasswordMessage{Password: pc.Password}, "password"
		case pgproto3.AuthTypeMD5Password:
			if len(body) != 8 {
				return nil, errors.New("malformed MD5 authentication request")
			}
			reply, method = &pgproto3.PasswordMessage{Password: "md5" + hexMD5(hexMD5(pc.Password+pc.User)+string(body[4:8]))}, "md5"
		case pgproto3.AuthTypeSASL:
			var m pgproto3.AuthenticationSASL
			if err := m.Decode(body); err != nil {
				return nil, err
			}
			if scram != nil {
				return nil, errors.New("the server restarted SASL authentication")
			}
			tc, _ := conn.(*tls.Conn)
			if scram, err = newSCRAMExchange(m.AuthMechanisms, tc, pc.Password, slot); err != nil {
				return nil, err
			}
			reply = &pgproto3.SASLInitialResponse{AuthMechanism: scram.mechanism, Data: scram.clientFirst()}
		case pgproto3.AuthTypeSASLContinue:
			if scram == nil || scram.auth != nil {
				return nil, errors.New("unexpected SCRAM server-first-message")
			}
			data, err := scram.clientFinal(body[4:])
			if err != nil {
				return nil, err
			}
			reply = &pgproto3.SASLResponse{Data: data}
		case pgproto3.AuthTypeSASLFinal:
			if scram == nil || scram.auth == nil || scram.ok {
				return nil, errors.New("unexpected SCRAM server-final-message")
			}
			if err := scram.verifyServerFinal(body[4:]); err != nil {
				return nil, err
			}
			scram.ok = true
			continue
		case pgproto3.AuthTypeGSS, pgproto3.AuthTypeGSSCont:
			return nil, &unsupportedAuthError{method: "GSSAPI (Kerberos)"}
		case pgproto3.AuthTypeSSPI:
			return nil, &unsupportedAuthError{method: "SSPI"}
		default:
			return nil, &unsupportedAuthError{method: fmt.Sprintf("an unknown kind of (code %d)", code)}
		}
		if err := send(conn, reply); err != nil {
			return nil, err
		}
	}
}

func hexMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func send(conn net.Conn, m pgproto3.FrontendMessage) error {
	b, err := m.Encode(nil)
	if err != nil {
		return err
	}
	_, err = conn.Write(b)
	return err
}

// receive reads one message.
func receive(r io.Reader) (byte, []byte, error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint32(h[1:]))
	if n < 4 || n-4 > maxAuthMessage {
		return 0, nil, fmt.Errorf("malformed message during authentication (length %d)", n)
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return h[0], body, nil
}

// authenticated is a session Rosetta has logged in, as handed to pgx: pgx's first write,
// its own startup message, is checked against the one Rosetta sent and not sent again,
// and its first reads return the server's AuthenticationOk, and whatever was read after
// it, before the rest of the stream.
type authenticated struct {
	net.Conn
	startup *pgproto3.StartupMessage
	// method is how the login went: "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "md5",
	// "password" (over TLS only) or "trust"; for tests.
	method string

	rmu    sync.Mutex
	replay []byte

	wmu     sync.Mutex
	pending []byte // pgx's startup message, while it is incomplete
	passed  bool   // the startup message has been swallowed; writes go straight through
}

func (a *authenticated) Read(p []byte) (int, error) {
	a.rmu.Lock()
	if len(a.replay) > 0 {
		n := copy(p, a.replay)
		a.replay = a.replay[n:]
		a.rmu.Unlock()
		return n, nil
	}
	a.rmu.Unlock()
	return a.Conn.Read(p)
}

func (a *authenticated) Write(p []byte) (int, error) {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if a.passed {
		return a.Conn.Write(p)
	}
	a.pending = append(a.pending, p...)
	if len(a.pending) < 4 {
		return len(p), nil
	}
	n := int(binary.BigEndian.Uint32(a.pending))
	if n < 8 || n > maxAuthMessage {
		return 0, errors.New("pgx's first message is not a startup message")
	}
	if len(a.pending) < n {
		return len(p), nil
	}
	var m pgproto3.StartupMessage
	if err := m.Decode(a.pending[4:n]); err != nil || m.ProtocolVersion != a.startup.ProtocolVersion ||
		!maps.Equal(m.Parameters, a.startup.Parameters) {
		// pgx would have asked for something other than what was logged in with.
		return 0, errors.New("pgx's startup message differs from the one Rosetta authenticated with")
	}
	rest := a.pending[n:]
	a.pending, a.passed = nil, true
	if len(rest) > 0 {
		if _, err := a.Conn.Write(rest); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
