package catalog

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
)

// The API schema's enum tags are static text; the modes are defined once, in pgsource.
// This keeps the two from drifting apart.
func TestTLSModeEnumTagsListPgsourceModes(t *testing.T) {
	want := strings.Join(tlsModeNames(), ",")
	for _, typ := range []reflect.Type{reflect.TypeOf(SourceInput{}), reflect.TypeOf(SourcePatch{}), reflect.TypeOf(Source{})} {
		f, ok := typ.FieldByName("TLSMode")
		if !ok {
			t.Fatalf("%s has no TLSMode", typ.Name())
		}
		if got := f.Tag.Get("enum"); got != want {
			t.Errorf("%s.TLSMode enum %q, want %q", typ.Name(), got, want)
		}
	}
}

// Every stored setting that decides where and how Rosetta connects reaches the Conn the
// test, the preflight and the monitor use.
func TestConnOfCarriesTLS(t *testing.T) {
	ca := "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----"
	c := connOf(db.Source{PgHost: "db", PgPort: 6543, PgDatabase: "d", PgUsername: "u", TlsMode: "verify-full", TlsCaCert: &ca}, "pw")
	want := pgsource.Conn{Host: "db", Port: 6543, Database: "d", User: "u", Password: "pw", TLSMode: pgsource.TLSVerifyFull, CACert: ca}
	if c != want {
		t.Errorf("connOf = %+v, want %+v", c, want)
	}
}

// The monitor's session cache reuses a session only while the fingerprint is the same: it
// must be equal for equal settings (built anew each cycle) and differ when any connection
// setting changes, the TLS mode and CA text included, without containing the password.
func TestConnFingerprint(t *testing.T) {
	ca := "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
	base := func() pgsource.Conn {
		return pgsource.Conn{Host: "db", Port: 5432, Database: "d", User: "u", Password: "hunter2-secret",
			TLSMode: pgsource.TLSVerifyFull, CACert: ca}
	}
	fp := connFingerprint(base())
	if again := connFingerprint(base()); again != fp {
		t.Fatalf("fingerprint not stable: %s then %s", fp, again)
	}
	if strings.Contains(fp, "hunter2") {
		t.Fatal("fingerprint contains the password")
	}
	// Every field of Conn must be a plain value, so equal settings give equal fingerprints.
	typ := reflect.TypeOf(pgsource.Conn{})
	for i := range typ.NumField() {
		if k := typ.Field(i).Type.Kind(); k != reflect.String && k != reflect.Int {
			t.Errorf("Conn.%s is a %s: the fingerprint (%%#v) may not be stable; give Conn a key built from its values", typ.Field(i).Name, k)
		}
	}
	changes := map[string]func(*pgsource.Conn){
		"host": func(c *pgsource.Conn) { c.Host = "db2" }, "port": func(c *pgsource.Conn) { c.Port = 5433 },
		"database": func(c *pgsource.Conn) { c.Database = "e" }, "user": func(c *pgsource.Conn) { c.User = "v" },
		"password": func(c *pgsource.Conn) { c.Password = "other" }, "tls mode": func(c *pgsource.Conn) { c.TLSMode = pgsource.TLSVerifyCA },
		"ca": func(c *pgsource.Conn) { c.CACert = ca + "\n" + ca },
	}
	if n := typ.NumField(); n != len(changes) {
		t.Errorf("Conn has %d fields, the test changes %d: cover the new one", n, len(changes))
	}
	for name, change := range changes {
		c := base()
		change(&c)
		if connFingerprint(c) == fp {
			t.Errorf("changing the %s keeps the fingerprint", name)
		}
	}
}
