package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// Changing where a stored password goes (host, port, database, user) needs the password
// again, in both API verbs; other fields do not.
func TestAPIEndpointChangeNeedsThePasswordAgain(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	src := a.Do("POST", "/api/v1/sources", sourceBody("orders")).Expect(t, http.StatusCreated).Map(t)
	path := fmt.Sprintf("/api/v1/sources/%v", src["id"])
	for _, verb := range []string{"PUT", "PATCH"} {
		for field, value := range map[string]any{
			"pg_host": "attacker.example", "pg_port": 6543, "pg_database": "other", "pg_username": "someone",
		} {
			p := expectProblem(t, a.Do(verb, path, map[string]any{field: value}), http.StatusUnprocessableEntity)
			msg := fieldsOf(p)["pg_password"]
			if !strings.Contains(msg, "endpoint changed") || !strings.Contains(msg, "entered again") {
				t.Errorf("%s %s without the password: pg_password message %q, errors %v", verb, field, msg, p.Errors)
			}
		}
	}
	got := a.Do("GET", path, nil).Expect(t, 200).Map(t)
	if got["pg_host"] != "db.internal" || got["pg_port"] != float64(5432) || got["pg_database"] != "orders" || got["pg_username"] != "rosetta" {
		t.Fatalf("a refused change was saved: %v", got)
	}
	// Fields that do not move the password need nothing more.
	a.Do("PATCH", path, map[string]any{"name": "orders-2", "publication_name": "pub2", "tls_mode": "require"}).Expect(t, 200)
	// The same value again is not a change.
	a.Do("PUT", path, map[string]any{"pg_host": "db.internal", "pg_port": 5432}).Expect(t, 200)
	// With the password, the new endpoint is saved.
	up := a.Do("PUT", path, map[string]any{"pg_host": "db2.internal", "pg_username": "rosetta2", "pg_password": "n3w-secret"}).
		Expect(t, 200).Map(t)
	if up["pg_host"] != "db2.internal" || up["pg_username"] != "rosetta2" || up["pg_password_set"] != true {
		t.Errorf("after PUT with the password: %v", up)
	}
}

func TestConsoleEndpointChangeNeedsThePasswordAgain(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	s := mkSource(t, a, "orders")
	loc := fmt.Sprintf("/sources/%d", s.ID)

	doc, _ := get(t, a, loc+"/edit", http.StatusOK)
	help := text(doc.Find(`[data-testid="field-pg_password"] .field-help`))
	if !strings.Contains(help, "Changing the host, port, database or user requires entering it again") {
		t.Errorf("password hint %q does not say a changed endpoint needs the password", help)
	}

	form := validSource("orders")
	form.Set("pg_port", "5432")
	form.Set("pg_host", "attacker.example")
	form.Set("pg_password", "")
	form.Set("tls_mode", "prefer")
	for _, hdr := range [][]string{nil, {htmx}} {
		r := post(a, loc, form, hdr...)
		if r.Code != http.StatusUnprocessableEntity {
			t.Fatalf("changed host without the password: status %d", r.Code)
		}
		msg := fieldErrors(parse(t, r).Selection)["pg_password"]
		if !strings.Contains(msg, "Password must be entered again because the endpoint changed") {
			t.Errorf("pg_password message %q", msg)
		}
	}
	if got, _ := a.Catalog.GetSource(a.Ctx(), s.ID); got.PgHost != "db.internal" {
		t.Fatalf("the refused host was saved: %q", got.PgHost)
	}
	form.Set("pg_password", "n3w-secret")
	if got := redirectTo(t, post(a, loc, form)); got != loc {
		t.Errorf("update redirects to %q", got)
	}
	if got, _ := a.Catalog.GetSource(a.Ctx(), s.ID); got.PgHost != "attacker.example" {
		t.Errorf("host after saving with the password: %q", got.PgHost)
	}
}

func testCAPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestSourceTLSSettings(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	ca := testCAPEM(t)

	// The default keeps how Rosetta always connected.
	plain := a.Do("POST", "/api/v1/sources", sourceBody("plain")).Expect(t, http.StatusCreated).Map(t)
	if plain["tls_mode"] != "prefer" || plain["tls_ca_cert"] != nil {
		t.Errorf("default TLS: %v %v", plain["tls_mode"], plain["tls_ca_cert"])
	}
	body := sourceBody("verified")
	body["tls_mode"], body["tls_ca_cert"] = "verify-full", "\n"+ca+"\n"
	v := a.Do("POST", "/api/v1/sources", body).Expect(t, http.StatusCreated).Map(t)
	if v["tls_mode"] != "verify-full" || v["tls_ca_cert"] != strings.TrimSpace(ca) {
		t.Errorf("saved TLS: %v %q", v["tls_mode"], v["tls_ca_cert"])
	}

	for _, tc := range []struct {
		mode, cert, field, want string
	}{
		{"verify-full", "hello", "tls_ca_cert", "must be PEM text"},
		{"verify-ca", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "tls_ca_cert", "cannot be parsed"},
		{"verify-ca", ca + "trailing junk", "tls_ca_cert", "after the last certificate"},
		{"verify-full", strings.ReplaceAll(ca, "CERTIFICATE", "PRIVATE KEY"), "tls_ca_cert", "only CERTIFICATE blocks"},
		{"require", ca, "tls_ca_cert", "only used by the TLS modes verify-ca and verify-full"},
		{"bogus", "", "tls_mode", ""},
	} {
		b := sourceBody("bad-" + tc.mode)
		b["tls_mode"] = tc.mode
		if tc.cert != "" {
			b["tls_ca_cert"] = tc.cert
		}
		p := expectProblem(t, a.Do("POST", "/api/v1/sources", b), http.StatusUnprocessableEntity)
		if msg, ok := fieldsOf(p)[tc.field]; !ok || !strings.Contains(msg, tc.want) {
			t.Errorf("mode %s cert %.20q: errors %v, want %s containing %q", tc.mode, tc.cert, p.Errors, tc.field, tc.want)
		}
	}
	// Removing the certificate and weakening the mode in one change is fine.
	up := a.Do("PATCH", fmt.Sprintf("/api/v1/sources/%v", v["id"]), map[string]any{"tls_mode": "require", "tls_ca_cert": ""}).
		Expect(t, 200).Map(t)
	if up["tls_mode"] != "require" || up["tls_ca_cert"] != nil {
		t.Errorf("after PATCH: %v %v", up["tls_mode"], up["tls_ca_cert"])
	}

	// The console: both fields on the form, saved, shown on the page.
	f := validSource("console-verified")
	f.Set("tls_mode", "verify-ca")
	f.Set("tls_ca_cert", ca)
	loc := redirectTo(t, post(a, "/sources", f))
	doc, _ := get(t, a, loc, http.StatusOK)
	if m := text(doc.Find(`[data-testid="tls-mode"]`)); m != "verify-ca" {
		t.Errorf("page TLS mode %q", m)
	}
	if c := text(doc.Find(`[data-testid="tls-ca-cert"]`)); c != "pasted" {
		t.Errorf("page CA %q", c)
	}
	doc, _ = get(t, a, loc+"/edit", http.StatusOK)
	if sel := doc.Find(`select[name="tls_mode"] option[selected]`).AttrOr("value", ""); sel != "verify-ca" {
		t.Errorf("edit form selects %q", sel)
	}
	if ta := strings.TrimSpace(doc.Find(`textarea[name="tls_ca_cert"]`).Text()); ta != strings.TrimSpace(ca) {
		t.Errorf("edit form certificate %q", ta)
	}
	f.Set("tls_ca_cert", "not a certificate")
	f.Set("name", "console-bad")
	r := post(a, "/sources", f)
	if msg := fieldErrors(parse(t, r).Selection)["tls_ca_cert"]; r.Code != http.StatusUnprocessableEntity || !strings.Contains(msg, "PEM") {
		t.Errorf("bad certificate in the console: status %d, message %q", r.Code, msg)
	}
}

// A failed connection's network detail (address, refusal) reaches those who may edit
// the source and nobody else: stored once, chosen per reader, in both faces.
func TestConnectionErrorDetailOnlyForEditors(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	src, err := a.Catalog.CreateSource(a.Ctx(), catalog.SourceInput{Name: "closed", PgHost: "127.0.0.1", PgPort: &port,
		PgDatabase: "orders", PgUsername: "rosetta", PgPassword: "hunter2-secret", PublicationName: "rosetta_pub",
		ReplicationID: "rosetta_slot"})
	if err != nil {
		t.Fatal(err)
	}
	dst := mkDestination(t, a, "analytics")
	p := mkPipeline(t, a, "orders-pipe", src.ID, dst.ID)
	a.As(auth.Operator).Do("POST", fmt.Sprintf("/api/v1/pipelines/%d/start", p.ID), nil).Expect(t, 200)
	// A failed probe recorded by the monitor's own write (the same RecordProbes a cycle uses).
	if _, err := a.Catalog.RecordProbes(context.Background(), []catalog.ProbeResult{{SourceID: src.ID, SourceName: src.Name,
		At: time.Now(), Err: &pgsource.ConnectError{Reason: pgsource.ReasonRefused,
			Message: fmt.Sprintf("connection refused by 127.0.0.1:%d", port)}}}); err != nil {
		t.Fatal(err)
	}

	addr := "127.0.0.1:" + strconv.Itoa(port)
	for _, role := range []auth.Role{auth.Viewer, auth.Operator, auth.Admin} {
		editor := role != auth.Viewer
		pl := a.As(role).Do("GET", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), nil).Expect(t, 200).Map(t)
		lastError, _ := pl["metadata"].(map[string]any)["last_error"].(string)
		sr := a.As(role).Do("GET", fmt.Sprintf("/api/v1/sources/%d", src.ID), nil).Expect(t, 200).Map(t)
		probeError, _ := sr["last_probe_error"].(string)
		b := a.Browser(role)
		pipePage := string(b.Get(fmt.Sprintf("/pipelines/%d", p.ID)).Expect(t, 200).Body)
		srcPage := string(b.Get(fmt.Sprintf("/sources/%d", src.ID)).Expect(t, 200).Body)
		list := string(b.Get("/pipelines").Expect(t, 200).Body)
		for what, s := range map[string]string{"API last_error": lastError, "API last_probe_error": probeError} {
			if s == "" {
				t.Errorf("%s: %s is empty", role, what)
			}
			if got := strings.Contains(s, addr); got != editor {
				t.Errorf("%s: %s %q: shows the address = %v", role, what, s, got)
			}
		}
		for what, page := range map[string]string{"pipeline page": pipePage, "source page": srcPage, "pipeline list": list} {
			if !editor && (strings.Contains(page, addr) || strings.Contains(page, "connection refused")) {
				t.Errorf("viewer's %s shows network detail", what)
			}
		}
		if editor && (!strings.Contains(pipePage, "connection refused by "+addr) || !strings.Contains(srcPage, "connection refused by "+addr)) {
			t.Errorf("%s does not see why the connection failed", role)
		}
		if !editor && !strings.Contains(pipePage, "operators and admins can see why") {
			t.Errorf("viewer's pipeline page does not say who can see the detail")
		}
	}
	// The audit log is for every signed-in user: its record of the failed start has no detail.
	audit := a.As(auth.Viewer).Do("GET", "/api/v1/audit?entity_kind=pipeline", nil).Expect(t, 200).Body
	if !strings.Contains(string(audit), "preflight check") || strings.Contains(string(audit), addr) {
		t.Error("the audit log shows the network detail to viewers")
	}
}
