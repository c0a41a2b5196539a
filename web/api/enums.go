package api

import (
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
)

// The enumerations and bounds the API validates and documents (sort keys, statuses,
// page limits, audit entity kinds) are read from the catalog and audit definitions
// that enforce them: each query type below describes its own schema
// (huma.SchemaProvider) from those lists, so no struct tag repeats them. Defaults are
// the catalog's own (an absent value is zero, which the catalog fills in); the schema
// only documents them. TestAPIEnumsComeFromTheirOwners compares the served document
// with the definitions.

// SourceSort, DestinationSort and PipelineSort are the list sort keys.
type (
	SourceSort      string
	DestinationSort string
	PipelineSort    string
)

func (SourceSort) Schema(huma.Registry) *huma.Schema {
	return enumSchema(catalog.SourceSorts, catalog.SourceSorts[0])
}

func (DestinationSort) Schema(huma.Registry) *huma.Schema {
	return enumSchema(catalog.DestinationSorts, catalog.DestinationSorts[0])
}

func (PipelineSort) Schema(huma.Registry) *huma.Schema {
	return enumSchema(catalog.PipelineSorts, catalog.PipelineSorts[0])
}

// DesiredStatus and RuntimeStatus filter the pipeline list.
type (
	DesiredStatus string
	RuntimeStatus string
)

func (DesiredStatus) Schema(huma.Registry) *huma.Schema {
	return enumSchema(catalog.DesiredStatuses, nil)
}
func (RuntimeStatus) Schema(huma.Registry) *huma.Schema {
	return enumSchema(catalog.RuntimeStatuses, nil)
}

// AuditEntityKind filters the audit log.
type AuditEntityKind string

func (AuditEntityKind) Schema(huma.Registry) *huma.Schema { return enumSchema(audit.EntityKinds, nil) }

// PageLimit is a list's page size; WALLimit the most points of a WAL series.
type (
	PageLimit int
	WALLimit  int
)

func (PageLimit) Schema(huma.Registry) *huma.Schema {
	return boundsSchema(catalog.DefaultLimit, catalog.MaxLimit)
}

func (WALLimit) Schema(huma.Registry) *huma.Schema {
	return boundsSchema(catalog.DefaultWALLimit, catalog.MaxWALLimit)
}

func enumSchema(values []string, def any) *huma.Schema {
	s := &huma.Schema{Type: huma.TypeString, Default: def}
	for _, v := range values {
		s.Enum = append(s.Enum, v)
	}
	return s
}

func boundsSchema(def, max int) *huma.Schema {
	lo, hi := 1.0, float64(max)
	return &huma.Schema{Type: huma.TypeInteger, Format: "int64", Minimum: &lo, Maximum: &hi, Default: def}
}

// DescribeSlotCreation appends pgsource.SlotCreation to the description of every
// replication_id in the document's schemas (source input, patch and answer), so the API
// says who creates slots in the words the preflight and the console use.
func DescribeSlotCreation(oapi *huma.OpenAPI) {
	if oapi.Components == nil || oapi.Components.Schemas == nil {
		return
	}
	for _, s := range oapi.Components.Schemas.Map() {
		if p, ok := s.Properties["replication_id"]; ok && !strings.Contains(p.Description, pgsource.SlotCreation) {
			p.Description = strings.TrimSpace(p.Description + " " + pgsource.SlotCreation)
		}
	}
}
