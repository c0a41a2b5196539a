package partials

import "strings"

const (
	// errorGist is about how many characters of an error a list shows before it folds
	// the rest away behind "show all".
	errorGist = 90
	// errorTailMax bounds the kept end when it grows to keep a long token whole.
	errorTailMax = 130
)

// ErrorGist shortens a long error for a table cell by cutting its middle, never its end:
// errors end with what an operator needs ("… lookup orders-db.eu-west-1.internal: no
// such host"), so the tail is kept, and grown back to the start of the word it would
// cut, so a host name or an address stays whole. Short errors are returned as they are;
// cut says whether anything was left out.
func ErrorGist(msg string) (gist string, cut bool) {
	r := []rune(strings.TrimSpace(msg))
	if len(r) <= errorGist {
		return string(r), false
	}
	head := errorGist / 3
	start := len(r) - (errorGist - head)
	for start > head && len(r)-start < errorTailMax && r[start-1] != ' ' {
		start--
	}
	for end := head; end > head/2; end-- {
		if r[end] == ' ' {
			head = end
			break
		}
	}
	if start <= head+1 {
		return string(r), false
	}
	return strings.TrimSpace(string(r[:head])) + " … " + strings.TrimSpace(string(r[start:])), true
}
