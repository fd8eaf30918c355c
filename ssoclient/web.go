package ssoclient

import (
	"context"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/ssokit/ssokit/internal/randtoken"
)

// sessionCookie names and writes the session cookie.
type sessionCookie struct {
	name   string
	secure bool
}

func newSessionCookie(secure bool) sessionCookie {
	if secure {
		return sessionCookie{name: "__Host-ssokit-session", secure: true}
	}
	return sessionCookie{name: "ssokit-session"}
}

func (sc sessionCookie) set(w http.ResponseWriter, s *Session) {
	http.SetCookie(w, &http.Cookie{
		Name: sc.name, Value: s.ID, Path: "/", Expires: s.ExpiresAt,
		HttpOnly: true, Secure: sc.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (sc sessionCookie) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: sc.name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: sc.secure, SameSite: http.SameSiteLaxMode,
	})
}

// ctxKey carries RequireLogin's session in a request's context. It holds
// the Client, so two Clients in one application never read each other's.
type ctxKey struct{ c *Client }

// sessionContext is RequireLogin's context: the request's, with the
// session under ctxKey{c}. One allocation, where context.WithValue takes
// two.
type sessionContext struct {
	context.Context
	c *Client
	s *Session
}

func (sc *sessionContext) Value(key any) any {
	if k, ok := key.(ctxKey); ok && k.c == sc.c {
		return sc.s
	}
	return sc.Context.Value(key)
}

// cookieValue is r.Cookie(name).Value without parsing every cookie into
// an *http.Cookie: the first cookie of that name, unquoted, as net/http
// picks it. It is on the path of every signed-in request.
func cookieValue(r *http.Request, name string) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || k != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}

// Session returns the request's session, or nil when it has none. A
// session that RequireLogin already found is not looked up again.
func (c *Client) Session(r *http.Request) *Session {
	if s, ok := r.Context().Value(ctxKey{c}).(*Session); ok {
		return s
	}
	id, ok := cookieValue(r, c.session.name)
	if !ok || id == "" || len(id) > 128 {
		return nil
	}
	s, err := c.sessions.Load(r.Context(), id)
	if err != nil || s == nil || s.Identity == nil {
		return nil
	}
	// A store that keeps sessions past their end (or a clock it does not
	// share) does not extend them.
	if !s.ExpiresAt.IsZero() && !c.cfg.Now().Before(s.ExpiresAt) {
		return nil
	}
	return s
}

// EndSessions ends every session f selects and returns how many were
// active: "sign out everywhere" (SessionFilter{UserID: id}), an offboarded
// employee, every session of a person at a provider. The browsers are
// signed out at their next request. An empty filter is refused
// (ErrEmptyFilter), never "everyone".
func (c *Client) EndSessions(ctx context.Context, f SessionFilter) (int, error) {
	if !f.Valid() {
		return 0, ErrEmptyFilter
	}
	n, err := c.sessions.DeleteMatching(ctx, f)
	if err != nil {
		return n, newError(CodeProviderUnavailable, "the session store failed", err)
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "sso: sessions ended", slog.String("profile", f.Profile), slog.String("user", f.UserID), slog.Int("sessions_ended", n))
	return n, nil
}

// Identity returns the signed-in person, or nil.
func (c *Client) Identity(r *http.Request) *Identity {
	if s := c.Session(r); s != nil {
		return s.Identity
	}
	return nil
}

// RequireLogin lets signed-in requests through to h, with the session in
// their context for Identity. Others get a redirect to sign in (browsers
// asking for a page: GET or HEAD accepting text/html) with return_to set
// to where they were going, or 401 with a JSON error (API calls).
func (c *Client) RequireLogin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := c.Session(r); s != nil {
			h.ServeHTTP(w, r.WithContext(&sessionContext{Context: r.Context(), c: c, s: s}))
			return
		}
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, c.loginURL(r.URL.RequestURI()), http.StatusFound)
			return
		}
		w.Header().Set("WWW-Authenticate", `OIDC realm="`+c.cfg.mount+`/login"`)
		writeJSONError(w, newError(CodeLoginRequired, "", nil))
	})
}

// sameOrigin checks a state-changing request's Origin (or, without one, its
// Referer) against the application's origins: login CSRF's cousin, a
// cross-site form that signs people out.
func (c *Client) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		ref, err := url.Parse(r.Header.Get("Referer"))
		if err != nil || ref.Host == "" {
			return false
		}
		origin = ref.Scheme + "://" + ref.Host
	}
	if strings.EqualFold(origin, c.cfg.origin) {
		return true
	}
	for _, o := range c.cfg.AllowedOrigins {
		if strings.EqualFold(origin, strings.TrimSuffix(o, "/")) {
			return true
		}
	}
	return false
}

// logout ends the session and sends the browser to the provider's
// end_session_endpoint (OpenID Connect RP-Initiated Logout 1.0), or to
// PostLogoutRedirectURL when the provider has none.
func (c *Client) logout(w http.ResponseWriter, r *http.Request) {
	if !c.sameOrigin(r) {
		c.refuse(w, r, "sso: sign-out refused", newError(CodeOriginInvalid, "logout was posted from another origin", nil))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s := c.Session(r)
	if ck, err := r.Cookie(c.session.name); err == nil {
		_ = c.sessions.Delete(r.Context(), ck.Value)
	}
	c.session.clear(w)
	target := c.cfg.postLogoutIn
	var p *provider
	if s != nil {
		// A disabled or deleted profile signs out locally only.
		p, _ = c.provider(r.Context(), s.Profile)
	} else {
		p = c.prov
	}
	if p != nil && p.endpoints.EndSession != "" {
		params := url.Values{
			"client_id":                {p.conn.clientID},
			"post_logout_redirect_uri": {c.cfg.postLogout},
			// DESIGN.md's flow and OIDF's RP-initiated logout tests expect
			// a state; it is random, so it tells the provider nothing.
			"state": {randtoken.New(16)},
		}
		if s != nil {
			if hint := s.IDToken(); hint != "" {
				params.Set("id_token_hint", hint)
			}
		}
		target = addQuery(p.endpoints.EndSession, params)
	}
	if s != nil {
		c.log.LogAttrs(r.Context(), slog.LevelInfo, "sso: signed out", slog.Any("identity", s.Identity))
	}
	redirect(w, target, http.StatusSeeOther)
}

var logoutPage = template.Must(template.New("logout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign out</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">
<h1>Sign out</h1>
<form method="post" action="{{.}}"><button type="submit">Sign out</button></form>
</body></html>`))

// logoutPage serves a sign-out button, so a plain link to the logout URL
// works without making GET a way to sign someone out.
func (c *Client) logoutPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = logoutPage.Execute(w, c.cfg.mount+"/logout")
}

// redirect answers with a redirect to target, an absolute URL or a local
// path already checked, and no body: http.Redirect's body would repeat the
// URL, with its state, nonce or id_token_hint, where no protocol needs it.
func redirect(w http.ResponseWriter, target string, code int) {
	w.Header().Set("Location", target)
	w.WriteHeader(code)
}

// addQuery adds params to an endpoint URL, keeping its own query.
func addQuery(endpoint string, params url.Values) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{if eq .Code "origin_invalid"}}Request refused{{else}}Sign-in failed{{end}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222">
<h1>{{if eq .Code "origin_invalid"}}Request refused{{else}}Sign-in failed{{end}}</h1>
<p>{{.Message}}</p>
<p style="color:#666">Error code: <code>{{.Code}}</code></p>
</body></html>`))

// WriteError writes err as the default error response: JSON
// {"error": code, "error_description": message} when the request prefers
// JSON, else a small HTML page; both with err.Status. It is what a Client
// does without an ErrorHandler, for handlers that want to fall back to it.
func WriteError(w http.ResponseWriter, r *http.Request, err *Error) {
	w.Header().Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		writeJSONError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(err.Status)
	_ = errorPage.Execute(w, err)
}

func writeJSONError(w http.ResponseWriter, err *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(err.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": string(err.Code), "error_description": err.Message})
}

// wantsJSON reports whether the request prefers JSON to HTML.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	j := strings.Index(accept, "application/json")
	h := strings.Index(accept, "text/html")
	return j >= 0 && (h < 0 || j < h)
}
