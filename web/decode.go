package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/danielgtaylor/huma/v2"
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

// jsonFormat is huma's JSON format with the strict decoder.
var jsonFormat = huma.Format{
	Marshal:   huma.DefaultJSONFormat.Marshal,
	Unmarshal: strictUnmarshal,
}
