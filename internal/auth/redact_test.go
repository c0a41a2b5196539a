package auth_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/auth"
)

type secretValuer struct{}

func (secretValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", "ann"), slog.String("password", "hunter2-from-valuer"))
}

// Secrets never reach the wrapped handler, wherever they sit in the line; everything
// else reaches it as it was logged.
func TestRedactHandlerBlanksSecretsWherever(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		var h slog.Handler = slog.NewTextHandler(&buf, nil)
		if format == "json" {
			h = slog.NewJSONHandler(&buf, nil)
		}
		log := slog.New(auth.RedactHandler(h))
		log.Info("connect", "host", "db.example.com", "Password", "hunter2-top")
		log.Info("nested", slog.Group("source", "name", "prod", slog.Group("conn", "pg_password", "hunter2-nested")))
		log.Info("group named like a secret", slog.Group("token", "id", "hunter2-group"))
		log.Info("inline group", slog.Group("", "secret_key", "hunter2-inline"))
		log.Info("valuer", "who", secretValuer{})
		log.With("api_token", "hunter2-with").WithGroup("req").With("cookie", "hunter2-with-group").Info("derived", "path", "/x")
		out := buf.String()
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s: a secret reached the log:\n%s", format, out)
		}
		for _, keep := range []string{"db.example.com", "prod", "ann", "/x", auth.Redacted} {
			if !strings.Contains(out, keep) {
				t.Errorf("%s: %q is missing from the log:\n%s", format, keep, out)
			}
		}
		if n := strings.Count(out, auth.Redacted); n != 7 {
			t.Errorf("%s: %d attributes redacted, want 7:\n%s", format, n, out)
		}
	}
}

// A line without a secret is exactly the wrapped handler's own.
func TestRedactHandlerPassesCleanLinesThrough(t *testing.T) {
	t.Parallel()
	var want, got bytes.Buffer
	plain := slog.NewTextHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug})
	wrapped := auth.RedactHandler(slog.NewTextHandler(&got, &slog.HandlerOptions{Level: slog.LevelDebug}))
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("method", "GET"), slog.String("path", "/api/v1/sources/1 x\"y"), slog.Int("status", 200),
		slog.Duration("duration", 1234*time.Microsecond), slog.Group("g", slog.Bool("ok", true)))
	for _, h := range []slog.Handler{plain, wrapped} {
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if got.String() != want.String() {
		t.Errorf("clean line changed:\n got %s\nwant %s", got.String(), want.String())
	}
	if wrapped.Enabled(context.Background(), slog.LevelDebug-1) || !wrapped.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("Enabled is not the wrapped handler's")
	}
}
