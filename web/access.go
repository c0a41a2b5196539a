package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/views/layout"
)

// How a request is authenticated and authorized (one middleware, guard, for both faces):
//
//  1. The route's rule comes from the permission table (access_table.go) by method and
//     registered pattern. Open routes go straight through.
//  2. "Authorization: Bearer <token>" authenticates with an API token on every route
//     that needs a principal; the request is then exempt from CSRF (browsers never add
//     that header on their own) and rate-limited per token; failed attempts are
//     rate-limited per client address. API calls with a console session are
//     rate-limited per user. Public routes (sign-in,
//     readiness) ignore tokens and are served as to a browser, CSRF included. Otherwise the console session (scs, stored in PostgreSQL)
//     is loaded and its user re-read, so disabling a user or changing a role takes
//     effect on their next request.
//  3. No principal: the API answers 401 problem JSON with WWW-Authenticate: Bearer; the
//     console redirects to /login?next=…. Too weak a role: 403.
//  4. A state-changing request without a bearer token must carry the CSRF token (form
//     field _csrf or header X-CSRF-Token) and must not come from another origin.
//
// Handlers then find the principal with auth.FromContext(c.Request().Context()), and the
// client address with auth.RemoteAddr; the catalog's audit hook reads both.

// AccessOptions tune sessions and API rate limits; zero values mean the defaults.
type AccessOptions struct {
	// SessionIdleTimeout signs a browser out after this long without a request (1 h).
	SessionIdleTimeout time.Duration
	// SessionLifetime signs it out this long after sign-in, active or not (12 h).
	SessionLifetime time.Duration
	// TokenRate and TokenBurst limit each API token; when zero they come from
	// API_RATE_LIMIT and API_RATE_BURST (20 requests/s, bursts of 100; API_RATE_LIMIT=0
	// is no limit), and a negative TokenRate turns the limit off. The limiter lives in
	// each instance's memory: behind N instances a token gets up to N times the rate,
	// which is acceptable for a guard against runaway scripts (sign-in lockout, which
	// must hold everywhere, is kept in PostgreSQL instead).
	TokenRate  float64
	TokenBurst int
	// SessionRate and SessionBurst limit each signed-in user calling the API with a
	// console session (the browser's own htmx and fetch calls included): by default the
	// same API_RATE_LIMIT and API_RATE_BURST, so a session is no side door around the
	// token limit.
	SessionRate  float64
	SessionBurst int
	// BadTokenRate and BadTokenBurst limit failed bearer attempts per client address
	// (1 per second, bursts of 20): past them the address gets 429 without a lookup.
	BadTokenRate  float64
	BadTokenBurst int
}

func (o AccessOptions) withDefaults(cfg *config.Config) AccessOptions {
	apiRate, apiBurst := 20.0, 100
	if cfg != nil {
		apiRate, apiBurst = cfg.APIRateLimit, cfg.APIRateBurst
	}
	if o.TokenRate == 0 {
		o.TokenRate, o.TokenBurst = apiRate, apiBurst
	}
	if o.SessionRate == 0 {
		o.SessionRate, o.SessionBurst = apiRate, apiBurst
	}
	if o.SessionIdleTimeout <= 0 {
		o.SessionIdleTimeout = time.Hour
	}
	if o.SessionLifetime <= 0 {
		o.SessionLifetime = 12 * time.Hour
	}
	if o.BadTokenRate <= 0 {
		o.BadTokenRate = 1
	}
	if o.BadTokenBurst <= 0 {
		o.BadTokenBurst = 20
	}
	return o
}

// accessState is the server's access machinery, built once in New.
type accessState struct {
	sessions *scs.SessionManager
	// tokenLimit limits each API token; nil when the limit is off.
	tokenLimit *keyLimiter
	// sessionLimit limits API calls made with a console session, per user.
	sessionLimit *keyLimiter
	// badTokens limits failed bearer attempts per client address.
	badTokens *failureLimiter
	crossOrig *http.CrossOriginProtection
	// signKey signs the cookies Rosetta reads back (flash) and binds CSRF tokens to the
	// session; derived from SECRET_KEY so every instance agrees (see signingKey).
	signKey []byte
	// registered holds "METHOD pattern" of every route, to tell a route missing from
	// the permission table (refused) from a URL no route matches (echo's 404/405).
	registered map[string]bool
}

const (
	apiDocsPath      = "/api/docs"
	sessionUserKey   = "uid"
	sessionEpochKey  = "epoch"
	csrfFieldName    = "_csrf"
	csrfHeaderName   = "X-CSRF-Token"
	csrfSecretLen    = 32
	ctxCSRFSecret    = "rosetta.csrf.secret"
	ctxSessionSaved  = "rosetta.session.saved"
	ctxSessionCtx    = "rosetta.session.ctx"
	sessionCookieDev = "rosetta_session"
	csrfCookieDev    = "rosetta_csrf"
)

func (s *Server) setupAccess() {
	o := s.deps.Access.withDefaults(s.deps.Config)
	sm := scs.New()
	// An unchanged session is written back at most once per 1/60 of the idle timeout
	// (a minute for the default hour), not on every page view.
	// Sessions (and their users) read within SESSION_CACHE_TTL are answered from memory.
	sm.Store = s.deps.Auth.NewSessionStore(min(o.SessionIdleTimeout/60, time.Minute))
	sm.IdleTimeout = o.SessionIdleTimeout
	sm.Lifetime = o.SessionLifetime
	// The database holds SHA-256 hashes of session tokens: a leaked backup or a read-only
	// SQL injection yields no usable session.
	sm.HashTokenInStore = true
	sm.Codec = auth.NewSessionCodec()
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Persist = false // a browser-session cookie: closing the browser signs out
	s.access = &accessState{
		sessions:     sm,
		tokenLimit:   newKeyLimiter(o.TokenRate, o.TokenBurst),
		sessionLimit: newKeyLimiter(o.SessionRate, o.SessionBurst),
		badTokens:    newFailureLimiter(o.BadTokenRate, o.BadTokenBurst),
		crossOrig:    http.NewCrossOriginProtection(),
		signKey:      signingKey(s.deps.Config),
	}
}

// sealRoutes records every registered route once routes() has run, and reports routes
// the permission table does not know (the middleware refuses them).
func (s *Server) sealRoutes() {
	s.access.registered = map[string]bool{}
	for _, r := range s.Echo.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		key := r.Method + " " + r.Path
		s.access.registered[key] = true
		if _, ok := permissions[key]; !ok {
			s.deps.Logger.Error("route has no entry in the permission table: it refuses every request", "route", key)
		}
	}
}

// signingKey derives the web layer's HMAC key from SECRET_KEY (a separate key from the
// one that seals credentials, by domain separation). Without SECRET_KEY (tests, a bare
// development server) a random key serves this process: its flashes and forms simply do
// not carry over to another process.
func signingKey(cfg *config.Config) []byte {
	if cfg == nil || cfg.SecretKey == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return b
	}
	m := hmac.New(sha256.New, []byte(cfg.SecretKey))
	m.Write([]byte("rosetta web signing key v1"))
	return m.Sum(nil)
}

// sign is the HMAC of the parts under the signing key; the parts are length-prefixed so
// no two different lists sign alike.
func (s *Server) sign(parts ...string) []byte {
	m := hmac.New(sha256.New, s.access.signKey)
	for _, p := range parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		m.Write(n[:])
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// cookieName uses the __Host- prefix whenever cookies are Secure: browsers then refuse
// the cookie from a sibling subdomain, which is what defeats cookie-tossing attacks on
// the session and the CSRF token.
func (s *Server) cookieName(c echo.Context, base string) string {
	if s.secureCookies(c) {
		return "__Host-" + base
	}
	return base
}

// guard is the access middleware (see the comment at the top of this file).
func (s *Server) guard() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			key := req.Method + " " + c.Path()
			rule, listed := permissions[key]
			unrouted := false
			if !listed {
				if s.access.registered[key] {
					loggerOf(c).Error("route has no entry in the permission table; refused", "route", key)
					return apperr.E(apperr.Forbidden, "this route is not open to anyone")
				}
				// No such route: echo answers 404 or 405. A signed-in browser still gets
				// its navigation on the error page.
				rule, unrouted = Public, true
			}
			if rule == Open {
				return next(c)
			}
			// Pages and API answers are about one principal: never cache them in a
			// shared cache (handlers may still choose otherwise).
			// A fresh slice each time (a handler may Add to it), under the canonical key
			// directly: no canonicalisation per request.
			c.Response().Header()[echo.HeaderCacheControl] = []string{"no-store"}

			ctx := auth.WithRemoteAddr(req.Context(), c.RealIP())
			token, bearer := bearerToken(req)
			var p *auth.Principal
			// tokenAuth: the request carries a verified API token. Only that exempts it
			// from CSRF; a bearer header nobody checked is worth nothing.
			tokenAuth := false
			switch {
			case bearer && unrouted:
				// Only for the error page's navigation: a bad token changes nothing.
				if s.access.badTokens.wait(c.RealIP()) == 0 {
					if pr, err := s.deps.Auth.AuthenticateToken(ctx, token); err == nil {
						p, tokenAuth = &pr, true
					} else if apperr.CodeOf(err) == apperr.Unauthorized {
						s.access.badTokens.fail(c.RealIP())
					}
				}
			case bearer && rule != Public:
				// An address that keeps sending bad tokens is refused before the lookup:
				// guessing tokens must not cost the database a query each.
				if d := s.access.badTokens.wait(c.RealIP()); d > 0 {
					c.Response().Header().Set("Retry-After", retryAfter(d))
					return apperr.E(apperr.RateLimited, "too many requests with invalid API tokens from your address; try again in %s", retryAfter(d)+" s")
				}
				pr, err := s.deps.Auth.AuthenticateToken(ctx, token)
				if err != nil {
					if apperr.CodeOf(err) == apperr.Unauthorized {
						s.access.badTokens.fail(c.RealIP())
						c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="rosetta", error="invalid_token"`)
					}
					return err
				}
				if ok, wait := s.access.tokenLimit.allow(strconv.FormatInt(*pr.TokenID, 10)); !ok {
					c.Response().Header().Set("Retry-After", retryAfter(wait))
					return apperr.E(apperr.RateLimited, "too many requests with this API token; slow down")
				}
				p, tokenAuth = &pr, true
			default:
				// Public routes (sign-in, readiness) do not look at tokens, so that
				// readiness answers during a database outage whoever probes it; they
				// are served as to a browser, session and CSRF included.
				var err error
				ctx, p, err = s.sessionPrincipal(c, ctx, rule)
				if err != nil {
					return err
				}
				// The API through a console session is limited like a token, per user.
				if p != nil && isAPI(c) && rule != Public {
					if ok, wait := s.access.sessionLimit.allow(strconv.FormatInt(p.UserID, 10)); !ok {
						c.Response().Header().Set("Retry-After", retryAfter(wait))
						return apperr.E(apperr.RateLimited, "too many API requests from your session; slow down")
					}
				}
			}
			if p != nil {
				ctx = auth.WithPrincipal(ctx, *p)
			}
			c.SetRequest(req.WithContext(ctx))

			if min := rule.role(); min != "" {
				if p == nil {
					return s.unauthenticated(c)
				}
				if !p.Role.AtLeast(min) {
					return apperr.E(apperr.Forbidden, "this needs the %s role; you are signed in as %s", min, p.Role)
				}
			}
			if !tokenAuth && !unrouted && !isSafeMethod(req.Method) {
				if err := s.checkCSRF(c); err != nil {
					return err
				}
			}
			return next(c)
		}
	}
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get(echo.HeaderAuthorization)
	if h == "" {
		return "", false
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// sessionPrincipal loads the console session and its user. On a public route a session
// that cannot be loaded (database down) leaves the visitor anonymous instead of failing
// the login page.
func (s *Server) sessionPrincipal(c echo.Context, ctx context.Context, rule Access) (context.Context, *auth.Principal, error) {
	sm := s.access.sessions
	var token string
	if ck, err := c.Cookie(s.cookieName(c, sessionCookieDev)); err == nil {
		token = ck.Value
	}
	sctx, err := sm.Load(ctx, token)
	if err != nil {
		if rule != Public {
			return ctx, nil, sessionError(err)
		}
		sctx, _ = sm.Load(ctx, "")
	}
	c.Set(ctxSessionCtx, sctx)
	c.Response().Before(func() { s.saveSession(c, sctx) })
	uid := sm.GetInt64(sctx, sessionUserKey)
	if uid == 0 {
		return sctx, nil, nil
	}
	p, err := s.deps.Auth.SessionPrincipal(sctx, uid, sm.GetInt64(sctx, sessionEpochKey))
	if apperr.CodeOf(err) == apperr.Unauthorized && ctx.Value(freshSessionLoad{}) == nil {
		// The session may have come from this instance's cache, older than the row:
		// read it again before ending it for good.
		return s.sessionPrincipal(c, context.WithValue(auth.FreshSession(ctx), freshSessionLoad{}, true), rule)
	}
	switch {
	case err == nil:
		return sctx, &p, nil
	case apperr.CodeOf(err) == apperr.Unauthorized:
		// the user was disabled (or removed), or their password changed, since signing in
		_ = sm.Destroy(sctx)
		return sctx, nil, nil
	case rule == Public:
		return sctx, nil, nil
	}
	return sctx, nil, err
}

// freshSessionLoad marks the second, uncached load of sessionPrincipal.
type freshSessionLoad struct{}

func sessionError(err error) error { return db.Translate(err, "session") }

// saveSession writes the session back just before the response header goes out: scs's
// own LoadAndSave wraps http.ResponseWriter, which echo's Response bypasses.
func (s *Server) saveSession(c echo.Context, ctx context.Context) {
	if saved, _ := c.Get(ctxSessionSaved).(bool); saved {
		return
	}
	sm := s.access.sessions
	switch sm.Status(ctx) {
	case scs.Modified:
		if err := s.commitSession(c, ctx); err != nil {
			loggerOf(c).Error("save session", "err", err)
		}
	case scs.Destroyed:
		s.writeSessionCookie(c, "", time.Time{})
	}
}

// commitSession stores the session and sets its cookie now (sign-in does this itself,
// so a failure is an error page rather than a silently missing cookie).
func (s *Server) commitSession(c echo.Context, ctx context.Context) error {
	token, expiry, err := s.access.sessions.Commit(ctx)
	if err != nil {
		return sessionError(err)
	}
	s.writeSessionCookie(c, token, expiry)
	c.Set(ctxSessionSaved, true)
	return nil
}

func (s *Server) writeSessionCookie(c echo.Context, token string, expiry time.Time) {
	ck := &http.Cookie{
		Name: s.cookieName(c, sessionCookieDev), Value: token, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(c),
	}
	if token == "" || expiry.IsZero() {
		ck.Value, ck.MaxAge, ck.Expires = "", -1, time.Unix(1, 0)
	}
	c.Response().Header().Add("Set-Cookie", ck.String())
}

// sessionCtx is the request context holding the loaded session (nil when the request
// authenticated with a token or the route is Open).
func sessionCtx(c echo.Context) context.Context {
	ctx, _ := c.Get(ctxSessionCtx).(context.Context)
	return ctx
}

// unauthenticated answers a request without a principal: 401 problem JSON for the API,
// a trip to the login page for the console and the API docs page.
func (s *Server) unauthenticated(c echo.Context) error {
	// /api/docs is a page people open in a browser, under /api/ only by its name.
	// /metrics is read by Prometheus, not a person: a redirect to the sign-in page would
	// reach it as an unparseable body, where 401 says what is missing.
	path := c.Request().URL.Path
	if (isAPI(c) && path != apiDocsPath) || path == metricsPath {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="rosetta"`)
		return apperr.E(apperr.Unauthorized, "sign in first: send Authorization: Bearer <token> (create a token under API tokens)")
	}
	next := "/"
	if c.Request().Method == http.MethodGet {
		next = c.Request().URL.RequestURI()
	} else if ref := c.Request().Referer(); ref != "" {
		if u, err := url.Parse(ref); err == nil && u.Host == c.Request().Host {
			next = u.RequestURI()
		}
	}
	to := "/login"
	if next != "/" {
		to += "?next=" + url.QueryEscape(next)
	}
	if c.Request().Header.Get("HX-Request") != "" {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// ---- CSRF
//
// A random secret lives in an HttpOnly, SameSite=Lax cookie (__Host- prefixed when
// Secure); pages carry it masked with a fresh one-time pad per render (so the token
// differs on every page, which keeps compression side channels like BREACH from
// recovering it). A state-changing request must send a token that unmasks to the
// cookie's secret. The secret is replaced at sign-in and sign-out.

func (s *Server) csrfSecret(c echo.Context) []byte {
	if b, ok := c.Get(ctxCSRFSecret).([]byte); ok {
		return b
	}
	if ck, err := c.Cookie(s.cookieName(c, csrfCookieDev)); err == nil {
		if b, err := base64.RawURLEncoding.DecodeString(ck.Value); err == nil && len(b) == csrfSecretLen {
			c.Set(ctxCSRFSecret, b)
			return b
		}
	}
	return s.rotateCSRF(c)
}

// rotateCSRF issues a new secret (and cookie).
func (s *Server) rotateCSRF(c echo.Context) []byte {
	b := make([]byte, csrfSecretLen)
	_, _ = rand.Read(b)
	c.Set(ctxCSRFSecret, b)
	c.SetCookie(&http.Cookie{
		Name: s.cookieName(c, csrfCookieDev), Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(c),
	})
	return b
}

// csrfToken is the token a console page embeds (hidden _csrf fields and the csrf-token
// meta tag, which htmx requests send back as X-CSRF-Token). Requests authenticated with
// a verified API token get "": they need none.
func (s *Server) csrfToken(c echo.Context) string {
	// Only AuthenticateToken gives a principal a TokenID.
	if p, ok := auth.FromContext(c.Request().Context()); ok && p.TokenID != nil {
		return ""
	}
	secret := s.csrfExpected(c, s.csrfSecret(c))
	pad := make([]byte, csrfSecretLen)
	_, _ = rand.Read(pad)
	out := make([]byte, 2*csrfSecretLen)
	copy(out, pad)
	for i := range secret {
		out[csrfSecretLen+i] = secret[i] ^ pad[i]
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

// csrfExpected ties the token to the session: it is an HMAC of the cookie's secret and
// the session's token (empty before sign-in). Someone who can plant a CSRF cookie in a
// victim's browser (a sibling subdomain, without the __Host- prefix) still cannot make a
// valid token for the victim's session, which they do not know; and a token seen in one
// session is worthless in the next.
func (s *Server) csrfExpected(c echo.Context, secret []byte) []byte {
	var session string
	if sctx := sessionCtx(c); sctx != nil {
		session = s.access.sessions.Token(sctx)
	}
	return s.sign("csrf", string(secret), session)[:csrfSecretLen]
}

var errCSRF = apperr.E(apperr.Forbidden,
	"this form has expired or did not come from Rosetta: reload the page and try again")

func (s *Server) checkCSRF(c echo.Context) error {
	if err := s.access.crossOrig.Check(c.Request()); err != nil {
		return apperr.E(apperr.Forbidden, "cross-origin requests are refused")
	}
	ck, err := c.Cookie(s.cookieName(c, csrfCookieDev))
	if err != nil {
		if s.plainHTTPInProduction(c) {
			// The browser dropped the Secure cookie: no reload can fix that.
			return apperr.E(apperr.Forbidden, "%s", plainHTTPMessage)
		}
		return errCSRF
	}
	secret, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || len(secret) != csrfSecretLen {
		return errCSRF
	}
	sent := c.Request().Header.Get(csrfHeaderName)
	if sent == "" {
		sent = c.FormValue(csrfFieldName)
	}
	raw, err := base64.RawURLEncoding.DecodeString(sent)
	if err != nil || len(raw) != 2*csrfSecretLen {
		return errCSRF
	}
	got := make([]byte, csrfSecretLen)
	for i := range got {
		got[i] = raw[i] ^ raw[csrfSecretLen+i]
	}
	if subtle.ConstantTimeCompare(got, s.csrfExpected(c, secret)) != 1 {
		return errCSRF
	}
	return nil
}

// ---- what console pages need

// principalOf is the request's principal, if any.
func principalOf(c echo.Context) (auth.Principal, bool) {
	return auth.FromContext(c.Request().Context())
}

// userInfo is the signed-in user as the layout shows them (nil when anonymous).
func userInfo(c echo.Context) *layout.UserInfo {
	p, ok := principalOf(c)
	if !ok {
		return nil
	}
	return &layout.UserInfo{Email: p.Email, Role: string(p.Role)}
}

// withAccess fills the layout's access fields: who is signed in and the CSRF token.
func (s *Server) withAccess(c echo.Context, m layout.PageMeta) layout.PageMeta {
	m.User = userInfo(c)
	m.CSRFToken = s.csrfToken(c)
	return m
}
