package catalog

import (
	"slices"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
)

func TestHostValidation(t *testing.T) {
	for host, ok := range map[string]bool{
		"db.internal": true, "10.0.0.7": true, "::1": true, "[2001:db8::1]": true, "localhost": true,
		"a-b.example.com.": true, "": false, "has space": false, "-lead.example": false, "under_score.example": false,
		"x..y": false, "trail-.example": false,
	} {
		var f apperr.Fields
		validHost(&f, "pg_host", host)
		if got := len(f) == 0; got != ok {
			t.Errorf("validHost(%q) ok = %v, want %v (%v)", host, got, ok, f)
		}
	}
}

func TestIdentifierRules(t *testing.T) {
	for slot, ok := range map[string]bool{"rosetta_orders": true, "a1": true, "Upper": false, "with-dash": false,
		"": false, "a234567890123456789012345678901234567890123456789012345678901234": false} {
		if got := slotNameRe.MatchString(slot); got != ok {
			t.Errorf("slot %q = %v, want %v", slot, got, ok)
		}
	}
	for acct, ok := range map[string]bool{"acme-analytics": true, "xy12345.us-east-2.aws": true, "bad account": false,
		".lead": false, "a..b": false} {
		if got := sfAccountRe.MatchString(acct); got != ok {
			t.Errorf("account %q = %v, want %v", acct, got, ok)
		}
	}
}

// TestTransitionTable pins the state machine's no-op and conflict rules, and that the
// actions it offers are exactly the ones that change something.
func TestTransitionTable(t *testing.T) {
	cases := []struct {
		action           Action
		desired, runtime string
		noop, conflict   bool
	}{
		{ActionStart, DesiredPause, RuntimePaused, false, false},
		{ActionStart, DesiredStart, RuntimeRunning, true, false},
		{ActionStart, DesiredStart, RuntimeError, false, false}, // retry after a failed preflight
		{ActionStart, DesiredRefresh, RuntimeRunning, true, false},
		{ActionPause, DesiredPause, RuntimePaused, true, false},
		{ActionPause, DesiredStart, RuntimeError, false, false},
		{ActionPause, DesiredStart, RuntimeRunning, false, false},
		{ActionRefresh, DesiredStart, RuntimeRunning, false, false},
		{ActionRefresh, DesiredRefresh, RuntimeRunning, false, true},
		{ActionRefresh, DesiredRefresh, RuntimeError, false, false},
		{ActionRefresh, DesiredStart, RuntimeError, false, false},
		{ActionRefresh, DesiredPause, RuntimePaused, false, false},
	}
	for _, c := range cases {
		o, err := Decide(c.action, c.desired, c.runtime)
		if (o == NoOp) != c.noop || (o == Refused) != c.conflict || (err != nil) != c.conflict {
			t.Errorf("%s on %s/%s: outcome=%v err=%v", c.action, c.desired, c.runtime, o, err)
		}
		if err != nil && apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("%s on %s/%s: code %s, want conflict", c.action, c.desired, c.runtime, apperr.CodeOf(err))
		}
		offered := slices.Contains(AllowedActions(c.desired, c.runtime), c.action)
		if offered != (!c.noop && !c.conflict) {
			t.Errorf("%s on %s/%s: offered=%v", c.action, c.desired, c.runtime, offered)
		}
	}
}

func TestAllowedActionsByState(t *testing.T) {
	for _, c := range []struct {
		desired, runtime string
		want             []Action
	}{
		{DesiredPause, RuntimePaused, []Action{ActionStart, ActionRefresh}},
		{DesiredStart, RuntimeRunning, []Action{ActionPause, ActionRefresh}},
		{DesiredRefresh, RuntimeRunning, []Action{ActionPause}},
		// the catalog allows a refresh from ERROR: the console offers it too
		{DesiredStart, RuntimeError, []Action{ActionStart, ActionPause, ActionRefresh}},
		{DesiredRefresh, RuntimeError, []Action{ActionStart, ActionPause, ActionRefresh}},
	} {
		if got := AllowedActions(c.desired, c.runtime); !slices.Equal(got, c.want) {
			t.Errorf("%s/%s: %v, want %v", c.desired, c.runtime, got, c.want)
		}
	}
	if CanDelete(RuntimeRunning) || !CanDelete(RuntimePaused) || !CanDelete(RuntimeError) {
		t.Error("only a running pipeline may not be deleted")
	}
	if CanRepoint(RuntimeRunning) || !CanRepoint(RuntimePaused) || !CanRepoint(RuntimeError) {
		t.Error("only a running pipeline may not be re-pointed")
	}
}

func TestParseAction(t *testing.T) {
	for _, a := range Actions {
		if got, err := ParseAction(string(a)); err != nil || got != a {
			t.Errorf("ParseAction(%q) = %q, %v", a, got, err)
		}
	}
	for _, bad := range []string{"", "START", "stop", "delete"} {
		got, err := ParseAction(bad)
		e := apperr.As(err)
		if got != "" || e == nil || e.Code != apperr.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "action" {
			t.Errorf("ParseAction(%q) = %q, %v; want an Invalid error on the field action", bad, got, err)
		}
		if o, err := Decide(Action(bad), DesiredPause, RuntimePaused); o != Refused || err == nil {
			t.Errorf("Decide(%q) = %v, %v; want refused", bad, o, err)
		}
	}
}

func TestBucketKeepsPointsWithinLimit(t *testing.T) {
	for _, c := range []struct {
		span    time.Duration
		limit   int
		sources int64
	}{
		{24 * time.Hour, 1000, 1}, {30 * 24 * time.Hour, 100, 7}, {time.Minute, 10, 1}, {time.Hour, 5, 20},
	} {
		b := bucketFor(c.span, c.limit, c.sources)
		if b < time.Second || b%time.Second != 0 {
			t.Fatalf("bucket %s is not whole seconds", b)
		}
		perSource := int64(c.span/b) + 1
		if c.sources*perSource > int64(c.limit) && perSource > 1 {
			t.Errorf("span %s limit %d sources %d: bucket %s gives %d points", c.span, c.limit, c.sources, b, c.sources*perSource)
		}
	}
}

func TestListParams(t *testing.T) {
	p := ListParams{}
	if err := p.normalize(SourceSorts); err != nil || p.Limit != DefaultLimit || p.Sort != "name" {
		t.Fatalf("defaults: %+v %v", p, err)
	}
	p = ListParams{Limit: 501, Offset: -1, Sort: "password"}
	err := p.normalize(SourceSorts)
	e := apperr.As(err)
	if e == nil || len(e.Fields) != 3 {
		t.Fatalf("bad params: %v", err)
	}
	if q := qArg(`50%_\`); q == nil || *q != `50\%\_\\` {
		t.Errorf("qArg escapes = %v", *q)
	}
}
