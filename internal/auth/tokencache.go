package auth

import (
	"sync"
	"time"
)

// principalCache remembers verified principals for a few seconds under a key: API
// tokens by their hash (tokenCache), console sessions' users by user id and session epoch
// (sessionUserCache).
type principalCache[K comparable] struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	m     map[K]cachedPrincipal
	sweep time.Time
}

// tokenCache remembers verified API tokens for a few seconds, so a busy automation does
// not cost a database round trip per request. Only the SHA-256 of a token is kept (as in
// the database), never the token; failures are never cached, so a guessed token always
// costs a lookup (and the per-address failure limit in web still applies).
//
// What a cached entry may miss is bounded by ttl: a revocation, an expiry moved earlier,
// a disabled owner or a role change made on another instance takes effect here at most
// ttl later. Changes made through this instance's Service evict at once (RevokeToken,
// UpdateUser), and an entry never outlives the token's own expires_at.
type tokenCache = principalCache[[32]byte]

// sessionUserCache remembers the user of a console session (see SessionPrincipal) under
// the same rules: a disabled user, a role change or a password reset (which moves the
// session epoch on) made through this instance's Service evicts at once; made elsewhere,
// it takes effect here within ttl. Failures are never cached.
type sessionUserCache = principalCache[sessionUserKey]

type sessionUserKey struct{ userID, epoch int64 }

type cachedPrincipal struct {
	p         Principal
	expiresAt *time.Time // the token's own expiry, nil = never
	until     time.Time  // when this entry must be checked against the database again
}

// maxCachedTokens bounds the memory a burst of distinct valid tokens can take; past it
// new tokens are simply not cached (they still work, at one lookup each).
const maxCachedTokens = 100_000

func newPrincipalCache[K comparable](ttl time.Duration, now func() time.Time) *principalCache[K] {
	return &principalCache[K]{ttl: ttl, now: now, m: map[K]cachedPrincipal{}}
}

func (c *principalCache[K]) get(h K) (Principal, bool) {
	if c.ttl <= 0 {
		return Principal{}, false
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[h]
	c.mu.Unlock()
	if !ok || !now.Before(e.until) || (e.expiresAt != nil && !now.Before(*e.expiresAt)) {
		return Principal{}, false
	}
	return e.p.clone(), true
}

func (c *principalCache[K]) put(h K, p Principal, expiresAt *time.Time) {
	if c.ttl <= 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.sweep) >= c.ttl {
		c.sweep = now
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
	}
	if _, ok := c.m[h]; !ok && len(c.m) >= maxCachedTokens {
		return
	}
	c.m[h] = cachedPrincipal{p: p.clone(), expiresAt: expiresAt, until: now.Add(c.ttl)}
}

// evict forgets every entry matching drop.
func (c *principalCache[K]) evict(drop func(Principal) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if drop(e.p) {
			delete(c.m, k)
		}
	}
}

func (c *principalCache[K]) evictToken(id int64) {
	c.evict(func(p Principal) bool { return p.TokenID != nil && *p.TokenID == id })
}

func (c *principalCache[K]) evictUser(id int64) {
	c.evict(func(p Principal) bool { return p.UserID == id })
}

// clone copies p so no two callers share its TokenID pointer.
func (p Principal) clone() Principal {
	if p.TokenID != nil {
		id := *p.TokenID
		p.TokenID = &id
	}
	return p
}
