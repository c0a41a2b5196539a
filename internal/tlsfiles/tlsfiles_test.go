package tlsfiles

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testPair is a self-signed certificate for 127.0.0.1 and its key, in PEM.
type testPair struct {
	name         string
	cert         *x509.Certificate
	certPEM, key []byte
}

func newPair(t *testing.T, name string) testPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testPair{
		name: name, cert: cert,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// install replaces path the way renewal tools do: write beside it, rename over it.
func install(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve runs an HTTPS server on a loopback port through Wrap-like wiring and returns
// its address.
func serve(t *testing.T, r *Reloader) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:  http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }),
		ErrorLog: nil,
	}
	go func() { _ = srv.Serve(tls.NewListener(ln, r.TLSConfig())) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// servedCertificate makes a real HTTPS request, trusting every given pair, and returns the
// common name of the certificate the server presented.
func servedCertificate(t *testing.T, addr string, trust ...testPair) string {
	t.Helper()
	roots := x509.NewCertPool()
	for _, p := range trust {
		roots.AddCert(p.cert)
	}
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		DisableKeepAlives: true, // every request is a fresh handshake
		ForceAttemptHTTP2: true,
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + addr + "/")
	if err != nil {
		t.Fatalf("HTTPS request: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "ok" || resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		t.Fatalf("HTTPS answer %q, TLS %v", body, resp.TLS)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol %s, want HTTP/2 to be offered", resp.Proto)
	}
	return resp.TLS.PeerCertificates[0].Subject.CommonName
}

func TestRenewedFilesAreServedAndBrokenOnesIgnored(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first, second, third := newPair(t, "first"), newPair(t, "second"), newPair(t, "third")
	install(t, certFile, first.certPEM)
	install(t, keyFile, first.key)

	logs := &syncBuffer{}
	r, err := New(certFile, keyFile, slog.New(slog.NewTextHandler(logs, nil)), WithCheckInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r)
	all := []testPair{first, second, third}
	if got := servedCertificate(t, addr, all...); got != "first" {
		t.Fatalf("serving %q, want first", got)
	}

	// Renewal: key first, then certificate, as two separate renames. In between the
	// pair does not match, and the old one must stay in service.
	install(t, keyFile, second.key)
	if got := servedCertificate(t, addr, all...); got != "first" {
		t.Fatalf("with the key renewed but not yet the certificate: serving %q, want first", got)
	}
	install(t, certFile, second.certPEM)
	if got := servedCertificate(t, addr, all...); got != "second" {
		t.Fatalf("after renewal: serving %q, want second", got)
	}
	if !strings.Contains(logs.String(), "TLS certificate reloaded") || !strings.Contains(logs.String(), "CN=second") {
		t.Errorf("reload not logged:\n%s", logs)
	}

	// A half-written certificate, written in place: the last good pair stays.
	if err := os.WriteFile(certFile, third.certPEM[:len(third.certPEM)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if got := servedCertificate(t, addr, all...); got != "second" {
		t.Fatalf("after a broken replacement: serving %q, want second", got)
	}
	if !strings.Contains(logs.String(), "still serving the previous certificate") {
		t.Errorf("broken replacement not logged:\n%s", logs)
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Error("key material in the log")
	}

	// Finishing the write (and the key) is picked up.
	install(t, keyFile, third.key)
	if err := os.WriteFile(certFile, third.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := servedCertificate(t, addr, all...); got != "third" {
		t.Fatalf("after the replacement was completed: serving %q, want third", got)
	}
}

// The files are looked at no more often than the interval: between checks a handshake
// costs no file system access, so a renewal shows only after the next check.
func TestChecksAtMostEveryInterval(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first, second := newPair(t, "first"), newPair(t, "second")
	install(t, certFile, first.certPEM)
	install(t, keyFile, first.key)
	r, err := New(certFile, keyFile, nil, WithCheckInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	install(t, certFile, second.certPEM)
	install(t, keyFile, second.key)
	if c, _ := r.GetCertificate(nil); c.Leaf.Subject.CommonName != "first" {
		t.Fatalf("re-read before the interval elapsed: %s", c.Leaf.Subject.CommonName)
	}
	r.mu.Lock()
	r.checked = time.Now().Add(-2 * time.Hour) // the interval has passed
	r.mu.Unlock()
	if c, _ := r.GetCertificate(nil); c.Leaf.Subject.CommonName != "second" {
		t.Fatalf("not re-read after the interval: %s", c.Leaf.Subject.CommonName)
	}
}

func TestLoadNamesTheFileAtFault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p, other := newPair(t, "p"), newPair(t, "other")
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cert, key := write("c.pem", p.certPEM), write("k.pem", p.key)
	otherKey := write("other.pem", other.key)
	garbage := write("garbage.pem", []byte("not pem"))
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name       string
		cert, key  string
		faultyCert bool
	}{
		{"missing certificate", missing, key, true},
		{"missing key", cert, missing, false},
		{"certificate not PEM", garbage, key, true},
		{"key not PEM", cert, garbage, false},
		{"key of another certificate", cert, otherKey, false},
	} {
		_, err := Load(tc.cert, tc.key)
		var pe *PairError
		if !errors.As(err, &pe) || pe.Cert != tc.faultyCert {
			t.Errorf("%s: err = %v (%#v), want a PairError with Cert=%v", tc.name, err, pe, tc.faultyCert)
		}
	}
	if c, err := Load(cert, key); err != nil || c.Leaf.Subject.CommonName != "p" {
		t.Fatalf("good pair: %v", err)
	}
}

func TestWrapWithoutFilesIsPlainHTTP(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got, scheme, err := Wrap(ln, "", "", nil)
	if err != nil || got != ln || scheme != "http" {
		t.Fatalf("Wrap without files: %v %q %v", got, scheme, err)
	}
	if _, _, err := Wrap(ln, filepath.Join(t.TempDir(), "none.crt"), filepath.Join(t.TempDir(), "none.key"), nil); err == nil ||
		!strings.Contains(err.Error(), "TLS_CERT_FILE") {
		t.Fatalf("Wrap with missing files: err = %v", err)
	}
}
