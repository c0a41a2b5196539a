package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/pages/access"
)

// The access pages: sign-in and out, API tokens, users, the audit log. Each change goes
// through internal/auth, which audits it in the same transaction.

// ---- sign-in

func (s *Server) loginPage(c echo.Context) error {
	next := localPath(c.QueryParam("next"), "/")
	if _, ok := principalOf(c); ok {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return s.renderLogin(c, http.StatusOK, access.LoginForm{Next: nextParam(next)})
}

// nextParam keeps "/" out of the form: it is where sign-in goes anyway.
func nextParam(next string) string {
	if next == "/" {
		return ""
	}
	return next
}

func (s *Server) renderLogin(c echo.Context, status int, f access.LoginForm) error {
	if s.plainHTTPInProduction(c) {
		f.PlainHTTP = plainHTTPMessage
	}
	return Render(c, status, access.Login(s.pageMeta(c, "Sign in", ""), f), nil)
}

func (s *Server) loginSubmit(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	next := localPath(c.FormValue("next"), "/")
	form := access.LoginForm{Email: email, Next: nextParam(next)}
	if email == "" || password == "" {
		form.Error = "Enter your email and password."
		return s.renderLogin(c, http.StatusUnprocessableEntity, form)
	}
	ctx := c.Request().Context()
	p, err := s.deps.Auth.Login(ctx, email, password)
	switch {
	case err == nil:
	case apperr.CodeOf(err) == apperr.Invalid:
		ae := apperr.As(err)
		form.Email = ""
		form.Error = sentence("the " + ae.Fields[0].Field + " " + ae.Fields[0].Message)
		return s.renderLogin(c, http.StatusUnprocessableEntity, form)
	case apperr.CodeOf(err) == apperr.Unauthorized:
		form.Error = sentence(apperr.As(err).Message)
		return s.renderLogin(c, http.StatusUnauthorized, form)
	case apperr.CodeOf(err) == apperr.RateLimited:
		if d, ok := auth.RetryAfter(err); ok {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(d.Seconds()+0.999)))
		}
		loggerOf(c).Info("sign-in refused: too many failures", "remote", auth.RemoteAddr(ctx))
		form.Error = sentence(apperr.As(err).Message)
		return s.renderLogin(c, http.StatusTooManyRequests, form)
	default:
		return err
	}
	// A new session token at every sign-in: a token planted in the browser beforehand
	// (session fixation) is worth nothing afterwards. The CSRF secret is replaced too.
	sctx := sessionCtx(c)
	sm := s.access.sessions
	if err := sm.RenewToken(sctx); err != nil {
		return sessionError(err)
	}
	sm.Put(sctx, sessionUserKey, p.UserID)
	sm.Put(sctx, sessionEpochKey, p.SessionEpoch)
	if err := s.commitSession(c, sctx); err != nil {
		return err
	}
	s.rotateCSRF(c)
	return redirect(c, next)
}

func (s *Server) logout(c echo.Context) error {
	if err := s.deps.Auth.Logout(c.Request().Context()); err != nil {
		return err
	}
	if sctx := sessionCtx(c); sctx != nil {
		if err := s.access.sessions.Destroy(sctx); err != nil {
			return sessionError(err)
		}
	}
	s.rotateCSRF(c)
	s.setFlash(c, components.FlashSuccess, "You are signed out.")
	return redirect(c, "/login")
}

// ---- API tokens

func (s *Server) tokensPage(c echo.Context) error {
	return s.renderTokens(c, http.StatusOK, access.TokensPage{Form: access.TokenForm{Expires: "90d"}})
}

func (s *Server) renderTokens(c echo.Context, status int, p access.TokensPage) error {
	ctx := c.Request().Context()
	me, _ := principalOf(c)
	toks, err := s.deps.Auth.ListTokens(ctx, 0)
	if err != nil {
		return err
	}
	p.Tokens, p.ShowOwner, p.Now = toks, me.Role.AtLeast(auth.Admin), time.Now()
	if p.Created != nil {
		// The one response that carries a token must not be stored anywhere.
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	}
	return Render(c, status, access.Tokens(s.pageMeta(c, "API tokens", layout.NavTokens), p), nil)
}

func (s *Server) tokenCreate(c echo.Context) error {
	form := access.TokenForm{Name: c.FormValue("name"), Expires: c.FormValue("expires")}
	tok, err := s.deps.Auth.CreateToken(c.Request().Context(), auth.TokenInput{Name: form.Name, Expires: form.Expires})
	if err != nil {
		if ae := apperr.As(err); ae != nil && ae.Code == apperr.Invalid {
			form.Errors = apperr.Fields(ae.Fields).Map()
			return s.renderTokens(c, http.StatusUnprocessableEntity, access.TokensPage{Form: form})
		}
		return err
	}
	return s.renderTokens(c, http.StatusCreated, access.TokensPage{Created: &tok, Form: access.TokenForm{Expires: form.Expires}})
}

// tokenRevokeConfirm is GET /settings/tokens/:id/revoke: the revoke's confirmation as a
// page. Only a token the user may see (their own; any for an admin) is found.
func (s *Server) tokenRevokeConfirm(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	toks, err := s.deps.Auth.ListTokens(c.Request().Context(), 0)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if t.ID != id {
			continue
		}
		meta := s.pageMeta(c, "Revoke "+t.Name, layout.NavTokens)
		conf := access.RevokeConfirm(t, meta.CSRFToken)
		conf.Open = true
		crumbs := []pages.Crumb{{Label: "API tokens", URL: "/settings/tokens"}, {Label: "Revoke " + t.Name, URL: conf.Action}}
		return Render(c, http.StatusOK, pages.ConfirmPage(meta, crumbs, conf, "/settings/tokens"), nil)
	}
	return echo.ErrNotFound
}

func (s *Server) tokenRevoke(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	t, err := s.deps.Auth.RevokeToken(c.Request().Context(), id)
	if err != nil {
		return err
	}
	s.setFlash(c, components.FlashSuccess, "Token "+quoted(t.Name)+" is revoked: requests with it are refused from now on.")
	return redirect(c, "/settings/tokens")
}

// ---- users (admins)

func (s *Server) usersPage(c echo.Context) error {
	return s.renderUsers(c, http.StatusOK, access.UserForm{Role: string(auth.Viewer)})
}

func (s *Server) renderUsers(c echo.Context, status int, f access.UserForm) error {
	users, err := s.deps.Auth.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	me, _ := principalOf(c)
	p := access.UsersPage{Users: users, Form: f, SelfID: me.UserID}
	return Render(c, status, access.Users(s.pageMeta(c, "Users", layout.NavUsers), p), nil)
}

func (s *Server) userCreate(c echo.Context) error {
	in := auth.UserInput{Email: c.FormValue("email"), Role: c.FormValue("role"), Password: c.FormValue("password")}
	u, err := s.deps.Auth.CreateUser(c.Request().Context(), in)
	if err != nil {
		form := access.UserForm{Email: in.Email, Role: in.Role}
		if fields, msg, status, ok := formErrors(err); ok {
			form.Errors, form.Message = fields, msg
			return s.renderUsers(c, status, form)
		}
		return err
	}
	s.setFlash(c, components.FlashSuccess, u.Email+" can now sign in as "+string(u.Role)+".")
	return redirect(c, "/users")
}

func (s *Server) userSetRole(c echo.Context) error {
	return s.userChange(c, func(id int64) (auth.User, error) {
		return s.deps.Auth.SetRole(c.Request().Context(), id, c.FormValue("role"))
	}, func(u auth.User) string { return u.Email + " is now " + string(u.Role) + "." })
}

func (s *Server) userDisable(c echo.Context) error {
	return s.userChange(c, func(id int64) (auth.User, error) {
		return s.deps.Auth.SetDisabled(c.Request().Context(), id, true)
	}, func(u auth.User) string { return u.Email + " is disabled: their sessions and API tokens stop working." })
}

func (s *Server) userEnable(c echo.Context) error {
	return s.userChange(c, func(id int64) (auth.User, error) {
		return s.deps.Auth.SetDisabled(c.Request().Context(), id, false)
	}, func(u auth.User) string { return u.Email + " is enabled again." })
}

// userResetPassword sets another user's password (admins); every console session of
// that user ends. An admin changes their own under /settings/password, which keeps the
// session they change it from.
func (s *Server) userResetPassword(c echo.Context) error {
	password := c.FormValue("password")
	return s.userChange(c, func(id int64) (auth.User, error) {
		if me, _ := principalOf(c); me.UserID == id {
			return auth.User{}, apperr.E(apperr.Conflict, "change your own password under Your password, which keeps you signed in")
		}
		return s.deps.Auth.UpdateUser(c.Request().Context(), id, auth.UserPatch{Password: &password})
	}, func(u auth.User) string {
		return "The password of " + u.Email + " is reset: they are signed out of every browser (their API tokens keep working)."
	})
}

// ---- your own password

func (s *Server) passwordPage(c echo.Context) error {
	return Render(c, http.StatusOK, access.Password(s.pageMeta(c, "Your password", ""), access.PasswordForm{}), nil)
}

// passwordChange changes the signed-in user's password. Their other sessions end; this
// one is renewed (a new token) and carries the new session epoch, so it stays signed in.
func (s *Server) passwordChange(c echo.Context) error {
	epoch, err := s.deps.Auth.ChangeOwnPassword(c.Request().Context(), c.FormValue("current_password"), c.FormValue("password"))
	if err != nil {
		fields, msg, status, ok := formErrors(err)
		if !ok {
			return err
		}
		return Render(c, status, access.Password(s.pageMeta(c, "Your password", ""), access.PasswordForm{Errors: fields, Message: msg}), nil)
	}
	if sctx := sessionCtx(c); sctx != nil { // nil: an API token acted, there is no session to keep
		sm := s.access.sessions
		if err := sm.RenewToken(sctx); err != nil {
			return sessionError(err)
		}
		sm.Put(sctx, sessionEpochKey, epoch)
		if err := s.commitSession(c, sctx); err != nil {
			return err
		}
	}
	s.setFlash(c, components.FlashSuccess, "Your password is changed: every other browser signed in as you is signed out.")
	return redirect(c, "/settings/tokens")
}

// userChange applies one change to a user and goes back to the list; a refusal the
// admin can act on (the last admin, a bad role) becomes an error flash.
func (s *Server) userChange(c echo.Context, change func(id int64) (auth.User, error), done func(auth.User) string) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, err := change(id)
	switch code := apperr.CodeOf(err); {
	case err == nil:
		s.setFlash(c, components.FlashSuccess, done(u))
	case code == apperr.Conflict || code == apperr.Invalid:
		ae := apperr.As(err)
		msg := ae.Message
		if len(ae.Fields) > 0 {
			msg = ae.Fields[0].Field + " " + ae.Fields[0].Message
		}
		s.setFlash(c, components.FlashError, sentence(msg))
	default:
		return err
	}
	return redirect(c, "/users")
}

// ---- audit log

func (s *Server) auditPage(c echo.Context) error {
	q := c.QueryParams()
	f := access.AuditFilter{EntityKind: q.Get("entity_kind"), EntityID: strings.TrimSpace(q.Get("entity_id")),
		Actor: q.Get("actor"), Action: q.Get("action")}
	filter := audit.Filter{EntityKind: f.EntityKind, Actor: f.Actor, Action: f.Action}
	errs := map[string]string{}
	if f.EntityID != "" {
		n, err := strconv.ParseInt(f.EntityID, 10, 64)
		if err != nil || n < 1 {
			errs["entity_id"] = "must be a positive number"
		}
		filter.EntityID = n
	}
	filter.Limit, _ = strconv.Atoi(q.Get(components.ParamLimit))
	var err error
	if filter.Offset, err = strconv.Atoi(q.Get(components.ParamOffset)); errors.Is(err, strconv.ErrRange) {
		filter.Offset = math.MaxInt // refused below, never cut to another page
	}
	p := access.AuditPage{Filter: f, Errors: errs, BaseURL: c.Request().URL.RequestURI()}
	status := http.StatusOK
	if len(errs) == 0 {
		page, err := s.deps.Audit.List(c.Request().Context(), filter)
		if ae := apperr.As(err); ae != nil && ae.Code == apperr.Invalid {
			p.Errors = apperr.Fields(ae.Fields).Map()
			if p.Errors[components.ParamLimit] != "" || p.Errors[components.ParamOffset] != "" {
				return err // no input shows these: the error page names them
			}
			status = http.StatusUnprocessableEntity
		} else if err != nil {
			return err
		}
		p.Events = page
	} else {
		status = http.StatusUnprocessableEntity
	}
	return Render(c, status, access.Audit(s.pageMeta(c, "Audit log", layout.NavAudit), p), nil)
}
