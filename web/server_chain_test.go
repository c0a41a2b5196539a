package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// chainOnce must behave exactly as e.Use with the same middleware: same order, the
// handler routing chose (a route, echo's 404, echo's 405), a pre-middleware's path
// rewrite seen by routing, a panic recovered, and no state shared between concurrent
// requests. Each case runs on both servers and the answers are compared.
func TestChainOnceRunsAsEchoUse(t *testing.T) {
	mark := func(name string) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				c.Response().Header().Add("X-Order", name)
				return next(c)
			}
		}
	}
	build := func(once bool) *echo.Echo {
		e := echo.New()
		e.Pre(middleware.RemoveTrailingSlash())
		mws := []echo.MiddlewareFunc{mark("a"), middleware.RecoverWithConfig(middleware.RecoverConfig{
			// the panic is the case under test: no stack in the test log
			LogErrorFunc: func(_ echo.Context, err error, _ []byte) error { return err },
		}), mark("b"), mark("c")}
		if once {
			e.Use(chainOnce(mws...))
		} else {
			e.Use(mws...)
		}
		e.GET("/things/:id", func(c echo.Context) error {
			if c.Param("id") == "boom" {
				panic("boom")
			}
			return c.String(http.StatusOK, "thing "+c.Param("id"))
		}, mark("route"))
		e.POST("/things", func(c echo.Context) error { return c.NoContent(http.StatusCreated) })
		return e
	}
	use, once := build(false), build(true)
	serve := func(e *echo.Echo, method, path string) string {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return strings.Join([]string{http.StatusText(w.Code), strings.Join(w.Header().Values("X-Order"), ","),
			w.Header().Get("Allow"), w.Body.String()}, "|")
	}
	cases := []struct{ method, path, want string }{
		{"GET", "/things/7", "OK|a,b,c,route||thing 7"},
		{"GET", "/things/7/", "OK|a,b,c,route||thing 7"},
		{"GET", "/nowhere", "Not Found|a,b,c||"},
		{"GET", "/things", "Method Not Allowed|a,b,c|OPTIONS, POST|"},
		{"POST", "/things", "Created|a,b,c||"},
		{"GET", "/things/boom", "Internal Server Error|a,b,c,route||"},
	}
	for _, tc := range cases {
		got, ref := serve(once, tc.method, tc.path), serve(use, tc.method, tc.path)
		if got != ref {
			t.Errorf("%s %s: chainOnce %q, e.Use %q", tc.method, tc.path, got, ref)
		}
		// Echo's own error bodies are JSON; the rest of the answer is checked exactly.
		if head := got[:strings.LastIndex(got, "|")]; head != tc.want[:strings.LastIndex(tc.want, "|")] ||
			(strings.HasPrefix(tc.want, "OK") && got != tc.want) {
			t.Errorf("%s %s = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				id := string(rune('0' + i))
				if got := serve(once, "GET", "/things/"+id); got != "OK|a,b,c,route||thing "+id {
					t.Errorf("concurrent GET /things/%s = %q", id, got)
					return
				}
			}
		})
	}
	wg.Wait()
}
