package web

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
)

// Flash messages survive one redirect (POST → 303 → GET) in a short-lived cookie that
// the next full page reads and clears. The cookie holds only the kind and the text the
// handler wrote, signed (HMAC under the server's signing key) so that nobody else (a
// sibling subdomain, a man in the middle of plain HTTP) can make Rosetta show a message
// in its own voice; an unsigned or altered cookie is dropped. It is HttpOnly,
// SameSite=Lax, and Secure and __Host- prefixed whenever the site is served over TLS or
// runs in production.
const (
	flashCookie    = "rosetta_flash"
	flashMaxAge    = 60  // seconds: long enough for a redirect, short enough to never linger
	flashMaxCount  = 5   // messages kept per cookie
	flashMaxLength = 500 // characters per message; cookies are small
)

type flashEntry struct {
	K string            `json:"k"`
	M string            `json:"m"`
	L []components.Link `json:"l,omitempty"`
}

const pendingFlashKey = "rosetta.flash.pending"

// setFlash queues a message for the next page this browser loads.
func (s *Server) setFlash(c echo.Context, kind, msg string) {
	s.setFlashLinks(c, layout.Flash{Kind: kind, Message: msg})
}

// setFlashLinks queues a message with its links (local URLs only; others are dropped).
func (s *Server) setFlashLinks(c echo.Context, f layout.Flash) {
	pending, _ := c.Get(pendingFlashKey).([]flashEntry)
	if len(pending) >= flashMaxCount {
		return
	}
	pending = append(pending, flashEntry{K: f.Kind, M: truncate(f.Message, flashMaxLength), L: localLinks(f.Links)})
	c.Set(pendingFlashKey, pending)
	raw, err := json.Marshal(pending)
	if err != nil {
		return
	}
	payload := base64.RawURLEncoding.EncodeToString(raw)
	// The cookie holds every message queued so far: it replaces the one an earlier
	// message of this response set, rather than adding a second cookie of one name.
	h := c.Response().Header()
	prefix := s.cookieName(c, flashCookie) + "="
	kept := h.Values(echo.HeaderSetCookie)[:0:0]
	for _, v := range h.Values(echo.HeaderSetCookie) {
		if !strings.HasPrefix(v, prefix) {
			kept = append(kept, v)
		}
	}
	h.Del(echo.HeaderSetCookie)
	for _, v := range kept {
		h.Add(echo.HeaderSetCookie, v)
	}
	s.writeFlashCookie(c, payload+"."+base64.RawURLEncoding.EncodeToString(s.sign("flash", payload)), flashMaxAge)
}

// verifiedFlash returns the payload of a flash cookie whose signature holds.
func (s *Server) verifiedFlash(value string) (string, bool) {
	payload, sig, ok := strings.Cut(value, ".")
	if !ok {
		return "", false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.sign("flash", payload)) {
		return "", false
	}
	return payload, true
}

// popFlashes returns the messages queued for this request and clears them.
func (s *Server) popFlashes(c echo.Context) []layout.Flash {
	ck, err := c.Cookie(s.cookieName(c, flashCookie))
	if err != nil || ck.Value == "" {
		return nil
	}
	s.writeFlashCookie(c, "", -1)
	payload, ok := s.verifiedFlash(ck.Value)
	if !ok {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil
	}
	var entries []flashEntry
	if json.Unmarshal(raw, &entries) != nil {
		return nil
	}
	var out []layout.Flash
	for _, e := range entries {
		if len(out) == flashMaxCount {
			break
		}
		switch e.K {
		case components.FlashSuccess, components.FlashError, components.FlashInfo, components.FlashWarning:
		default:
			continue
		}
		if e.M == "" {
			continue
		}
		out = append(out, layout.Flash{Kind: e.K, Message: truncate(e.M, flashMaxLength), Links: localLinks(e.L)})
	}
	return out
}

func (s *Server) writeFlashCookie(c echo.Context, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name:     s.cookieName(c, flashCookie),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   s.secureCookies(c),
	})
}

// secureCookies: production always (a production console over plain HTTP is a
// misconfiguration the sign-in page points out, never a reason to weaken the cookies),
// any environment when the request came over HTTPS (isHTTPS).
func (s *Server) secureCookies(c echo.Context) bool {
	if s.deps.Config != nil && s.deps.Config.IsProduction() {
		return true
	}
	return s.isHTTPS(c)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// localLinks keeps the links that stay on this site ("/pipelines/3", never
// "//evil.example" or "https://…"), at most flashMaxCount of them.
func localLinks(ls []components.Link) []components.Link {
	var out []components.Link
	for _, l := range ls {
		if len(out) < flashMaxCount && l.Label != "" && localPath(l.URL, "") == l.URL {
			out = append(out, components.Link{Label: truncate(l.Label, 100), URL: l.URL})
		}
	}
	return out
}
