package logs_test

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/logs"
)

// slogLine is what slog's own handler prints for a's record.
func slogLine(t *testing.T, json bool, at time.Time, level slog.Level, a logs.Access) string {
	t.Helper()
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	if json {
		h = slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	}
	r := slog.NewRecord(at, level, "request", 0)
	r.AddAttrs(slog.String("method", a.Method), slog.String("path", a.Path), slog.Int("status", a.Status),
		slog.Duration("duration", a.Duration), slog.String("request_id", a.RequestID), slog.String("remote", a.Remote))
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// The access line's fast path prints byte for byte what slog's handler prints for the
// same record, in both formats, for every kind of value a client can put in a path or a
// request id (quotes, equals signs, backslashes, spaces, HTML, non-ASCII, control bytes).
func TestAccessLineIsSlogs(t *testing.T) {
	t.Parallel()
	tricky := []string{"", " ", "a=b", `a"b`, `a\b`, `\"`, "<script>&amp;", "%41%00", "'", "x y", "é", "日本",
		"\x7f", "\t", "\n", "\x00", "\xff", "\u2028", "~!@#$^*()_+`{}|[]:;?,./", "/api/v1/sources/42", "::1", "[::1]:80"}
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		if rng.IntN(3) == 0 {
			return tricky[rng.IntN(len(tricky))]
		}
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteByte(byte(0x20 + rng.IntN(0x5f)))
		}
		return b.String()
	}
	zones := []*time.Location{time.UTC, time.FixedZone("east", 5*3600+1800), time.FixedZone("west", -8*3600)}
	levels := []slog.Level{slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelError + 2}
	for i := range 20000 {
		at := time.Date(2000+rng.IntN(60), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60),
			[]int{0, 1, 999_999, 1_000_000, 123_456_789, 999_999_999}[rng.IntN(6)], zones[rng.IntN(len(zones))])
		a := logs.Access{Method: word(), Path: word(), Status: rng.IntN(600), RequestID: word(), Remote: word(),
			Duration: time.Duration(rng.Int64N(int64([]time.Duration{time.Microsecond, time.Second, time.Hour}[rng.IntN(3)])))}
		level := levels[rng.IntN(len(levels))]
		json := i%2 == 1
		var got bytes.Buffer
		logs.WriteAccess(context.Background(), logs.New(&got, logs.Options{Level: slog.LevelDebug, JSON: json}), at, level, a)
		if want := slogLine(t, json, at, level, a); got.String() != want {
			t.Fatalf("json=%v %+v at %v:\n got %q\nwant %q", json, a, at, got.String(), want)
		}
	}
}

// Lines from the fast path and from slog's handler share the writer whole: none is
// split by another (the race detector checks the writer is only used under its lock).
func TestAccessLinesAndOtherLinesDoNotInterleave(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := logs.New(&buf, logs.Options{Level: slog.LevelInfo})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if g%2 == 0 {
					logs.WriteAccess(context.Background(), l, time.Now(), slog.LevelInfo, logs.Access{Method: "GET", Path: "/p", Status: 200, RequestID: "r", Remote: "127.0.0.1"})
				} else {
					l.Info("other", "i", i)
				}
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 8*200 {
		t.Fatalf("%d lines, want %d", len(lines), 8*200)
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, "time=") || strings.Count(line, "time=") != 1 {
			t.Fatalf("a line was split or joined: %q", line)
		}
	}
}

// Secrets logged through New's logger are redacted, and a level below the logger's is
// not written.
func TestNewRedactsAndFiltersByLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := logs.New(&buf, logs.Options{Level: slog.LevelWarn, JSON: true})
	l.Info("quiet", "x", 1)
	l.Warn("connect", "password", "hunter2")
	if out := buf.String(); strings.Contains(out, "quiet") || strings.Contains(out, "hunter2") || !strings.Contains(out, `"password":"[redacted]"`) {
		t.Errorf("log: %s", out)
	}
	if logs.Enabled(context.Background(), l, slog.LevelInfo) || !logs.Enabled(context.Background(), l, slog.LevelError) {
		t.Error("Enabled does not follow the level")
	}
}

func BenchmarkAccessLine(b *testing.B) {
	a := logs.Access{Method: "GET", Path: "/api/v1/sources/123", Status: 200, Duration: 1234567, RequestID: "SkepEayZcMMsXfyMVpbDfnLTUpRsYCNq", Remote: "127.0.0.1"}
	for _, json := range []bool{false, true} {
		name := map[bool]string{false: "text", true: "json"}[json]
		l := logs.New(discard{}, logs.Options{Level: slog.LevelInfo, JSON: json})
		b.Run(name+"/fast", func(b *testing.B) {
			for b.Loop() {
				logs.WriteAccess(context.Background(), l, time.Now(), slog.LevelInfo, a)
			}
		})
		slow := slog.New(l.Handler().WithAttrs(nil)) // not New's handler: slog's path
		b.Run(name+"/slog", func(b *testing.B) {
			for b.Loop() {
				logs.WriteAccess(context.Background(), slow, time.Now(), slog.LevelInfo, a)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
