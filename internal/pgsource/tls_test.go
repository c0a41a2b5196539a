package pgsource_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

// testCA is a throw-away certificate authority for a TLS test cluster.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM string
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert: cert, key: key, certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// serverFiles writes a server certificate signed by ca for the given IP addresses (no
// host names), and its key, where the cluster's server user can read them.
func (ca testCA) serverFiles(t *testing.T, ips ...net.IP) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "rosetta test server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: its parent is private to root, and PostgreSQL runs as postgres.
	dir, err := os.MkdirTemp("", "rosetta-tls-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 { // the server refuses a key file it does not own
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(keyFile, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

func connectReason(t *testing.T, c pgsource.Conn) (*pgsource.ConnectError, bool) {
	t.Helper()
	conn, err := pgsource.Connect(t.Context(), c)
	if err == nil {
		defer conn.Close(t.Context())
		var ssl bool
		if err := conn.QueryRow(t.Context(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil {
			t.Fatal(err)
		}
		// Every test cluster uses scram-sha-256: over TLS the login is bound to the channel.
		want := "SCRAM-SHA-256"
		if ssl {
			want = "SCRAM-SHA-256-PLUS"
		}
		if got := pgsource.LoginMethod(conn); got != want {
			t.Errorf("login mechanism %q over TLS=%v, want %q", got, ssl, want)
		}
		return nil, ssl
	}
	var ce *pgsource.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("Connect error %T %v is not a *ConnectError", err, err)
	}
	return ce, false
}

// A cluster with ssl=on and a certificate from a generated CA, listing only 127.0.0.1:
// each TLS mode does what libpq's sslmode of that name does.
func TestTLSModesAgainstAServerWithTLS(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "rosetta test CA")
	certFile, keyFile := ca.serverFiles(t, net.ParseIP("127.0.0.1"))
	cluster := testdb.NewClusterWithSettings(t, map[string]string{
		"ssl": "on", "ssl_cert_file": certFile, "ssl_key_file": keyFile,
	})
	src := testdb.NewSource(t, testdb.SourceOptions{Cluster: cluster})
	base := connOf(src) // Host is 127.0.0.1
	other := newTestCA(t, "someone else's CA")

	with := func(mode pgsource.TLSMode, host, caPEM string) pgsource.Conn {
		c := base
		c.TLSMode, c.Host, c.CACert = mode, host, caPEM
		return c
	}
	for _, tc := range []struct {
		name       string
		conn       pgsource.Conn
		wantTLS    bool
		wantReason pgsource.ConnectReason
		wantText   string
	}{
		{"verify-full with the pasted CA", with(pgsource.TLSVerifyFull, "127.0.0.1", ca.certPEM), true, "", ""},
		{"verify-full with another CA", with(pgsource.TLSVerifyFull, "127.0.0.1", other.certPEM), false, pgsource.ReasonTLS,
			"is not signed by the CA certificate pasted for this source"},
		{"verify-full with the system's CAs", with(pgsource.TLSVerifyFull, "127.0.0.1", ""), false, pgsource.ReasonTLS,
			"a CA this system trusts"},
		{"verify-full with a name the certificate lacks", with(pgsource.TLSVerifyFull, "localhost", ca.certPEM), false,
			pgsource.ReasonTLS, `is not valid for the host name "localhost"`},
		{"verify-ca ignores the name", with(pgsource.TLSVerifyCA, "localhost", ca.certPEM), true, "", ""},
		{"verify-ca with another CA", with(pgsource.TLSVerifyCA, "127.0.0.1", other.certPEM), false, pgsource.ReasonTLS,
			"is not signed by"},
		{"require", with(pgsource.TLSRequire, "127.0.0.1", ""), true, "", ""},
		{"prefer takes TLS when offered", with(pgsource.TLSPrefer, "127.0.0.1", ""), true, "", ""},
		{"the zero mode is prefer", with("", "127.0.0.1", ""), true, "", ""},
		{"disable", with(pgsource.TLSDisable, "127.0.0.1", ""), false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ce, ssl := connectReason(t, tc.conn)
			if tc.wantReason == "" {
				if ce != nil {
					t.Fatalf("Connect failed: %s (%s)", ce.Message, ce.Reason)
				}
				if ssl != tc.wantTLS {
					t.Errorf("connection uses TLS = %v, want %v", ssl, tc.wantTLS)
				}
				return
			}
			if ce == nil {
				t.Fatalf("Connect succeeded, want a %s failure", tc.wantReason)
			}
			if ce.Reason != tc.wantReason || !strings.Contains(ce.Message, tc.wantText) {
				t.Errorf("Connect error = %s: %q, want %s containing %q", ce.Reason, ce.Message, tc.wantReason, tc.wantText)
			}
			if strings.Contains(ce.Message, base.Password) || strings.Contains(ce.Public(), "127.0.0.1") {
				t.Errorf("error leaks: %q / %q", ce.Message, ce.Public())
			}
		})
	}
}

// A server without TLS (the shared test server) fails every mode that needs TLS, with a
// sentence that says what to change; prefer and disable connect in plain text.
func TestTLSRequiredButServerHasNone(t *testing.T) {
	t.Parallel()
	src := testdb.NewSource(t, testdb.SourceOptions{})
	for _, mode := range []pgsource.TLSMode{pgsource.TLSRequire, pgsource.TLSVerifyCA, pgsource.TLSVerifyFull} {
		c := connOf(src)
		c.TLSMode = mode
		ce, _ := connectReason(t, c)
		if ce == nil || ce.Reason != pgsource.ReasonTLSUnsupported {
			t.Fatalf("%s against a server without TLS: %v, want %s", mode, ce, pgsource.ReasonTLSUnsupported)
		}
		expectContains(t, ce.Message, "does not accept TLS connections", fmt.Sprintf("TLS mode is %q", mode), "turn on ssl")
		if ce.Retryable() {
			t.Errorf("%s: a missing TLS setup is not fixed by retrying", mode)
		}
	}
	for _, mode := range []pgsource.TLSMode{pgsource.TLSPrefer, pgsource.TLSDisable} {
		c := connOf(src)
		c.TLSMode = mode
		if ce, ssl := connectReason(t, c); ce != nil || ssl {
			t.Errorf("%s: error %v, TLS %v; want a plain connection", mode, ce, ssl)
		}
	}
}

// backendsForked runs fn and returns how many connections the cluster accepted meanwhile,
// from its log_connections lines: each is a backend the server forked.
func backendsForked(t *testing.T, logFile string, fn func()) int {
	t.Helper()
	before, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	fn()
	after, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(after[len(before):], []byte("connection received:"))
}

// prefer costs the source one connection whether or not it offers TLS, as libpq's does:
// asked for TLS, a server without it says no and the session carries on in plain text on
// the same socket. (pgx's own fallback dials again, and each probe forked two backends.)
func TestPreferIsOneConnection(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "rosetta test CA")
	certFile, keyFile := ca.serverFiles(t, net.ParseIP("127.0.0.1"))
	for _, tc := range []struct {
		name     string
		settings map[string]string
		wantTLS  bool
	}{
		{"server without TLS", map[string]string{"log_connections": "on"}, false},
		{"server with TLS", map[string]string{"log_connections": "on", "ssl": "on", "ssl_cert_file": certFile, "ssl_key_file": keyFile}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cluster := testdb.NewClusterWithSettings(t, tc.settings)
			src := testdb.NewSource(t, testdb.SourceOptions{Cluster: cluster, CreateSlot: true})
			for _, mode := range []pgsource.TLSMode{pgsource.TLSPrefer, ""} {
				c := connOf(src)
				c.TLSMode = mode
				var ssl bool
				n := backendsForked(t, cluster.LogFile(), func() {
					var ce *pgsource.ConnectError
					if ce, ssl = connectReason(t, c); ce != nil {
						t.Fatalf("mode %q: %s", mode, ce.Message)
					}
				})
				if n != 1 || ssl != tc.wantTLS {
					t.Errorf("mode %q: Connect forked %d backends with TLS %v, want 1 with TLS %v", mode, n, ssl, tc.wantTLS)
				}
				n = backendsForked(t, cluster.LogFile(), func() {
					if _, err := pgsource.ProbeWAL(t.Context(), c, src.Slot); err != nil {
						t.Fatalf("mode %q: ProbeWAL: %v", mode, err)
					}
				})
				if n != 1 {
					t.Errorf("mode %q: a WAL probe forked %d backends, want 1", mode, n)
				}
			}
		})
	}
}

// A server that agrees to TLS and then does not speak it fails a prefer connection as a TLS
// failure, as before: prefer falls back to plain text only when the server says no.
func TestPreferWithABrokenTLSServer(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-served })
	go func() {
		defer close(served)
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		var req [8]byte
		if _, err := io.ReadFull(conn, req[:]); err != nil {
			return
		}
		_, _ = conn.Write([]byte("SHTTP/1.0 400 Bad Request\r\n\r\n"))
		_, _ = io.Copy(io.Discard, conn)
	}()
	c := pgsource.Conn{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Database: "app", User: "rosetta",
		Password: "pw-broken-tls", TLSMode: pgsource.TLSPrefer}
	ce, _ := connectReason(t, c)
	if ce == nil || ce.Reason != pgsource.ReasonTLS {
		t.Fatalf("Connect = %v, want a %s failure", ce, pgsource.ReasonTLS)
	}
	expectContains(t, ce.Message, "TLS handshake", l.Addr().String())
}

// fakeServer is just enough of a PostgreSQL server to ask for the password in cleartext:
// it declines TLS, answers the startup message with AuthenticationCleartextPassword and
// records every byte the client sends afterwards.
type fakeServer struct {
	addr *net.TCPAddr
	mu   sync.Mutex
	// asked counts connections that got as far as the cleartext password request.
	asked    int
	after    bytes.Buffer
	users    []string
	handlers sync.WaitGroup
	// recorded gets a value when a connection that was asked for the password ends (the
	// client hung up): from then on, everything it sent is in after.
	recorded chan struct{}
}

func startFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{addr: l.Addr().(*net.TCPAddr), recorded: make(chan struct{}, 16)}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait(); f.handlers.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			f.handlers.Add(1)
			go func() {
				defer f.handlers.Done()
				defer conn.Close()
				f.serve(conn)
			}()
		}
	}()
	return f
}

func (f *fakeServer) serve(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	be := pgproto3.NewBackend(conn, conn)
	for {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := conn.Write([]byte("N")); err != nil {
				return
			}
			continue
		case *pgproto3.StartupMessage:
			f.mu.Lock()
			f.users = append(f.users, m.Parameters["user"])
			f.mu.Unlock()
		default:
			return
		}
		break
	}
	be.Send(&pgproto3.AuthenticationCleartextPassword{})
	if err := be.Flush(); err != nil {
		return
	}
	f.mu.Lock()
	f.asked++
	f.mu.Unlock()
	defer func() { f.recorded <- struct{}{} }()
	// Whatever comes now would be the password message: keep all of it.
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		f.mu.Lock()
		f.after.Write(buf[:n])
		f.mu.Unlock()
		if err != nil { // io.EOF: the client hung up
			return
		}
	}
}

// The finding: a server (or an impostor on the path) that asks for a cleartext password
// on a connection without TLS must get nothing.
func TestCleartextPasswordIsNeverSentWithoutTLS(t *testing.T) {
	t.Parallel()
	const password = "s3cret-cleartext-password"
	for _, mode := range []pgsource.TLSMode{pgsource.TLSDisable, pgsource.TLSPrefer, ""} {
		t.Run("mode "+string(mode), func(t *testing.T) {
			f := startFakeServer(t)
			c := pgsource.Conn{Host: "127.0.0.1", Port: f.addr.Port, Database: "app", User: "rosetta",
				Password: password, TLSMode: mode}
			_, err := pgsource.Connect(t.Context(), c)
			select {
			case <-f.recorded:
			case <-time.After(time.Minute): // a guard against hanging, not a measurement
				t.Fatal("the fake server was never asked for the password, or the client never hung up")
			}
			f.mu.Lock()
			asked, users, after := f.asked, f.users, bytes.Clone(f.after.Bytes())
			f.mu.Unlock()
			if asked != 1 || len(users) != 1 || users[0] != "rosetta" {
				t.Fatalf("the fake server asked %d times (users %v): the test did not reach the password request", asked, users)
			}
			if bytes.Contains(after, []byte(password)) {
				t.Fatalf("the password reached the server: %q", after)
			}
			if len(after) > 0 && after[0] == 'p' {
				t.Fatalf("the client answered with a password message: %q", after)
			}
			var ce *pgsource.ConnectError
			if !errors.As(err, &ce) || ce.Reason != pgsource.ReasonCleartext {
				t.Fatalf("Connect = %v, want a %s refusal", err, pgsource.ReasonCleartext)
			}
			expectContains(t, ce.Message, "asked for the password in cleartext", "did not send it", "TLS", "scram-sha-256",
				f.addr.String())
			if ce.Retryable() {
				t.Error("a cleartext refusal is not fixed by retrying")
			}
			// RunChecks says the same as the connection check.
			checks := pgsource.RunChecks(t.Context(), c, "p", "s")
			expectStatuses(t, checks, "connection=fail")
			expectContains(t, checks[0].Message, "did not send it")
		})
	}
}

// A server whose pg_hba.conf says md5 and whose role's password is stored as md5 asks
// for MD5: Rosetta's own login answers it (allowed without TLS, see the README), and a
// wrong password gets the usual sentence.
func TestMD5PasswordLogsIn(t *testing.T) {
	t.Parallel()
	cluster := testdb.NewClusterWithSettings(t, map[string]string{"password_encryption": "md5"})
	src := testdb.NewSource(t, testdb.SourceOptions{Cluster: cluster})
	hba := filepath.Join(cluster.DataDir(), "pg_hba.conf")
	b, err := os.ReadFile(hba)
	if err != nil {
		t.Fatal(err)
	}
	// md5 lines answer SCRAM-stored passwords (the superuser's) with SCRAM, md5-stored
	// ones (the source role's, under password_encryption = md5) with MD5.
	if err := os.WriteFile(hba, bytes.ReplaceAll(b, []byte("scram-sha-256"), []byte("md5")), 0o600); err != nil {
		t.Fatal(err)
	}
	// A restart rather than a reload: a reload is applied by the postmaster some time
	// after it is asked, and the logins below must meet the new rules.
	if err := cluster.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(t.Context(), cluster.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(t.Context())
	var stored string
	if err := admin.QueryRow(t.Context(), "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = $1", src.User).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != "md5" {
		t.Fatalf("the role's password is stored as %q…, want md5", stored)
	}
	for _, mode := range []pgsource.TLSMode{pgsource.TLSDisable, pgsource.TLSPrefer} {
		c := connOf(src)
		c.TLSMode = mode
		conn, err := pgsource.Connect(t.Context(), c)
		if err != nil {
			t.Fatalf("mode %s: MD5 login: %v", mode, err)
		}
		if got := pgsource.LoginMethod(conn); got != "md5" {
			t.Errorf("mode %s: login method %q, want md5", mode, got)
		}
		conn.Close(t.Context())
		c.Password = "wrong"
		ce, _ := connectReason(t, c)
		if ce == nil || ce.Reason != pgsource.ReasonAuth {
			t.Errorf("mode %s: wrong password under MD5 = %v, want a %s failure", mode, ce, pgsource.ReasonAuth)
		}
	}
}

// A real server whose pg_hba.conf says password (cleartext) gets the password over TLS,
// and nothing without it.
func TestCleartextPasswordOnlyOverTLS(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "rosetta test CA")
	certFile, keyFile := ca.serverFiles(t, net.ParseIP("127.0.0.1"))
	cluster := testdb.NewClusterWithSettings(t, map[string]string{
		"ssl": "on", "ssl_cert_file": certFile, "ssl_key_file": keyFile,
	})
	src := testdb.NewSource(t, testdb.SourceOptions{Cluster: cluster})
	hba := filepath.Join(cluster.DataDir(), "pg_hba.conf")
	b, err := os.ReadFile(hba)
	if err != nil {
		t.Fatal(err)
	}
	// Only the source's role: the superuser keeps SCRAM.
	line := fmt.Sprintf("host all %s 127.0.0.1/32 password\n", src.User)
	if err := os.WriteFile(hba, append([]byte(line), b...), 0o600); err != nil {
		t.Fatal(err)
	}
	// A restart rather than a reload: a reload is applied by the postmaster some time
	// after it is asked, and the logins below must meet the new rules.
	if err := cluster.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	c := connOf(src)
	c.TLSMode, c.CACert = pgsource.TLSVerifyFull, ca.certPEM
	conn, err := pgsource.Connect(t.Context(), c)
	if err != nil {
		t.Fatalf("verify-full with a cleartext-password server: %v", err)
	}
	if got := pgsource.LoginMethod(conn); got != "password" {
		t.Errorf("login method %q, want password", got)
	}
	conn.Close(t.Context())
	c.TLSMode, c.CACert = pgsource.TLSDisable, ""
	ce, _ := connectReason(t, c)
	if ce == nil || ce.Reason != pgsource.ReasonCleartext {
		t.Fatalf("disable with a cleartext-password server = %v, want a %s refusal", ce, pgsource.ReasonCleartext)
	}
}
