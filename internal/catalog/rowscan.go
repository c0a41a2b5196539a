package catalog

import (
	"fmt"
	"reflect"

	"github.com/rosetta-cdc/rosetta/internal/db"
)

// fieldsFunc appends to dst a pointer to each of v's fields, in the order of the
// statement's columns, for one rows.Scan. A list scans every row through it into the
// page's own slice (runList), where pgx.RowToStructByPos looked the struct up by
// reflection on every row: on a 50-row page of pipelines that was a tenth of the
// server's CPU per request (BENCHMARKS.md, issue 12, fourth pass).
type fieldsFunc[T any] func(v *T, dst []any) []any

// byPosition is a fieldsFunc for T, a flat struct whose exported fields are the columns
// in order (an sqlc model): its fields are found by reflection once, here, and each row
// then costs a field address per column. The hottest lists spell theirs out
// (pipelineViewFields, sourceFields); a test holds those to this one.
func byPosition[T any]() fieldsFunc[T] {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("catalog: byPosition needs a struct, not %s", t))
	}
	idx := make([]int, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous {
			// sqlc models are flat; anything else would scan the wrong columns.
			panic(fmt.Sprintf("catalog: byPosition: %s.%s is not a plain column field", t, f.Name))
		}
		idx = append(idx, i)
	}
	return func(v *T, dst []any) []any {
		rv := reflect.ValueOf(v).Elem()
		for _, i := range idx {
			dst = append(dst, rv.Field(i).Addr().Interface())
		}
		return dst
	}
}

// pipelineViewFields are pipeline_view's columns (the pipeline list's v.*).
func pipelineViewFields(v *db.PipelineView, dst []any) []any {
	return append(dst, &v.ID, &v.Name, &v.Status, &v.CreatedAt, &v.UpdatedAt, &v.SourceID, &v.SourceName,
		&v.DestinationID, &v.DestinationName, &v.RuntimeStatus, &v.LastError, &v.LastErrorDetail, &v.LastErrorAt,
		&v.LastStartAt, &v.PreflightWarning, &v.StatusRank)
}

// sourceFields are the sources table's columns (the source list's v.*).
func sourceFields(v *db.Source, dst []any) []any {
	return append(dst, &v.ID, &v.Name, &v.PgHost, &v.PgPort, &v.PgDatabase, &v.PgUsername, &v.PgPassword,
		&v.PublicationName, &v.ReplicationID, &v.LastProbeError, &v.LastProbeErrorAt, &v.LastProbeAt, &v.CreatedAt,
		&v.UpdatedAt, &v.TlsMode, &v.TlsCaCert, &v.LastProbeErrorDetail, &v.LastProbeReason, &v.ProbeFailures,
		&v.ProbeFailingSince, &v.WalAlertThresholdBytes, &v.ActiveAlerts, &v.LatestSampleID, &v.LatestSizeBytes,
		&v.LatestRetainedBytes, &v.LatestSlotActive, &v.LatestWalStatus, &v.LatestSafeWalSize, &v.LatestRecordedAt)
}
