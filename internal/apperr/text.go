package apperr

import (
	"strings"
	"unicode/utf8"
)

// TextProblem says what is wrong with v as text, or "" when nothing is: every text input
// (names, searches, emails, passwords, passphrases) must be valid UTF-8 without NUL.
// PostgreSQL refuses both in text columns, and silently repairing them would change what
// the user typed (a password with its invalid bytes replaced is another password). This
// is the one rule the catalog, auth, audit and the web decoders all apply.
func TextProblem(v string) string {
	switch {
	case !utf8.ValidString(v):
		return "must be valid UTF-8 text"
	case strings.IndexByte(v, 0) >= 0:
		return "must not contain NUL characters"
	}
	return ""
}

// Text adds field's TextProblem, if any, and reports whether v was acceptable.
func (f *Fields) Text(field, v string) bool {
	if p := TextProblem(v); p != "" {
		if !f.Has(field) {
			f.Add(field, "%s", p)
		}
		return false
	}
	return true
}
