package partials

import "strings"

// errorGist is how many characters of an error a list shows before it folds the rest
// away behind "show all".
const errorGist = 90

// ErrorGist shortens a long error for a table cell by cutting its middle, never its end:
// errors end with what an operator needs ("… connect to 10.0.4.17:5432: connection
// refused"), so the tail is kept whole and only the middle gives way. Short errors are
// returned as they are, and ok says whether anything was cut.
func ErrorGist(msg string) (gist string, cut bool) {
	r := []rune(strings.TrimSpace(msg))
	if len(r) <= errorGist {
		return string(r), false
	}
	head, tail := errorGist/3, errorGist-errorGist/3
	return strings.TrimSpace(string(r[:head])) + " … " + strings.TrimSpace(string(r[len(r)-tail:])), true
}
