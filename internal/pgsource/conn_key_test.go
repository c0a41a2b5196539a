package pgsource_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/pgsource"
)

// The monitor's session cache reuses a session only while Conn.Key is unchanged: the key
// must be equal for equal settings (a Conn is built anew every cycle), never hold the
// password, and change when any field changes. The fields are walked by reflection, so
// a field added to Conn and forgotten in Key fails here.
func TestConnKeyCoversEveryField(t *testing.T) {
	base := func() pgsource.Conn {
		return pgsource.Conn{Host: "db", Port: 5432, Database: "d", User: "u", Password: "hunter2-secret",
			TLSMode: pgsource.TLSVerifyFull, CACert: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}
	}
	key := base().Key()
	if again := base().Key(); again != key {
		t.Fatalf("key not stable: %s then %s", key, again)
	}
	if strings.Contains(key, "hunter2") {
		t.Fatal("the key contains the password")
	}
	typ := reflect.TypeOf(pgsource.Conn{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		c := base()
		v := reflect.ValueOf(&c).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			if v.String() == "" {
				t.Fatalf("the base Conn leaves %s empty: give it a value so changing it means something", f.Name)
			}
			v.SetString(v.String() + "x")
		case reflect.Int:
			v.SetInt(v.Int() + 1)
		default:
			t.Fatalf("Conn.%s is a %s: teach Key and this test how it changes", f.Name, v.Kind())
		}
		if c.Key() == key {
			t.Errorf("changing Conn.%s keeps the key: Key must name every field", f.Name)
		}
	}
	// Values that run together must not collide: the fields are length-prefixed.
	a, b := base(), base()
	a.Host, a.Database = "dbx", "d"
	b.Host, b.Database = "db", "xd"
	if a.Key() == b.Key() {
		t.Error("host and database run together into the same key")
	}
	// The empty TLS mode is prefer: the same connection, the same key.
	p, e := base(), base()
	p.TLSMode, e.TLSMode = pgsource.TLSPrefer, ""
	if p.Key() != e.Key() {
		t.Error("the empty TLS mode (prefer) and prefer give different keys")
	}
}
