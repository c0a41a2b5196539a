package web

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// loggerOf finds the server's logger from any request of that server (huma's error
// hook is one for all servers), with the request's id.
func TestLoggerOfIsTheServersWithTheRequestID(t *testing.T) {
	t.Parallel()
	var mine, other bytes.Buffer
	serverWith := func(buf *bytes.Buffer) *echo.Echo {
		e := echo.New()
		e.Logger = echoLogger{Logger: e.Logger, slog: slog.New(slog.NewTextHandler(buf, nil))}
		return e
	}
	a, b := serverWith(&mine), serverWith(&other)
	c := a.NewContext(httptest.NewRequest("GET", "/x", nil), httptest.NewRecorder())
	c.Response().Header().Set(echo.HeaderXRequestID, "req-one")
	loggerOf(c).Warn("from a's request")
	if got := mine.String(); !strings.Contains(got, "from a's request") || !strings.Contains(got, "request_id=req-one") {
		t.Errorf("a's log: %q", got)
	}
	c = b.NewContext(httptest.NewRequest("GET", "/y", nil), httptest.NewRecorder())
	c.Response().Header().Set(echo.HeaderXRequestID, "req-two")
	loggerOf(c).Warn("from b's request")
	if got := other.String(); !strings.Contains(got, "request_id=req-two") || strings.Contains(got, "from a's") {
		t.Errorf("b's log: %q", got)
	}
	if strings.Contains(mine.String(), "from b's") {
		t.Errorf("a's log got b's line: %q", mine.String())
	}
}
