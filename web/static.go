package web

import (
	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/static"
)

// RegisterStatic mounts the embedded assets at /static/*: content-hashed names (from
// static.URL) are cached for a year as immutable, plain names are revalidated, anything
// else is 404. Assets are public: the auth middleware must let /static/ through.
func RegisterStatic(e *echo.Echo) {
	h := echo.WrapHandler(static.Handler())
	e.GET(static.Prefix+"*", h)
	e.HEAD(static.Prefix+"*", h)
}
