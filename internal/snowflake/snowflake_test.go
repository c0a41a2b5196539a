package snowflake_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/snowflake"
)

var (
	keyOnce sync.Once
	key2048 *rsa.PrivateKey
)

// testKey is one 2048-bit key for the whole package: generating RSA keys is slow.
func testKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if key2048, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	})
	return key2048
}

func pkcs8PEM(t *testing.T, k *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func writeFile(t *testing.T, name string, data []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile's mode is filtered by the umask
		t.Fatal(err)
	}
	return p
}

func openssl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = strings.NewReader(string(stdin))
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("openssl %v: %v\n%s", args, err, stderr)
	}
	return out
}

func byName(checks []snowflake.Check) map[string]snowflake.Check {
	m := map[string]snowflake.Check{}
	for _, c := range checks {
		m[c.Name] = c
	}
	return m
}

// local runs the checks against an unreachable host, so only the local ones matter.
func local(t *testing.T, cfg snowflake.Config) snowflake.Report {
	t.Helper()
	if cfg.Account == "" {
		cfg.Account = "acme-analytics"
	}
	cfg.User, cfg.Role, cfg.Database, cfg.Schema = "rosetta", "LOADER", "RAW", "ORDERS"
	cfg.Host = "snowflake.invalid"
	return snowflake.RunChecks(context.Background(), cfg, snowflake.Options{Timeout: 5 * time.Second})
}

func expect(t *testing.T, r snowflake.Report, name string, status snowflake.Status, fragments ...string) {
	t.Helper()
	c, ok := byName(r.Checks)[name]
	if !ok {
		t.Fatalf("no %s check in %+v", name, r.Checks)
	}
	if c.Status != status {
		t.Errorf("%s: status %s, want %s (%s)", name, c.Status, status, c.Message)
	}
	for _, f := range fragments {
		if !strings.Contains(c.Message, f) {
			t.Errorf("%s: %q does not say %q", name, c.Message, f)
		}
	}
}

func TestLocalKeyChecks(t *testing.T) {
	t.Parallel()
	k := testKey(t)
	plain := pkcs8PEM(t, k)
	encrypted := openssl(t, plain, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:correct horse")
	if !strings.Contains(string(encrypted), "BEGIN ENCRYPTED PRIVATE KEY") {
		t.Fatalf("openssl did not encrypt: %s", encrypted)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	cases := []struct {
		name   string
		cfg    snowflake.Config
		check  string
		status snowflake.Status
		says   []string
	}{
		{"PKCS#8 unencrypted", snowflake.Config{PrivateKeyPath: writeFile(t, "k.p8", plain, 0o600)},
			snowflake.CheckKeyFormat, snowflake.StatusOK, []string{"PKCS#8, not encrypted"}},
		{"PKCS#8 unencrypted needs no passphrase", snowflake.Config{PrivateKeyPath: writeFile(t, "k.p8", plain, 0o600)},
			snowflake.CheckKeyPassphrase, snowflake.StatusOK, []string{"no passphrase is needed"}},
		{"private file", snowflake.Config{PrivateKeyPath: writeFile(t, "k.p8", plain, 0o600)},
			snowflake.CheckPrivateKey, snowflake.StatusOK, []string{"readable by the Rosetta server only", "0600"}},
		{"strong key", snowflake.Config{PrivateKeyPath: writeFile(t, "k.p8", plain, 0o600)},
			snowflake.CheckKeyStrength, snowflake.StatusOK, []string{"RSA 2048 bits", "SHA256:", "DESC USER ROSETTA"}},
		{"PKCS#8 encrypted, right passphrase", snowflake.Config{PrivateKeyPath: writeFile(t, "k.p8", encrypted, 0o600),
			Passphrase: []byte("correct horse")},
			snowflake.CheckKeyPassphrase, snowflake.StatusOK, []string{"stored passphrase decrypts"}},
		{"PKCS#8 encrypted format", snowflake.Config{PrivateKeyPath: writeFile(t, "k.p8", encrypted, 0o600),
			Passphrase: []byte("correct horse")},
			snowflake.CheckKeyFormat, snowflake.StatusOK, []string{"PKCS#8, encrypted"}},
		{"PKCS#8 encrypted, wrong passphrase", snowflake.Config{PrivateKeyPath: writeFile(t, "k.p8", encrypted, 0o600),
			Passphrase: []byte("battery staple")},
			snowflake.CheckKeyPassphrase, snowflake.StatusFail, []string{"does not decrypt", "enter the passphrase"}},
		{"PKCS#8 encrypted, no passphrase", snowflake.Config{PrivateKeyPath: writeFile(t, "k.p8", encrypted, 0o600)},
			snowflake.CheckKeyPassphrase, snowflake.StatusFail, []string{"encrypted but no passphrase is stored"}},
		{"PKCS#1", snowflake.Config{PrivateKeyPath: writeFile(t, "k.pem", pkcs1, 0o600)},
			snowflake.CheckKeyFormat, snowflake.StatusWarn, []string{"PKCS#1", "openssl pkcs8 -topk8"}},
		{"RSA 1024", snowflake.Config{PrivateKeyPEM: pkcs8PEM(t, weak)},
			snowflake.CheckKeyStrength, snowflake.StatusFail, []string{"1024 bits", "at least 2048"}},
		{"world-readable file", snowflake.Config{PrivateKeyPath: writeFile(t, "k.p8", plain, 0o644)},
			snowflake.CheckPrivateKey, snowflake.StatusWarn, []string{"group or others", "chmod 600"}},
		{"missing file", snowflake.Config{PrivateKeyPath: filepath.Join(dir, "nope.p8")},
			snowflake.CheckPrivateKey, snowflake.StatusFail, []string{"does not exist", "paste the key"}},
		{"directory", snowflake.Config{PrivateKeyPath: dir},
			snowflake.CheckPrivateKey, snowflake.StatusFail, []string{"is a directory"}},
		{"not PEM", snowflake.Config{PrivateKeyPEM: []byte("hello")},
			snowflake.CheckKeyFormat, snowflake.StatusFail, []string{"not PEM"}},
		{"pasted key", snowflake.Config{PrivateKeyPEM: plain},
			snowflake.CheckPrivateKey, snowflake.StatusOK, []string{"pasted", "stored sealed"}},
		{"passphrase for a plain key", snowflake.Config{PrivateKeyPEM: plain, Passphrase: []byte("x")},
			snowflake.CheckKeyPassphrase, snowflake.StatusWarn, []string{"not encrypted", "clear the passphrase"}},
		{"bad account", snowflake.Config{Account: "acme analytics!", PrivateKeyPEM: plain},
			snowflake.CheckAccount, snowflake.StatusFail, []string{"neither orgname-accountname", "Account identifier"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, local(t, tc.cfg), tc.check, tc.status, tc.says...)
		})
	}
}

func TestFingerprintMatchesOpenSSL(t *testing.T) {
	t.Parallel()
	k := testKey(t)
	pub := openssl(t, pkcs8PEM(t, k), "rsa", "-pubout", "-outform", "DER")
	want := "SHA256:" + strings.TrimSpace(string(openssl(t, openssl(t, pub, "dgst", "-sha256", "-binary"), "base64")))
	got, err := snowflake.Fingerprint(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("fingerprint %s, openssl says %s", got, want)
	}
	r := local(t, snowflake.Config{PrivateKeyPEM: pkcs8PEM(t, k)})
	if r.Fingerprint != want {
		t.Errorf("report fingerprint %s, want %s", r.Fingerprint, want)
	}
}

func TestParseAccount(t *testing.T) {
	cases := []struct {
		in, jwt, host string
		legacy, ok    bool
	}{
		{"acme-analytics", "ACME-ANALYTICS", "acme-analytics.snowflakecomputing.com", false, true},
		{"Acme-Data_Lake", "ACME-DATA_LAKE", "acme-data_lake.snowflakecomputing.com", false, true},
		{"xy12345", "XY12345", "xy12345.snowflakecomputing.com", true, true},
		{"xy12345.us-east-2.aws", "XY12345", "xy12345.us-east-2.aws.snowflakecomputing.com", true, true},
		{"xy12345.east-us-2.azure", "XY12345", "xy12345.east-us-2.azure.snowflakecomputing.com", true, true},
		{"xy12345.us-central1.gcp", "XY12345", "xy12345.us-central1.gcp.snowflakecomputing.com", true, true},
		{"xy12345.us-east-2.oracle", "", "", false, false},
		{"xy12345.nowhere", "", "", false, false},
		{"a.b.c.d", "", "", false, false},
		{"-acme", "", "", false, false},
		{"", "", "", false, false},
	}
	for _, c := range cases {
		a, err := snowflake.ParseAccount(c.in)
		if (err == nil) != c.ok {
			t.Errorf("%q: err %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if c.ok && (a.JWTName != c.jwt || a.Host != c.host || a.Legacy != c.legacy) {
			t.Errorf("%q: %+v", c.in, a)
		}
	}
}

// fakeSnowflake is a TLS server that checks key-pair JWTs the way Snowflake documents
// them, for one registered public key, and answers the SQL API's statement endpoint.
func fakeSnowflake(t *testing.T, pub *rsa.PublicKey, account, user string, usable map[string]bool) (*httptest.Server, *int) {
	t.Helper()
	fp, err := snowflake.Fingerprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	signIns := 0
	reject := func(w http.ResponseWriter, why string) {
		t.Logf("fake Snowflake rejects the token: %s", why)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"code":"390144","message":"JWT token is invalid."}`))
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/statements" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("X-Snowflake-Authorization-Token-Type") != "KEYPAIR_JWT" {
			reject(w, "token type header")
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		parts := strings.Split(token, ".")
		if !ok || len(parts) != 3 {
			reject(w, "not a bearer JWT")
			return
		}
		dec := base64.RawURLEncoding
		var header struct{ Alg string }
		var claims struct {
			Iss, Sub string
			Iat, Exp int64
		}
		hb, _ := dec.DecodeString(parts[0])
		cb, _ := dec.DecodeString(parts[1])
		sig, _ := dec.DecodeString(parts[2])
		if json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil || header.Alg != "RS256" {
			reject(w, "header or claims")
			return
		}
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
			reject(w, "signature")
			return
		}
		sub := account + "." + user
		now := time.Now().Unix()
		if claims.Sub != sub || claims.Iss != sub+"."+fp {
			reject(w, "iss "+claims.Iss+" / sub "+claims.Sub)
			return
		}
		if claims.Exp-claims.Iat > 3600 || claims.Exp <= now || claims.Iat > now+60 {
			reject(w, "lifetime")
			return
		}
		var req struct{ Statement, Role, Warehouse, Database, Schema string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || !strings.Contains(req.Statement, "CURRENT_ROLE()") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		signIns++
		mu.Unlock()
		cell := func(name, v string) any {
			if usable[name] {
				return v
			}
			return nil
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"code": "090001", "message": "Statement executed successfully.",
			"data": [][]any{{req.Role, cell("warehouse", req.Warehouse), cell("database", req.Database), cell("schema", req.Schema)}}})
	}))
	t.Cleanup(srv.Close)
	return srv, &signIns
}

func serverOptions(t *testing.T, srv *httptest.Server) (host string, opt snowflake.Options) {
	t.Helper()
	h, p, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(p)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return h, snowflake.Options{Port: port, RootCAs: pool, Timeout: 5 * time.Second}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	k := testKey(t)
	all := map[string]bool{"warehouse": true, "database": true, "schema": true}
	srv, signIns := fakeSnowflake(t, &k.PublicKey, "ACME-ANALYTICS", "ROSETTA", all)
	host, opt := serverOptions(t, srv)
	cfg := snowflake.Config{Account: "acme-analytics", Host: host, User: "rosetta", Role: "LOADER", Database: "RAW",
		Schema: "ORDERS", Warehouse: "LOAD_WH", PrivateKeyPEM: pkcs8PEM(t, k)}

	r := snowflake.RunChecks(context.Background(), cfg, opt)
	for _, c := range r.Checks {
		if c.Status != snowflake.StatusOK {
			t.Errorf("good key: %s is %s: %s", c.Name, c.Status, c.Message)
		}
	}
	expect(t, r, snowflake.CheckSignIn, snowflake.StatusOK, "signed in as ROSETTA with role LOADER and warehouse LOAD_WH",
		"database RAW and schema ORDERS are usable")
	if *signIns != 1 || r.Unreachable {
		t.Errorf("sign-ins %d, unreachable %v", *signIns, r.Unreachable)
	}

	// A key Snowflake does not know: the same server, another key.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	bad := cfg
	bad.PrivateKeyPEM = pkcs8PEM(t, other)
	r = snowflake.RunChecks(context.Background(), bad, opt)
	expect(t, r, snowflake.CheckSignIn, snowflake.StatusFail, "Snowflake rejected the key-pair sign-in of user ROSETTA",
		"JWT token is invalid", "ALTER USER ROSETTA SET RSA_PUBLIC_KEY")
	if r.Unreachable {
		t.Error("a rejected sign-in is not an unreachable Snowflake")
	}
	// The wrong user is rejected too: the subject names the user.
	wrongUser := cfg
	wrongUser.User = "someone_else"
	expect(t, snowflake.RunChecks(context.Background(), wrongUser, opt), snowflake.CheckSignIn, snowflake.StatusFail, "rejected")
}

func TestSignInReportsUnusableDatabase(t *testing.T) {
	t.Parallel()
	k := testKey(t)
	srv, _ := fakeSnowflake(t, &k.PublicKey, "XY12345", "ROSETTA", map[string]bool{"warehouse": true})
	host, opt := serverOptions(t, srv)
	// A legacy locator signs in with the locator alone, without region and cloud.
	cfg := snowflake.Config{Account: "xy12345.us-east-2.aws", Host: host, User: "ROSETTA", Role: "LOADER", Database: "RAW",
		Schema: "ORDERS", PrivateKeyPEM: pkcs8PEM(t, k)}
	expect(t, snowflake.RunChecks(context.Background(), cfg, opt), snowflake.CheckSignIn, snowflake.StatusFail,
		"cannot use database RAW", "GRANT USAGE ON DATABASE RAW TO ROLE LOADER")
}

func TestUnreachableSnowflakeFailsWithinTheDeadline(t *testing.T) {
	t.Parallel()
	k := testKey(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close() // nothing listens there now

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name, host string
		port       int
		check      string
		says       string
	}{
		{"closed port", "127.0.0.1", port, snowflake.CheckTLS, "cannot connect to 127.0.0.1:" + strconv.Itoa(port)},
		{"unresolvable host", "no-such-account.invalid", 443, snowflake.CheckDNS, "cannot resolve no-such-account.invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := snowflake.Config{Account: "acme-analytics", Host: tc.host, User: "ROSETTA", Role: "R", Database: "D",
				Schema: "S", PrivateKeyPEM: pkcs8PEM(t, k)}
			r := snowflake.RunChecks(ctx, cfg, snowflake.Options{Port: tc.port, Timeout: 3 * time.Second})
			if ctx.Err() != nil {
				t.Fatal("the checks outlived their deadline")
			}
			expect(t, r, tc.check, snowflake.StatusFail, tc.says)
			expect(t, r, snowflake.CheckSignIn, snowflake.StatusFail, "could not be reached")
			expect(t, r, snowflake.CheckKeyStrength, snowflake.StatusOK) // the local checks still ran
			if !r.Unreachable {
				t.Error("not reported as unreachable")
			}
		})
	}
}
