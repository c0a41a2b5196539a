package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	gojson "github.com/goccy/go-json"
	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
)

// decodeError is a request body that is not the JSON the operation documents.
type decodeError struct {
	field string
	msg   string
}

func (e *decodeError) Error() string { return e.msg }

var (
	unknownFieldRe = regexp.MustCompile(`^json: unknown field "([^"]+)"$`)
	fieldInMsgRe   = regexp.MustCompile(`^field "([^"]+)"`)
)

// strictUnmarshal decodes request bodies: unknown fields, wrong types, trailing data and
// malformed JSON are all refused with a message that names the field, so a typo in an
// automation script fails loudly instead of being silently ignored.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeDecodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &decodeError{field: "body", msg: "field \"body\": unexpected data after the JSON value"}
	}
	return nil
}

func describeDecodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &decodeError{field: "body", msg: fmt.Sprintf("field \"body\": malformed JSON at byte %d: %s", syn.Offset, syn.Error())}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return &decodeError{field: field, msg: fmt.Sprintf("field %q: expected %s, got %s", field, jsonType(typ.Type.String()), typ.Value)}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &decodeError{field: "body", msg: "field \"body\": the JSON ends unexpectedly"}
	}
	if m := unknownFieldRe.FindStringSubmatch(err.Error()); m != nil {
		return &decodeError{field: m[1], msg: fmt.Sprintf("field %q: unknown field", m[1])}
	}
	return &decodeError{field: "body", msg: "field \"body\": " + strings.TrimPrefix(err.Error(), "json: ")}
}

// fieldFromDecodeMessage recovers the field from a decodeError's text: huma keeps only
// the message of the error our unmarshaler returned.
func fieldFromDecodeMessage(msg string) string {
	if m := fieldInMsgRe.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

func stripFieldPrefix(msg string) string {
	if m := fieldInMsgRe.FindStringIndex(msg); m != nil {
		return strings.TrimPrefix(msg[m[1]:], ": ")
	}
	return msg
}

func jsonType(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "string":
		return "a string"
	case "int", "int32", "int64", "uint", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "true or false"
	}
	if strings.HasPrefix(goType, "[]") {
		return "an array"
	}
	return "an object"
}

// jsonFormat is huma's JSON format with the strict decoder, and responses encoded by
// goccy/go-json: the same output as encoding/json (HTML left unescaped, as huma's
// default), for about half the CPU — encoding a list page was a quarter of the server's
// CPU per request in `make bench` (BENCHMARKS.md, issue 12). Pipelines, the most listed
// entity, are appended by hand with the same output (json_pipelines.go).
var jsonFormat = huma.Format{
	Marshal: func(w io.Writer, v any) error {
		if done, err := writePipelineJSON(w, v); done {
			return err
		}
		return encodeJSON(w, v)
	},
	Unmarshal: strictUnmarshal,
}

// encodeJSON is the encoder every response body goes through (but pipelines').
func encodeJSON(w io.Writer, v any) error {
	enc := gojson.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// ---- text: the one web-side check that every input is text
//
// Go's decoders repair what is not text: encoding/json turns invalid UTF-8 and lone
// surrogate escapes into U+FFFD, and form and query decoding pass NUL and invalid bytes
// through to PostgreSQL, which refuses them with an error that would surface as a 500.
// checkInput refuses both, naming the field, before any handler runs, for query
// parameters, forms and JSON bodies alike, so nothing is silently altered (a password
// with its bytes replaced is another password). The services apply the same rule
// (apperr.TextProblem) for callers that do not come through here.

// checkInput is the middleware; it runs after the access guard, so a caller who may not
// use a route learns nothing about its inputs.
func checkInput() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := checkRequestText(c); err != nil {
				return err
			}
			return next(c)
		}
	}
}

func checkRequestText(c echo.Context) error {
	var f apperr.Fields
	req := c.Request()
	// Most reads carry neither a query nor a body: nothing to parse then.
	if req.URL.RawQuery != "" {
		checkValues(&f, c.QueryParams())
	}
	var mt string
	if req.Body != nil && req.Body != http.NoBody {
		mt, _, _ = mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	}
	switch {
	case req.Body == nil || req.Body == http.NoBody:
	case mt == echo.MIMEApplicationForm || mt == echo.MIMEMultipartForm:
		form, err := c.FormParams()
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "the form could not be read")
		}
		checkValues(&f, form)
	case mt == echo.MIMEApplicationJSON || strings.HasSuffix(mt, "+json"):
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return err // over the body limit: echo's 413
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		checkJSONText(&f, body)
	}
	if len(f) == 0 {
		return nil
	}
	// The message names the first field too: the console's error page shows only it.
	return &apperr.Error{Code: apperr.Invalid, Message: fmt.Sprintf("the field %q %s", f[0].Field, f[0].Message), Fields: f}
}

// checkValues checks names and values of a query or form, in name order so the answer
// is the same every time.
func checkValues(f *apperr.Fields, v url.Values) {
	for _, k := range slices.Sorted(maps.Keys(v)) {
		field := printableField(k)
		if !f.Text(field, k) {
			continue
		}
		for _, s := range v[k] {
			if !f.Text(field, s) {
				break
			}
		}
	}
}

// printableField is a field name fit to be shown back, even when the name itself is
// the bad input.
func printableField(k string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", "\\0"), "\uFFFD")
}

// checkJSONText walks a JSON body's tokens and checks every string (names and values)
// against its raw bytes, naming bad ones by path ("name", "columns[2]", "a.b"). A body
// that is not valid JSON is left to the strict decoder, which describes that better.
func checkJSONText(f *apperr.Fields, body []byte) {
	type frame struct {
		obj     bool
		wantKey bool
		key     string
		idx     int
	}
	var stack []*frame
	path := func() string {
		var b strings.Builder
		for _, fr := range stack {
			if fr.obj {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(printableField(fr.key))
			} else {
				fmt.Fprintf(&b, "[%d]", fr.idx)
			}
		}
		if b.Len() == 0 {
			return "body"
		}
		return b.String()
	}
	valueDone := func() {
		if n := len(stack); n > 0 {
			if top := stack[n-1]; top.obj {
				top.wantKey = true
			} else {
				top.idx++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return
		}
		raw := body[start:dec.InputOffset()]
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &frame{obj: t == '{', wantKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			isKey := len(stack) > 0 && stack[len(stack)-1].obj && stack[len(stack)-1].wantKey
			if isKey {
				top := stack[len(stack)-1]
				top.key, top.wantKey = t, false
			}
			if p := jsonStringProblem(t, raw); p != "" && !f.Has(path()) {
				f.Add(path(), "%s", p)
			}
			if !isKey {
				valueDone()
			}
		default:
			valueDone()
		}
	}
}

// jsonStringProblem compares a decoded string with its raw bytes: invalid UTF-8 in the
// raw text, a NUL (\u0000), or a U+FFFD the sender did not write (the decoder's stand-in
// for a lone surrogate escape such as \ud800).
func jsonStringProblem(decoded string, raw []byte) string {
	if !utf8.Valid(raw) {
		return apperr.TextProblem(string(raw))
	}
	if p := apperr.TextProblem(decoded); p != "" {
		return p
	}
	if strings.ContainsRune(decoded, utf8.RuneError) && !bytes.ContainsRune(raw, utf8.RuneError) &&
		!bytes.Contains(bytes.ToLower(raw), []byte(`\ufffd`)) {
		return "must be valid UTF-8 text"
	}
	return ""
}
