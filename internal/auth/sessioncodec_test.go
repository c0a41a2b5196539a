package auth

import (
	"reflect"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

func TestSessionCodecDecodesAsGobAndHandsOutCopies(t *testing.T) {
	deadline := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	c := NewSessionCodec()
	for _, values := range []map[string]any{
		{},
		{"uid": int64(7), "epoch": int64(3)},
		{"uid": int64(7), "flash": "saved “x”", "n": 2.5, "ok": true},
		{"list": []string{"a", "b"}}, // mutable: decoded every time
	} {
		b, err := c.Encode(deadline, values)
		if err != nil {
			t.Fatal(err)
		}
		wantD, want, err := scs.GobCodec{}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		for round := range 3 {
			d, got, err := c.Decode(b)
			if err != nil || !d.Equal(wantD) || !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d of %v: got %v %v %v, want %v %v", round, values, d, got, err, wantD, want)
			}
			// What scs does to a session's map (Put, Remove), and a change in place,
			// must not reach the next decoding of the same bytes.
			got["uid"] = int64(999)
			delete(got, "epoch")
			if l, ok := got["list"].([]string); ok {
				l[0] = "changed"
			}
		}
	}
	if n := len(c.decoded); n != 3 {
		t.Errorf("%d sessions remembered, want the 3 without mutable values", n)
	}
	if _, _, err := c.Decode([]byte("not gob")); err == nil {
		t.Error("undecodable bytes: no error")
	}
}

func TestSessionCodecStaysBounded(t *testing.T) {
	c := NewSessionCodec()
	for i := range maxDecodedSessions + 10 {
		b, err := c.Encode(time.Unix(int64(i), 0), map[string]any{"uid": int64(i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, v, err := c.Decode(b); err != nil || v["uid"] != int64(i) {
			t.Fatalf("session %d: %v %v", i, v, err)
		}
	}
	if n := len(c.decoded); n > maxDecodedSessions {
		t.Errorf("%d sessions remembered, over the bound %d", n, maxDecodedSessions)
	}
}
