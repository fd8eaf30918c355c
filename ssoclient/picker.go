package ssoclient

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// pickerOption is one profile's button.
type pickerOption struct {
	ID, Label, Vendor, LogoURL, Href string
}

var pickerPage = template.Must(template.New("picker").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222">
<h1>Sign in</h1>
{{range .Options}}<p><a href="{{.Href}}" style="display:block;padding:.7rem 1rem;border:1px solid #bbb;border-radius:.4rem;text-decoration:none;color:inherit">
{{if .LogoURL}}<img src="{{.LogoURL}}" alt="" style="height:1.2rem;vertical-align:middle;margin-right:.5rem">{{end}}<strong>{{.Label}}</strong> <small style="color:#666">{{.Vendor}}</small></a></p>
{{end}}
<form method="get" action="{{.Action}}">
<label>Work email <input type="email" name="email" value="{{.Email}}" autocomplete="email" required></label>
{{if .App}}<input type="hidden" name="app" value="{{.App}}">{{end}}
{{if .ReturnTo}}<input type="hidden" name="return_to" value="{{.ReturnTo}}">{{end}}
<button type="submit">Continue</button>
</form>
</body></html>`))

// pick serves a Client with profiles when no profile was named: with an
// email, home-realm discovery (the profiles whose verified domains match;
// straight to the provider when exactly one does); otherwise the picker of
// enabled profiles (of one organisation with ?org=).
func (c *Client) pick(w http.ResponseWriter, r *http.Request, q url.Values) {
	ctx := r.Context()
	all, err := c.profiles.store.List(ctx)
	if err != nil {
		c.fail(w, r, newError(CodeProviderUnavailable, "the profile store failed", err))
		return
	}
	ret := returnTo(q.Get("return_to"))
	// A broker sign-in (checked by brokerLogin) carries its app and the
	// app's absolute return URL through the picker unchanged.
	app := ""
	if c.broker != nil && q.Has("app") {
		app, ret = q.Get("app"), q.Get("return_to")
	}
	email := strings.TrimSpace(q.Get("email"))
	if email == "" {
		email = strings.TrimSpace(q.Get("login_hint"))
	}
	org := q.Get("org")
	var domain string
	if email != "" {
		at := strings.LastIndexByte(email, '@')
		if at <= 0 || at == len(email)-1 || len(email) > 256 {
			c.fail(w, r, newError(CodeInvalidRequest, "the email address is not one", nil))
			return
		}
		domain = strings.ToLower(email[at+1:])
	}
	var opts []pickerOption
	var only string
	for _, sp := range all {
		if !sp.Enabled || (org != "" && sp.Organization != org) || (domain != "" && !slices.Contains(sp.Domains, domain)) {
			continue
		}
		v := url.Values{"profile": {sp.ID}}
		if app != "" {
			v.Set("app", app)
		}
		if ret != "/" {
			v.Set("return_to", ret)
		}
		if email != "" {
			v.Set("login_hint", email)
		}
		label := sp.ButtonText
		if label == "" {
			label = "Sign in with " + sp.DisplayName
		}
		opts = append(opts, pickerOption{ID: sp.ID, Label: label, Vendor: sp.Vendor.Name(), LogoURL: sp.LogoURL, Href: c.cfg.mount + "/login?" + v.Encode()})
		only = opts[0].Href
	}
	if domain != "" && len(opts) == 1 {
		w.Header().Set("Cache-Control", "no-store")
		redirect(w, only, http.StatusFound)
		return
	}
	if domain != "" && len(opts) == 0 {
		c.fail(w, r, newError(CodeProfileNotFound, "no enabled profile for the email's domain", nil))
		return
	}
	hidden := ""
	if ret != "/" {
		hidden = ret
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = pickerPage.Execute(w, map[string]any{
		"Options": opts, "Email": email, "ReturnTo": hidden, "App": app,
		"Action": c.cfg.mount + "/login",
	})
}
