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
type failureLimiter struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*failureBucket
	sweep   time.Time
}

type failureBucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newFailureLimiter(r float64, burst int) *failureLimiter {
	return &failureLimiter{rate: rate.Limit(r), burst: burst, buckets: map[string]*failureBucket{}}
}

// wait is how long addr must wait before its next attempt (0: it may try now).
func (f *failureLimiter) wait(addr string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[addr]
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
	f.sweepLocked(now)
	b, ok := f.buckets[addr]
	if !ok {
		b = &failureBucket{lim: rate.NewLimiter(f.rate, f.burst)}
		f.buckets[addr] = b
	}
	b.last = now
	b.lim.AllowN(now, 1)
}

// sweepLocked forgets addresses whose bucket has refilled, at most once a minute, so the
// map does not grow with every address that ever failed.
func (f *failureLimiter) sweepLocked(now time.Time) {
	if now.Sub(f.sweep) < time.Minute {
		return
	}
	f.sweep = now
	full := time.Duration(float64(f.burst) / float64(f.rate) * float64(time.Second))
	for k, b := range f.buckets {
		if now.Sub(b.last) > full {
			delete(f.buckets, k)
		}
	}
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
type keyLimiter struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*failureBucket
	sweep   time.Time
}

func newKeyLimiter(r float64, burst int) *keyLimiter {
	if r <= 0 {
		return nil
	}
	return &keyLimiter{rate: rate.Limit(r), burst: max(burst, 1), buckets: map[string]*failureBucket{}}
}

// allow spends one request of key's bucket, or says how long until one is available.
func (k *keyLimiter) allow(key string) (bool, time.Duration) {
	if k == nil {
		return true, 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now()
	if now.Sub(k.sweep) >= time.Minute {
		// Forget keys whose bucket has refilled, so the map does not keep every token
		// that ever called.
		k.sweep = now
		full := time.Duration(float64(k.burst) / float64(k.rate) * float64(time.Second))
		for key, b := range k.buckets {
			if now.Sub(b.last) > full {
				delete(k.buckets, key)
			}
		}
	}
	b, ok := k.buckets[key]
	if !ok {
		b = &failureBucket{lim: rate.NewLimiter(k.rate, k.burst)}
		k.buckets[key] = b
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // a refused request spends nothing
		return false, d
	}
	return true, 0
}
