package partials

import (
	"strings"
	"testing"
)

func TestErrorGistKeepsTheEndWhole(t *testing.T) {
	host := "orders-primary-replica-number-seventeen.eu-west-1.rds.internal.example.com"
	long := `preflight check "connect" failed: could not connect to the server: dial tcp: lookup ` + host + ` on 10.0.0.2:53: no such host`
	gist, cut := ErrorGist(long)
	if !cut || !strings.HasSuffix(gist, host+" on 10.0.0.2:53: no such host") || !strings.HasPrefix(gist, `preflight check "connect"`) {
		t.Errorf("gist %q (cut %v): want the start and the whole end, host unbroken", gist, cut)
	}
	if len([]rune(gist)) >= len([]rune(long)) {
		t.Errorf("gist %q is no shorter than the message", gist)
	}
	if g, cut := ErrorGist("connection refused"); cut || g != "connection refused" {
		t.Errorf("a short error changed: %q %v", g, cut)
	}
	// one endless token: its middle goes, the kept end stays bounded
	blob := strings.Repeat("x", 300) + "END"
	if g, cut := ErrorGist(blob); !cut || !strings.HasSuffix(g, "xEND") || len([]rune(g)) > errorGist/3+3+errorTailMax {
		t.Errorf("a 303-character token reads %q", g)
	}
}
