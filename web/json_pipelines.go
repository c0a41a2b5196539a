package web

import (
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
)

// Pipelines are the API's most listed entity, and a page of 50 carries 100 to 200
// timestamps. goccy/go-json (jsonFormat) encodes a time.Time through its MarshalJSON: the
// value boxed by reflection, a new buffer per call, then the result re-validated and
// copied. That was half of the list's encoding and 200 of its 480 allocations per
// request (BENCHMARKS.md, issue 12, fourth pass). A page of pipelines and a single
// pipeline are therefore appended here by hand. The output is byte for byte what
// jsonFormat's encoder writes for the same value (TestPipelineJSONMatchesEncoder holds
// them together, field by field, with every field set and with the optional ones
// absent); every other body still goes through the encoder.

// pipelineJSONBufs keeps the append buffers between requests.
var pipelineJSONBufs = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// writePipelineJSON writes v as jsonFormat would when v is a pipeline or a page of
// them, and reports whether it did.
func writePipelineJSON(w io.Writer, v any) (bool, error) {
	var appendBody func([]byte) []byte
	switch x := v.(type) {
	case catalog.Page[catalog.Pipeline]:
		appendBody = func(b []byte) []byte { return appendPipelinePage(b, &x) }
	case *catalog.Page[catalog.Pipeline]:
		appendBody = func(b []byte) []byte { return appendPipelinePage(b, x) }
	case catalog.Pipeline:
		appendBody = func(b []byte) []byte { return appendPipeline(b, &x) }
	case *catalog.Pipeline:
		appendBody = func(b []byte) []byte { return appendPipeline(b, x) }
	default:
		return false, nil
	}
	bp := pipelineJSONBufs.Get().(*[]byte)
	b := append(appendBody((*bp)[:0]), '\n') // the encoder ends a value with a newline
	_, err := w.Write(b)
	if cap(b) <= 256<<10 { // a huge page's buffer is left to the collector
		*bp = b
		pipelineJSONBufs.Put(bp)
	}
	return true, err
}

func appendPipelinePage(b []byte, p *catalog.Page[catalog.Pipeline]) []byte {
	b = append(b, `{"items":`...)
	if p.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range p.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPipeline(b, &p.Items[i])
		}
		b = append(b, ']')
	}
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, p.Total, 10)
	b = append(b, `,"total_is_estimate":`...)
	b = strconv.AppendBool(b, p.TotalIsEstimate)
	b = append(b, `,"limit":`...)
	b = strconv.AppendInt(b, int64(p.Limit), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, int64(p.Offset), 10)
	return append(b, '}')
}

func appendPipeline(b []byte, p *catalog.Pipeline) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, p.ID, 10)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, p.Name)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, p.Status)
	b = append(b, `,"source_id":`...)
	b = strconv.AppendInt(b, p.SourceID, 10)
	b = append(b, `,"destination_id":`...)
	b = strconv.AppendInt(b, p.DestinationID, 10)
	b = append(b, `,"source":`...)
	b = appendEntityRef(b, p.Source)
	b = append(b, `,"destination":`...)
	b = appendEntityRef(b, p.Destination)
	m := &p.Metadata
	b = append(b, `,"metadata":{"status":`...)
	b = appendJSONString(b, m.Status)
	if m.LastError != nil {
		b = append(b, `,"last_error":`...)
		b = appendJSONString(b, *m.LastError)
	}
	if m.LastErrorAt != nil {
		b = append(b, `,"last_error_at":`...)
		b = appendJSONTime(b, *m.LastErrorAt)
	}
	if m.LastStartAt != nil {
		b = append(b, `,"last_start_at":`...)
		b = appendJSONTime(b, *m.LastStartAt)
	}
	if m.PreflightWarning != nil {
		b = append(b, `,"preflight_warning":`...)
		b = appendJSONString(b, *m.PreflightWarning)
	}
	b = append(b, `},"created_at":`...)
	b = appendJSONTime(b, p.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, p.UpdatedAt)
	return append(b, '}')
}

func appendEntityRef(b []byte, r catalog.EntityRef) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, r.ID, 10)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, r.Name)
	return append(b, '}')
}

// appendJSONTime is time.Time's MarshalJSON (RFC 3339 with the fraction it has),
// appended in place.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as the encoder does with HTML escaping off: quote and
// backslash escaped, \n \r \t by name, other control characters as \u00XX, U+2028 and
// U+2029 as \u2028 and \u2029, invalid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
