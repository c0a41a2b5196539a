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
