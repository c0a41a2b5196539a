package static

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// cssNoise is what may hold braces without opening a block: comments and quoted strings.
var cssNoise = regexp.MustCompile(`(?s)/\*.*?\*/|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)

// A block left open in our stylesheets is not a syntax error a browser reports: it
// silently moves every later rule inside it (a merge once left a phone-only @media open,
// and the desktop table layout after it stopped applying). Count the blocks.
func TestStylesheetsCloseEveryBlock(t *testing.T) {
	names, err := fs.Glob(files, "css/*.css")
	if err != nil || len(names) == 0 {
		t.Fatalf("no stylesheets embedded (%v)", err)
	}
	for _, name := range names {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatal(err)
		}
		depth := 0
		for i, line := range strings.Split(cssNoise.ReplaceAllStringFunc(string(b), keepNewlines), "\n") {
			depth += strings.Count(line, "{") - strings.Count(line, "}")
			if depth < 0 {
				t.Fatalf("%s:%d: closes a block that was never opened", name, i+1)
			}
		}
		if depth != 0 {
			t.Errorf("%s: %d block(s) left open at the end of the file", name, depth)
		}
	}
}

// keepNewlines blanks a comment or string but keeps its line breaks, so line numbers hold.
func keepNewlines(s string) string {
	return strings.Repeat("\n", strings.Count(s, "\n"))
}
