package access

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rosetta-cdc/rosetta/internal/auth"
)

// Change is one line of an audit event's Changes column: "status: PAUSE → START", or
// "name: orders" for a value recorded without a before.
type Change struct {
	Field  string
	Before string
	After  string
	// Moved: the event recorded a before and an after ({from, to}).
	Moved bool
}

// Changes turns an event's recorded changes into lines a person reads, by field name.
// Secret fields show only that they changed, whatever was recorded: the audit log is
// read by every signed-in user (the recorder already stores no secret; this is the
// second lock on the same door).
func Changes(c map[string]any) []Change {
	out := make([]Change, 0, len(c))
	for _, k := range slices.Sorted(maps.Keys(c)) {
		v := c[k]
		ch := Change{Field: strings.ReplaceAll(k, "_", " ")}
		if m, ok := v.(map[string]any); ok && len(m) <= 2 && hasAny(m, "from", "to") {
			ch.Moved = true
			ch.Before, ch.After = changeValue(m["from"]), changeValue(m["to"])
		} else {
			ch.After = changeValue(v)
		}
		if auth.IsSecretName(k) {
			ch.Before, ch.After, ch.Moved = "", secretValue(v), false
		}
		out = append(out, ch)
	}
	return out
}

func hasAny(m map[string]any, keys ...string) bool {
	for k := range m {
		if !slices.Contains(keys, k) {
			return false
		}
	}
	return true
}

// secretValue keeps the recorder's marker ("(set)", "(changed)", "(generated)") and
// nothing else.
func secretValue(v any) string {
	if s, ok := v.(string); ok && len(s) < 20 && strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		return s
	}
	return "(changed)"
}

// changeValue is one recorded value in words: text as it is, "none" for null, numbers
// and booleans as written, anything nested as compact JSON.
func changeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "none"
	case string:
		if x == "" {
			return `""`
		}
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return "?"
		}
		return string(b)
	}
}
