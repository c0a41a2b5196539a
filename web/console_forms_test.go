package web

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/partials"
	"github.com/rosetta-cdc/rosetta/views/viewtest"
)

// jsonNames are the input names of a catalog input type.
func jsonNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if n := formName(t.Field(i)); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// Each entity's form has an input for every field of the catalog input it fills, so a
// field added to the catalog but not to the form (or renamed on one side) fails here;
// and every field of the input and of the patch is one formInto can fill.
func TestFormsCoverTheirCatalogInputs(t *testing.T) {
	f := partials.Form{ID: "f", Action: "/x", Values: url.Values{}}
	for _, c := range []struct {
		name         string
		form         templ.Component
		input, patch any
	}{
		{"source", partials.SourceForm(f), &catalog.SourceInput{}, &catalog.SourcePatch{}},
		{"destination", partials.DestinationForm(f), &catalog.DestinationInput{}, &catalog.DestinationPatch{}},
		{"pipeline", partials.PipelineFormView(partials.PipelineForm{Form: f}), &catalog.PipelineInput{}, &catalog.PipelinePatch{}},
	} {
		doc := viewtest.Doc(t, c.form)
		all := url.Values{}
		// a reference typed by name fills its id field (pipelineRefs)
		byName := map[string]string{}
		for _, r := range (&Server{}).pipelineRefFields() {
			byName[r.idField] = r.name
		}
		for _, n := range jsonNames(reflect.TypeOf(c.input).Elem()) {
			input := n
			if name, ok := byName[n]; ok && c.name == "pipeline" {
				input = name
			}
			if doc.Find(`[name="`+input+`"]`).Length() != 1 {
				t.Errorf("%s form: no input named %q for the catalog's field", c.name, n)
			}
			all.Set(n, "1")
		}
		for _, n := range jsonNames(reflect.TypeOf(c.patch).Elem()) {
			all.Set(n, "1")
		}
		// panics on a field type it cannot fill
		formInto(all, c.input)
		formInto(all, c.patch)
	}
}

// A stored entity's edit form, posted back unchanged, asks the catalog for what is
// stored: formOf and formInto are each other's inverse, secrets aside.
func TestFormRoundTrip(t *testing.T) {
	wh := "LOADING_WH"
	for _, c := range []struct {
		entity, input any
		want          any
	}{
		{catalog.Source{ID: 1, Name: "orders", PgHost: "db.internal", PgPort: 6543, PgDatabase: "shop", PgUsername: "rosetta",
			PgPasswordSet: true, PublicationName: "pub", ReplicationID: "slot", CreatedAt: time.Now()},
			&catalog.SourceInput{},
			&catalog.SourceInput{Name: "orders", PgHost: "db.internal", PgPort: ptr(6543), PgDatabase: "shop", PgUsername: "rosetta",
				PublicationName: "pub", ReplicationID: "slot"}},
		{catalog.Destination{ID: 2, Name: "analytics", SnowflakeAccount: "acme", SnowflakeUser: "U", SnowflakeDatabase: "RAW",
			SnowflakeSchema: "S", SnowflakeRole: "R", SnowflakePrivateKeyPath: "/k.p8", SnowflakeHost: "h.example",
			SnowflakeWarehouse: &wh, SnowflakePrivateKeyPassphraseSet: true},
			&catalog.DestinationInput{},
			&catalog.DestinationInput{Name: "analytics", SnowflakeAccount: "acme", SnowflakeUser: "U", SnowflakeDatabase: "RAW",
				SnowflakeSchema: "S", SnowflakeRole: "R", SnowflakePrivateKeyPath: "/k.p8", SnowflakeHost: ptr("h.example"),
				SnowflakeWarehouse: &wh}},
		{catalog.Pipeline{ID: 3, Name: "p", SourceID: 1, DestinationID: 2, Status: catalog.DesiredPause},
			&catalog.PipelineInput{}, &catalog.PipelineInput{Name: "p", SourceID: 1, DestinationID: 2}},
	} {
		v := formOf(c.entity, reflect.ValueOf(c.input).Elem().Interface())
		formInto(v, c.input)
		if !reflect.DeepEqual(c.input, c.want) {
			t.Errorf("%T: round trip gives %+v, want %+v", c.entity, c.input, c.want)
		}
	}
}

// A refused form is rendered back without its secrets or the CSRF token.
func TestWithoutSecrets(t *testing.T) {
	v := url.Values{"name": {"x"}, "pg_password": {"hunter2"}, "snowflake_private_key_passphrase": {"p"},
		"snowflake_private_key": {"-----BEGIN PRIVATE KEY-----"}, "_csrf": {"tok"}}
	got := withoutSecrets(v)
	if !reflect.DeepEqual(got, url.Values{"name": {"x"}}) {
		t.Errorf("withoutSecrets = %v", got)
	}
}
