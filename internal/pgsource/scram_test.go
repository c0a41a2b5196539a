package pgsource

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func sourceConn(src testdb.Source) Conn {
	return Conn{Host: src.Host, Port: src.Port, Database: src.Database, User: src.User, Password: src.Password}
}

func cachedKeys(cache *SCRAMCache, id int64) *scramKeys {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	return cache.m[id].keys
}

func probeSession(t *testing.T, c Conn, cache *SCRAMCache, id int64) error {
	t.Helper()
	conn, err := ConnectCached(t.Context(), c, cache, id)
	if err != nil {
		return err
	}
	defer closeQuietly(conn)
	var one int
	if err := conn.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("query on a session logged in with cached keys: %v", err)
	}
	return nil
}

// The WAL monitor's path: the first login derives the source's SCRAM keys and keeps them,
// the next ones log in to the real server with the kept keys (no derivation: the entry is
// the same one), and a password changed on the server (ALTER ROLE picks a new salt) is
// noticed: the stored password that is now wrong fails with the usual sentence and leaves
// no keys behind, the right one logs in and replaces them.
func TestCachedSCRAMKeysLogInAndFollowPasswordChanges(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{})
	c := sourceConn(src)
	cache := NewSCRAMCache()
	const id = 7

	if err := probeSession(t, c, cache, id); err != nil {
		t.Fatalf("first login: %v", err)
	}
	first := cachedKeys(cache, id)
	if first == nil || first.iterations != 4096 || len(first.salt) == 0 {
		t.Fatalf("no keys kept after a SCRAM login: %+v", first)
	}
	for range 3 {
		if err := probeSession(t, c, cache, id); err != nil {
			t.Fatalf("login with kept keys: %v", err)
		}
	}
	if got := cachedKeys(cache, id); got != first {
		t.Fatal("the keys were derived again although the password and the salt are unchanged")
	}

	admin := testdb.Admin(t)
	role := pgx.Identifier{src.User}.Sanitize()
	if _, err := admin.Exec(t.Context(), fmt.Sprintf("ALTER ROLE %s PASSWORD 'changed-on-the-server'", role)); err != nil {
		t.Fatal(err)
	}
	err := probeSession(t, c, cache, id)
	var ce *ConnectError
	if !errors.As(err, &ce) || ce.Reason != ReasonAuth || !strings.Contains(ce.Message, "password authentication failed") {
		t.Fatalf("login with the old password after ALTER ROLE = %v, want a %s failure", err, ReasonAuth)
	}
	if cache.Len() != 0 {
		t.Error("a failed login left the source's keys in the cache")
	}
	changed := c
	changed.Password = "changed-on-the-server"
	if err := probeSession(t, changed, cache, id); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	second := cachedKeys(cache, id)
	if second == nil || second == first || bytes.Equal(second.salt, first.salt) {
		t.Fatal("the new password's keys were not derived for the server's new salt")
	}

	// The same password set again gets a new salt too: the kept keys no longer match it,
	// and the login still works.
	if _, err := admin.Exec(t.Context(), fmt.Sprintf("ALTER ROLE %s PASSWORD 'changed-on-the-server'", role)); err != nil {
		t.Fatal(err)
	}
	if err := probeSession(t, changed, cache, id); err != nil {
		t.Fatalf("login after the same password was set again: %v", err)
	}
	if third := cachedKeys(cache, id); third == second || bytes.Equal(third.salt, second.salt) {
		t.Fatal("the keys of the old salt were used for the new one")
	}

	// Changing the password in Rosetta (a different Conn.Key) never meets the old keys.
	renamed := changed
	renamed.Password = "not-the-password"
	if err := probeSession(t, renamed, cache, id); !errors.As(err, &ce) || ce.Reason != ReasonAuth {
		t.Fatalf("login with another stored password = %v, want a %s failure", err, ReasonAuth)
	}

	cache.Retain(map[int64]bool{id + 1: true})
	if cache.Len() != 0 {
		t.Error("Retain kept the keys of a source not listed")
	}
	if s := fmt.Sprint(cache); strings.Contains(s, "changed") || s != "SCRAMCache(0 sources)" {
		t.Errorf("the cache prints as %q", s)
	}
}

// Passwords outside printable ASCII are left to pgx's SCRAM (SASLprep); they log in.
func TestNonASCIIPasswordLogsIn(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{})
	const pw = "pässwörd-ünïcode"
	if _, err := testdb.Admin(t).Exec(t.Context(), fmt.Sprintf("ALTER ROLE %s PASSWORD '%s'", pgx.Identifier{src.User}.Sanitize(), pw)); err != nil {
		t.Fatal(err)
	}
	c := sourceConn(src)
	c.Password = pw
	cache := NewSCRAMCache()
	if err := probeSession(t, c, cache, 1); err != nil {
		t.Fatalf("login with a non-ASCII password: %v", err)
	}
	if cache.Len() != 0 {
		t.Error("keys were kept for a password Rosetta's exchange does not handle")
	}
}

// scramServer is a fake PostgreSQL that runs the server side of SCRAM-SHA-256 for one
// password, then either proves it (a correct ServerSignature, then a login) or, as an
// impostor that has not got the role's verifier would have to, answers with a wrong
// signature, or skips the signature and says AuthenticationOk.
type scramServer struct {
	addr     *net.TCPAddr
	password string
	salt     []byte

	mu       sync.Mutex
	behave   string // "honest", "wrong-signature", "skip-final"
	logins   int    // sessions that reached ReadyForQuery
	proofsOK int    // client proofs that verified
}

func startSCRAMServer(t *testing.T, password string) *scramServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scramServer{addr: l.Addr().(*net.TCPAddr), password: password, salt: []byte("0123456789abcdef"), behave: "honest"}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				s.serve(conn)
			}()
		}
	}()
	return s
}

func (s *scramServer) set(behave string) {
	s.mu.Lock()
	s.behave = behave
	s.mu.Unlock()
}

func (s *scramServer) serve(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	s.mu.Lock()
	behave := s.behave
	s.mu.Unlock()
	be := pgproto3.NewBackend(conn, conn)
	for {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return
		}
		if _, ok := msg.(*pgproto3.SSLRequest); ok {
			if _, err := conn.Write([]byte("N")); err != nil {
				return
			}
			continue
		}
		if _, ok := msg.(*pgproto3.StartupMessage); !ok {
			return
		}
		break
	}
	be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{scramSHA256}})
	if be.Flush() != nil {
		return
	}
	be.SetAuthType(pgproto3.AuthTypeSASL)
	msg, err := be.Receive()
	if err != nil {
		return
	}
	initial, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || initial.AuthMechanism != scramSHA256 {
		return
	}
	// Cloned: a received message's bytes are only valid until the next Receive.
	clientFirstBare, ok := bytes.CutPrefix(bytes.Clone(initial.Data), []byte("n,,"))
	if !ok {
		return
	}
	clientNonce := string(clientFirstBare[bytes.Index(clientFirstBare, []byte("r="))+2:])
	serverFirst := fmt.Sprintf("r=%sserver-nonce,s=%s,i=4096", clientNonce, base64.StdEncoding.EncodeToString(s.salt))
	be.Send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	if be.Flush() != nil {
		return
	}
	be.SetAuthType(pgproto3.AuthTypeSASLContinue)
	if msg, err = be.Receive(); err != nil {
		return
	}
	final, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return
	}
	withoutProof, proof, _ := strings.Cut(string(final.Data), ",p=")
	keys, err := deriveSCRAMKeys(s.password, s.salt, 4096)
	if err != nil {
		return
	}
	auth := []byte(string(clientFirstBare) + "," + serverFirst + "," + withoutProof)
	sig := hmacSHA256(keys.storedKey, auth)
	got, _ := base64.StdEncoding.DecodeString(proof)
	if len(got) == len(sig) {
		clientKey := make([]byte, len(sig))
		for i := range sig {
			clientKey[i] = got[i] ^ sig[i]
		}
		if h := sha256.Sum256(clientKey); hmac.Equal(h[:], keys.storedKey) {
			s.mu.Lock()
			s.proofsOK++
			s.mu.Unlock()
		}
	}
	switch behave {
	case "wrong-signature":
		be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))})
	case "honest":
		be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(hmacSHA256(keys.serverKey, auth)))})
	}
	be.Send(&pgproto3.AuthenticationOk{})
	be.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "15.18"})
	be.Send(&pgproto3.BackendKeyData{ProcessID: 42, SecretKey: []byte{1, 2, 3, 4}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if be.Flush() != nil {
		return
	}
	s.mu.Lock()
	s.logins++ // the server sent it; whether the client accepted is the test's question
	s.mu.Unlock()
	_, _ = be.Receive() // Terminate, or the client hanging up
}

// The server's final signature is verified, with fresh and with kept keys: a server that
// cannot produce it (it does not hold the role's verifier) or that skips it is refused with
// a sentence that says so, and the kept keys are dropped.
func TestSCRAMServerSignatureIsVerified(t *testing.T) {
	t.Parallel()
	const password = "the-sources-password"
	f := startSCRAMServer(t, password)
	c := Conn{Host: "127.0.0.1", Port: f.addr.Port, Database: "app", User: "rosetta", Password: password, TLSMode: TLSPrefer}
	cache := NewSCRAMCache()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	conn, err := ConnectCached(ctx, c, cache, 1)
	if err != nil {
		t.Fatalf("login to the honest fake server: %v", err)
	}
	closeQuietly(conn)
	if cache.Len() != 1 {
		t.Fatal("no keys kept after a verified login")
	}

	for _, behave := range []string{"wrong-signature", "skip-final"} {
		for _, withCache := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s cached=%v", behave, withCache), func(t *testing.T) {
				f.set(behave)
				var conn *pgx.Conn
				var err error
				if withCache {
					conn, err = ConnectCached(ctx, c, cache, 1)
				} else {
					conn, err = Connect(ctx, c)
				}
				if err == nil {
					closeQuietly(conn)
					t.Fatal("logged in although the server did not prove it knows the password")
				}
				var ce *ConnectError
				if !errors.As(err, &ce) || ce.Reason != ReasonAuth || !strings.Contains(ce.Message, "did not prove that it knows the password") {
					t.Fatalf("error = %v, want a %s failure about the server's signature", err, ReasonAuth)
				}
				if strings.Contains(ce.Message, password) {
					t.Errorf("the message leaks the password: %q", ce.Message)
				}
				if ce.Retryable() {
					t.Error("an impostor is not fixed by retrying")
				}
				if cache.Len() != 0 {
					t.Error("keys the server did not accept are still kept")
				}
			})
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.proofsOK != 5 {
		t.Errorf("the fake server verified %d client proofs, want 5 (every attempt sent a correct proof)", f.proofsOK)
	}
}

// pgx's startup message is checked against the one Rosetta logged in with, and a
// different one is refused rather than taken as the session's.
func TestStartupMessageMustMatch(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	want := &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "rosetta", "database": "app"}}
	ac := &authenticated{Conn: a, startup: want}
	other := &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "postgres", "database": "app"}}
	raw, err := other.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ac.Write(raw); err == nil {
		t.Fatal("a startup message for another user was accepted")
	}

	ac = &authenticated{Conn: a, startup: want, replay: []byte("R\x00\x00\x00\x08\x00\x00\x00\x00")}
	same, err := want.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = b.Write([]byte("Z")) }()
	// Written in two pieces, as a short write would: swallowed whole, nothing reaches the peer.
	if _, err := ac.Write(same[:3]); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.Write(same[3:]); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := ac.Read(buf)
	if err != nil || n != 9 || buf[0] != 'R' {
		t.Fatalf("first read = %q, %v; want the kept AuthenticationOk", buf[:n], err)
	}
	if n, err = ac.Read(buf); err != nil || string(buf[:n]) != "Z" {
		t.Fatalf("second read = %q, %v; want the server's stream", buf[:n], err)
	}
}
