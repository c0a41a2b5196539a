package auth

import (
	"maps"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// SessionCodec is scs's gob codec with the decoding of a session's bytes remembered.
// Every signed-in page view decodes its session, and gob compiles a decoder for the
// values map on every call (a new gob.Decoder each time): that was ~6 % of the server's
// CPU per console view (BENCHMARKS.md, issue 12, sixth pass). A session's bytes change
// only when its values do, so the same bytes decode to the same deadline and values; the
// cache is keyed by the bytes themselves, so it can only answer what decoding them would.
//
// scs keeps the decoded map as the session's own and changes it on Put and Remove, so
// every caller gets its own copy. Only maps of immutable values (numbers, strings,
// booleans, times) are remembered: a slice or map value could be changed in place through
// one copy and show up in another.
type SessionCodec struct {
	scs.GobCodec

	mu      sync.Mutex
	decoded map[string]decodedSession
}

type decodedSession struct {
	deadline time.Time
	values   map[string]any
}

// maxDecodedSessions bounds the cache (a few hundred bytes each); past it, it starts over.
const maxDecodedSessions = 4096

// NewSessionCodec returns an empty codec cache.
func NewSessionCodec() *SessionCodec {
	return &SessionCodec{decoded: map[string]decodedSession{}}
}

// Decode is GobCodec.Decode, from memory when these bytes were decoded before.
func (c *SessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	c.mu.Lock()
	d, ok := c.decoded[string(b)]
	c.mu.Unlock()
	if ok {
		return d.deadline, maps.Clone(d.values), nil
	}
	deadline, values, err := c.GobCodec.Decode(b)
	if err != nil || !immutableValues(values) {
		return deadline, values, err
	}
	c.mu.Lock()
	if len(c.decoded) >= maxDecodedSessions {
		clear(c.decoded)
	}
	c.decoded[string(b)] = decodedSession{deadline: deadline, values: maps.Clone(values)}
	c.mu.Unlock()
	return deadline, values, nil
}

func immutableValues(values map[string]any) bool {
	for _, v := range values {
		switch v.(type) {
		case int64, int, int32, uint64, uint32, float64, string, bool, time.Time:
		default:
			return false
		}
	}
	return true
}
