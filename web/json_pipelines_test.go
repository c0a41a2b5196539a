package web

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
)

// awkward are strings every JSON encoder has to escape its way: quotes, backslashes,
// control characters, HTML (left unescaped), the two line separators JavaScript chokes
// on, invalid UTF-8, and plain non-ASCII text.
var awkward = []string{
	"", "plain", `quote " and back\slash`, "tab\tnew\nline\rreturn", "\x00\x01\x08\x0c\x1f\x7f",
	`<a href="x">&amp;'</a>`, "line\u2028para\u2029sep", "bad \xff\xfe utf-8 \xc3", "été 日本語 🚀",
}

// TestPipelineJSONMatchesEncoder holds the hand-written pipeline JSON to the encoder's
// output for the same values: every field set (found by reflection, so a field added to
// catalog.Pipeline and not to appendPipeline fails here), the optional ones absent,
// awkward strings, times with and without a fraction, and pages empty, nil and full.
func TestPipelineJSONMatchesEncoder(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -7*3600)),
		{},
	}
	var pipelines []catalog.Pipeline
	for i, s := range awkward {
		var p catalog.Pipeline
		fill(reflect.ValueOf(&p).Elem(), s, times[i%len(times)], int64(i*1000+1))
		pipelines = append(pipelines, p)
		// The optional fields absent, one at a time and all together.
		m := p.Metadata
		for _, drop := range []func(*catalog.PipelineMetadata){
			func(m *catalog.PipelineMetadata) { m.LastError = nil },
			func(m *catalog.PipelineMetadata) { m.LastErrorAt = nil },
			func(m *catalog.PipelineMetadata) { m.LastStartAt = nil },
			func(m *catalog.PipelineMetadata) { m.PreflightWarning = nil },
			func(m *catalog.PipelineMetadata) { *m = catalog.PipelineMetadata{Status: m.Status} },
		} {
			q := p
			q.Metadata = m
			drop(&q.Metadata)
			pipelines = append(pipelines, q)
		}
	}
	values := []any{
		catalog.Page[catalog.Pipeline]{Items: pipelines, Total: 123456, TotalIsEstimate: true, Limit: 50, Offset: 100},
		&catalog.Page[catalog.Pipeline]{Items: pipelines[:1], Total: 1, Limit: 1},
		catalog.Page[catalog.Pipeline]{Items: []catalog.Pipeline{}, Total: 3, Offset: 40},
		catalog.Page[catalog.Pipeline]{},
	}
	for i := range pipelines {
		values = append(values, pipelines[i], &pipelines[i])
	}
	for i, v := range values {
		var want, got bytes.Buffer
		if err := encodeJSON(&want, v); err != nil {
			t.Fatalf("value %d: the encoder: %v", i, err)
		}
		done, err := writePipelineJSON(&got, v)
		if !done || err != nil {
			t.Fatalf("value %d (%T): written by hand = %v, %v", i, v, done, err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("value %d (%T):\nby hand: %s\nencoder: %s", i, v, got.Bytes(), want.Bytes())
		}
	}
	// Anything else is left to the encoder.
	if done, _ := writePipelineJSON(&bytes.Buffer{}, catalog.Source{}); done {
		t.Error("a source was written as a pipeline")
	}
}

// fill sets every field under v: strings to s, integers to distinct numbers from n,
// booleans true, times to at, pointers to a filled value.
func fill(v reflect.Value, s string, at time.Time, n int64) int64 {
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(at))
		return n
	case v.Kind() == reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		return fill(v.Elem(), s, at, n)
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			n = fill(v.Field(i), s, at, n+1)
		}
		return n
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.CanInt():
		v.SetInt(n)
	case v.Kind() == reflect.Bool:
		v.SetBool(true)
	default:
		panic("fill: a field of kind " + v.Kind().String() + ": teach fill (and appendPipeline) about it")
	}
	return n
}
