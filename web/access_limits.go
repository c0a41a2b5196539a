package web

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// failureLimiter throttles failed bearer-token attempts per client address: each failure
// spends one token of the address's bucket, and an address with an empty bucket is
// refused before its next token is even looked up, so guessing tokens costs the
// database nothing once the burst is spent. Successful requests spend nothing: a
// client with a valid token is never slowed by this. Like the per-token limit it lives
// in each instance's memory (behind N instances an address gets N buckets).
type failureLimiter struct{ buckets }

func newFailureLimiter(r float64, burst int) *failureLimiter {
	return &failureLimiter{newBuckets(r, burst)}
}

// wait is how long addr must wait before its next attempt (0: it may try now).
func (f *failureLimiter) wait(addr string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.m[addr]
	if !ok {
		return 0
	}
	tokens := b.lim.TokensAt(time.Now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(f.rate) * float64(time.Second))
}

// fail spends one of addr's tokens.
func (f *failureLimiter) fail(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.bucketLocked(addr, now).lim.AllowN(now, 1)
}

// buckets is a token bucket per key, shared by both limiters: the map, its lock and
// the sweep that keeps it from growing with every key ever seen.
type buckets struct {
	rate  rate.Limit
	burst int

	mu    sync.Mutex
	m     map[string]*bucket
	sweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newBuckets(r float64, burst int) buckets {
	return buckets{rate: rate.Limit(r), burst: max(burst, 1), m: map[string]*bucket{}}
}

// bucketLocked returns key's bucket, created full when new, and marks it used now. At
// most once a minute it first forgets keys whose bucket has refilled since their last
// use. The caller holds mu.
func (s *buckets) bucketLocked(key string, now time.Time) *bucket {
	if now.Sub(s.sweep) >= time.Minute {
		s.sweep = now
		full := time.Duration(float64(s.burst) / float64(s.rate) * float64(time.Second))
		for k, b := range s.m {
			if now.Sub(b.last) > full {
				delete(s.m, k)
			}
		}
	}
	b, ok := s.m[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(s.rate, s.burst)}
		s.m[key] = b
	}
	b.last = now
	return b
}

// retryAfter is a Retry-After value in whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// keyLimiter is a token bucket per key (an API token, a user): the per-principal API
// limit of API_RATE_LIMIT requests per second with bursts of API_RATE_BURST. Unlike
// echo's memory store it says how long a refused client must wait, which becomes the
// 429's Retry-After, so a script that honours it is not refused again. A nil
// *keyLimiter allows everything (API_RATE_LIMIT=0).
type keyLimiter struct{ buckets }

func newKeyLimiter(r float64, burst int) *keyLimiter {
	if r <= 0 {
		return nil
	}
	return &keyLimiter{newBuckets(r, burst)}
}

// allow spends one request of key's bucket, or says how long until one is available.
func (k *keyLimiter) allow(key string) (bool, time.Duration) {
	if k == nil {
		return true, 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now()
	r := k.bucketLocked(key, now).lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // a refused request spends nothing
		return false, d
	}
	return true, 0
}
