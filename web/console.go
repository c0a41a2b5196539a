package web

import (
	"fmt"
	"html"

	"github.com/labstack/echo/v4"
)

// consoleRoutes registers the server-rendered console.
func (s *Server) consoleRoutes() {}

// renderErrorPage answers a console request that failed.
func (s *Server) renderErrorPage(c echo.Context, p *Problem) error {
	return c.HTML(p.Status, fmt.Sprintf("<!doctype html><title>%d %s</title><h1>%s</h1><p>%s</p>",
		p.Status, html.EscapeString(p.Title), html.EscapeString(p.Title), html.EscapeString(p.Detail)))
}
