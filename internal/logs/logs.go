// Package logs builds the process's logger (slog's text or JSON handler, secrets
// redacted) and writes the per-request access line, the one line logged on every
// request, on a fast path that prints exactly what slog would.
package logs

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/auth"
)

// Options say how lines are written.
type Options struct {
	Level slog.Leveler
	JSON  bool // LOG_FORMAT=json; text otherwise
}

// New returns a logger writing to w: slog's text or JSON handler, with attributes named
// like secrets blanked (auth.RedactHandler) whoever logs them.
func New(w io.Writer, o Options) *slog.Logger {
	lw := &lockedWriter{w: w}
	opts := &slog.HandlerOptions{Level: o.Level}
	var h slog.Handler = slog.NewTextHandler(lw, opts)
	if o.JSON {
		h = slog.NewJSONHandler(lw, opts)
	}
	return slog.New(&handler{Handler: auth.RedactHandler(h), w: lw, json: o.JSON})
}

// handler is New's: the redacting handler, plus what the access line's fast path needs
// to write as it would (the format, and the writer with its lock).
type handler struct {
	slog.Handler
	w    *lockedWriter
	json bool
}

// lockedWriter serialises the handler's writes and the fast path's, as slog's handler
// does its own: a line is one Write, never interleaved with another.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Access is one request's line.
type Access struct {
	Method, Path string
	Status       int
	Duration     time.Duration
	RequestID    string
	Remote       string
}

// accessMessage is the access line's message.
const accessMessage = "request"

// Enabled reports whether l writes lines of level (the access line is made only then).
func Enabled(ctx context.Context, l *slog.Logger, level slog.Level) bool {
	return l.Handler().Enabled(ctx, level)
}

const maxPooledLine = 16 << 10

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// WriteAccess writes a's line, as at t and of level, to l. On a logger from New it
// formats the line itself, byte for byte what slog's handler prints for the same record
// (TestAccessLineIsSlogs), in a quarter of the time: slog's handler is general (any
// attribute, groups, resolving, quoting by Unicode class), and this line is written on
// every request (issue 12). A value holding anything but printable ASCII, or another
// logger, goes through slog itself.
func WriteAccess(ctx context.Context, l *slog.Logger, t time.Time, level slog.Level, a Access) {
	if h, ok := l.Handler().(*handler); ok && plain(a.Method) && plain(a.Path) && plain(a.RequestID) && plain(a.Remote) {
		bp := lineBufs.Get().(*[]byte)
		var b []byte
		if h.json {
			b = appendJSON((*bp)[:0], t, level, a)
		} else {
			b = appendText((*bp)[:0], t, level, a)
		}
		// As slog.Logger does: a line that cannot be written is not the request's failure.
		_, _ = h.w.Write(b)
		// A line can be as long as a request's path (up to the body limit's size when
		// unrouted): such buffers are not kept.
		if cap(b) <= maxPooledLine {
			*bp = b
			lineBufs.Put(bp)
		}
		return
	}
	r := slog.NewRecord(t, level, accessMessage, 0)
	r.AddAttrs(
		slog.String("method", a.Method),
		slog.String("path", a.Path),
		slog.Int("status", a.Status),
		slog.Duration("duration", a.Duration),
		slog.String("request_id", a.RequestID),
		slog.String("remote", a.Remote),
	)
	_ = l.Handler().Handle(ctx, r)
}

// plain reports whether s is printable ASCII (space included), the values the fast
// path's quoting rules are written for.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func appendText(b []byte, t time.Time, level slog.Level, a Access) []byte {
	b = append(b, "time="...)
	b = appendMillis(b, t)
	b = append(b, " level="...)
	b = append(b, level.String()...)
	b = append(b, " msg="+accessMessage+" method="...)
	b = appendTextString(b, a.Method)
	b = append(b, " path="...)
	b = appendTextString(b, a.Path)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(a.Status), 10)
	b = append(b, " duration="...)
	b = append(b, a.Duration.String()...)
	b = append(b, " request_id="...)
	b = appendTextString(b, a.RequestID)
	b = append(b, " remote="...)
	b = appendTextString(b, a.Remote)
	return append(b, '\n')
}

// appendMillis writes t as slog's text handler does: RFC 3339 with exactly three
// fractional digits. Go's RFC3339Nano has a fast path that a custom layout lacks, but
// drops trailing zeros; with a tenth of a millisecond added to the truncated time there
// are always four digits, and the fourth is cut.
func appendMillis(b []byte, t time.Time) []byte {
	const upToMillis = len("2006-01-02T15:04:05.000")
	n := len(b)
	b = t.Truncate(time.Millisecond).Add(time.Millisecond/10).AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+upToMillis], b[n+upToMillis+1:]...)
}

// appendTextString quotes s as slog's text handler does for printable ASCII: when it is
// empty or holds a space, a quote or an equals sign.
func appendTextString(b []byte, s string) []byte {
	if s == "" {
		return append(b, `""`...)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ' ' || c == '"' || c == '=' {
			return strconv.AppendQuote(b, s)
		}
	}
	return append(b, s...)
}

func appendJSON(b []byte, t time.Time, level slog.Level, a Access) []byte {
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"`...)
	b = append(b, level.String()...)
	b = append(b, `","msg":"`+accessMessage+`","method":`...)
	b = appendJSONString(b, a.Method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, a.Path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(a.Status), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(a.Duration), 10)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, a.RequestID)
	b = append(b, `,"remote":`...)
	b = appendJSONString(b, a.Remote)
	return append(b, "}\n"...)
}

// appendJSONString writes printable ASCII s as a JSON string: only the quote and the
// backslash need escaping there.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
