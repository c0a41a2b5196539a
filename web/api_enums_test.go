package web_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

type openAPISchema struct {
	Enum       []any                    `json:"enum"`
	Minimum    *float64                 `json:"minimum"`
	Maximum    *float64                 `json:"maximum"`
	Default    any                      `json:"default"`
	Properties map[string]openAPISchema `json:"properties"`
}

type openAPIDoc struct {
	Paths map[string]map[string]struct {
		Parameters []struct {
			Name   string        `json:"name"`
			Schema openAPISchema `json:"schema"`
		} `json:"parameters"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]openAPISchema `json:"schemas"`
	} `json:"components"`
}

func (d openAPIDoc) param(t *testing.T, path, name string) openAPISchema {
	t.Helper()
	for _, p := range d.Paths[path]["get"].Parameters {
		if p.Name == name {
			return p.Schema
		}
	}
	t.Fatalf("GET %s documents no parameter %s", path, name)
	return openAPISchema{}
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func enumOf(s openAPISchema) []string {
	out := make([]string, len(s.Enum))
	for i, v := range s.Enum {
		out[i] = fmt.Sprint(v)
	}
	return out
}

// The sort keys, statuses, page limits and audit entity kinds the API documents (and
// huma validates against) are the ones the catalog, audit and auth enforce: the served
// document is compared with their definitions, so the two cannot drift apart.
func TestAPIEnumsComeFromTheirOwners(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	var doc openAPIDoc
	if err := json.Unmarshal(a.Do("GET", "/api/v1/openapi.json", nil).Expect(t, 200).Body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, param string
		want        []string
	}{
		{"/sources", "sort", catalog.SourceSorts},
		{"/destinations", "sort", catalog.DestinationSorts},
		{"/pipelines", "sort", catalog.PipelineSorts},
		{"/pipelines", "status", catalog.DesiredStatuses},
		{"/pipelines", "runtime_status", catalog.RuntimeStatuses},
		{"/audit", "entity_kind", audit.EntityKinds},
	} {
		s := doc.param(t, c.path, c.param)
		if got := enumOf(s); !slices.Equal(got, c.want) {
			t.Errorf("GET %s %s: documented %v, enforced %v", c.path, c.param, got, c.want)
		}
		if c.param == "sort" && s.Default != c.want[0] {
			t.Errorf("GET %s sort: documented default %v, the catalog's is %s", c.path, s.Default, c.want[0])
		}
	}
	for _, c := range []struct {
		path     string
		def, max int
	}{
		{"/sources", catalog.DefaultLimit, catalog.MaxLimit}, {"/destinations", catalog.DefaultLimit, catalog.MaxLimit},
		{"/pipelines", catalog.DefaultLimit, catalog.MaxLimit}, {"/audit", catalog.DefaultLimit, catalog.MaxLimit},
		{"/tokens", catalog.DefaultLimit, catalog.MaxLimit}, {"/users", catalog.DefaultLimit, catalog.MaxLimit},
		{"/metrics/wal", catalog.DefaultWALLimit, catalog.MaxWALLimit},
	} {
		s := doc.param(t, c.path, "limit")
		if s.Minimum == nil || *s.Minimum != 1 || s.Maximum == nil || *s.Maximum != float64(c.max) || s.Default != float64(c.def) {
			t.Errorf("GET %s limit: documented min %v max %v default %v, enforced 1..%d default %d",
				c.path, s.Minimum, s.Maximum, s.Default, c.max, c.def)
		}
	}
	// response fields: the enum tags on the catalog's and the API's types
	for _, c := range []struct {
		schema, prop string
		want         []string
	}{
		{"Pipeline", "status", catalog.DesiredStatuses},
		{"PipelineMetadata", "status", catalog.RuntimeStatuses},
		{"Me", "role", strs(auth.Roles)},
	} {
		got := enumOf(doc.Components.Schemas[c.schema].Properties[c.prop])
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(c.want))) {
			t.Errorf("%s.%s: documented %v, defined %v", c.schema, c.prop, got, c.want)
		}
	}
}
