package web

import (
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// contentSecurityPolicy allows only this origin's own files: no inline script anywhere
// (htmx is configured not to inject styles or evaluate code), no framing, forms post
// only here.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// apiDocsPolicy relaxes style-src for /api/docs alone: Swagger UI sets inline styles
// that cannot be moved into a file. Scripts stay 'self' only (the page is booted by
// static/js/apidocs.js).
var apiDocsPolicy = strings.Replace(contentSecurityPolicy, "style-src 'self'", "style-src 'self' 'unsafe-inline'", 1)

// apiPolicy is the whole policy of an API answer (JSON, problem JSON, the event stream):
// nothing in it is ever a page, so nothing may load and nothing may frame it.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'"

// securityHeaders sets the browser-hardening headers on every answer, errors included.
// The values are built once and shared by every answer (assigned, not Set: Set would
// canonicalise the name and allocate a fresh one-value slice per header per request).
// Sharing is safe because nothing edits a header value in place: Set replaces the slice
// and Add appends to a full one, which copies it.
//
// API answers (under /api/ but the docs page) get the headers that mean something for a
// resource no browser renders as a page: nosniff, no framing, the referrer policy, and
// a CSP that allows nothing. Cross-Origin-Opener-Policy and Permissions-Policy govern
// documents only, so they go on pages alone; leaving them and the console's long CSP
// off the API's answers spares every API call writing, and every client parsing, 250
// bytes that do nothing (issue 12).
func (s *Server) securityHeaders() echo.MiddlewareFunc {
	hsts := s.deps.Config != nil && !s.deps.Config.IsDevelopment()
	one := func(v string) []string { return []string{v} }
	csp, docsCSP, apiCSP := one(contentSecurityPolicy), one(apiDocsPolicy), one(apiPolicy)
	type header struct {
		name  string
		value []string
	}
	every := [...]header{
		{"X-Content-Type-Options", one("nosniff")},
		{"X-Frame-Options", one("DENY")},
		{"Referrer-Policy", one("strict-origin-when-cross-origin")},
	}
	pages := [...]header{
		{"Cross-Origin-Opener-Policy", one("same-origin")},
		{"Permissions-Policy", one("camera=(), microphone=(), geolocation=(), payment=()")},
	}
	hstsValue := one("max-age=63072000; includeSubDomains")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			for _, f := range every {
				h[f.name] = f.value
			}
			path := c.Request().URL.Path
			page := path == apiDocsPath || !isAPI(c)
			switch {
			case path == apiDocsPath:
				h["Content-Security-Policy"] = docsCSP
			case page:
				h["Content-Security-Policy"] = csp
			default:
				h["Content-Security-Policy"] = apiCSP
			}
			if page {
				for _, f := range pages {
					h[f.name] = f.value
				}
			}
			if hsts && s.isHTTPS(c) {
				// Only on answers that reached the browser over HTTPS (RFC 6797 §7.2;
				// browsers ignore it over plain HTTP anyway). It keeps the next visit from
				// ever starting over HTTP.
				h["Strict-Transport-Security"] = hstsValue
			}
			return next(c)
		}
	}
}

// cors admits cross-origin API calls from CORS_ALLOWED_ORIGINS only, and only with a
// bearer token (no credentials mode: cookies never ride along). With no origins
// configured it sends no CORS headers at all, so browsers refuse cross-origin reads.
func (s *Server) cors() echo.MiddlewareFunc {
	var origins []string
	if s.deps.Config != nil {
		for _, o := range s.deps.Config.CORSAllowedOrigins {
			if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
				origins = append(origins, o)
			}
		}
	}
	if len(origins) == 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		Skipper:       func(c echo.Context) bool { return !isAPI(c) },
		AllowOrigins:  origins,
		AllowMethods:  []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType, "Last-Event-ID"},
		ExposeHeaders: []string{echo.HeaderLocation, echo.HeaderXRequestID, "Retry-After"},
		MaxAge:        600,
	})
}

// ipExtractor decides which address a request comes from (audit, sign-in lockout, the
// request log). X-Forwarded-For is believed only from TRUSTED_PROXIES: otherwise any
// client could name its own address and walk past the per-address lockout.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// trustedNets reads TRUSTED_PROXIES (addresses or CIDRs, validated by internal/config)
// into networks; a bare address is a network of one.
func trustedNets(trusted []string) []*net.IPNet {
	var nets []*net.IPNet
	for _, t := range trusted {
		t = strings.TrimSpace(t)
		if !strings.Contains(t, "/") {
			if ip := net.ParseIP(t); ip != nil && ip.To4() != nil {
				t += "/32"
			} else {
				t += "/128"
			}
		}
		if _, n, err := net.ParseCIDR(t); err == nil {
			nets = append(nets, n)
		}
	}
	return nets
}

// fromTrustedProxy reports whether the TCP peer is one of TRUSTED_PROXIES.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	if len(s.trusted) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, n := range s.trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// isHTTPS is the one answer to "did the browser reach us over HTTPS?" (Secure cookies,
// HSTS, the sign-in page's warning): TLS on this connection, or X-Forwarded-Proto: https
// from a TRUSTED_PROXIES peer. From anyone else the header is ignored, since a client
// could send it over plain HTTP itself. Of a list, the last value counts: it is the one
// the trusted peer wrote (proxies that append keep what the client sent in front).
func (s *Server) isHTTPS(c echo.Context) bool {
	r := c.Request()
	if r.TLS != nil {
		return true
	}
	if !s.fromTrustedProxy(r) {
		return false
	}
	values := r.Header.Values("X-Forwarded-Proto")
	if len(values) == 0 {
		return false
	}
	last := values[len(values)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(last), "https")
}

// plainHTTPMessage explains, on the sign-in page and instead of the CSRF error, why a
// production console cannot work over plain HTTP, and what to change.
const plainHTTPMessage = "Rosetta in production signs in only over HTTPS: this request came over plain HTTP, " +
	"so the browser will drop the secure session cookie and every form will be refused. " +
	"Serve HTTPS with TLS_CERT_FILE and TLS_KEY_FILE, or put a TLS-terminating proxy in front " +
	"that sets X-Forwarded-Proto and list its address in TRUSTED_PROXIES."

// plainHTTPInProduction: production cookies are always Secure (and __Host-), so a browser
// on plain HTTP never sends them back.
func (s *Server) plainHTTPInProduction(c echo.Context) bool {
	return s.deps.Config != nil && s.deps.Config.IsProduction() && !s.isHTTPS(c)
}
