package ssoclient_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// New discovers the provider and checks the configuration; mount the
// Handler under the RedirectURL's directory.
func ExampleNew() {
	ctx := context.Background()
	sso, err := ssoclient.New(ctx, ssoclient.Config{
		Issuer:       "https://acme.okta.com", // or a bare domain, or the .well-known URL
		ClientID:     os.Getenv("SSO_CLIENT_ID"),
		ClientSecret: ssoclient.Secret(os.Getenv("SSO_CLIENT_SECRET")),
		RedirectURL:  "https://app.example.com/auth/sso/callback",
	})
	if err != nil {
		log.Fatal(err) // an *ssoclient.Error saying what is wrong
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/sso/", sso.Handler())
	log.Fatal(http.ListenAndServe(":8080", mux))
}

// The whole sign-in, run against the bundled fake provider: what a test of
// an application's login looks like.
func Example_signInAgainstSSOTest() {
	idp, err := ssotest.Start(ssotest.WithLoginUser("alice")) // ssotest.New(t) in a test
	if err != nil {
		log.Fatal(err)
	}
	defer idp.Close()

	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()

	sso, err := ssoclient.New(context.Background(), ssoclient.Config{
		Issuer:       idp.Issuer(),
		ClientID:     ssotest.DefaultClientID,
		ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL:  app.URL + "/auth/sso/callback",
		HTTPClient:   idp.HTTPClient(),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/auth/sso/", sso.Handler())
	mux.Handle("/app/", sso.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := sso.Identity(r)
		fmt.Fprintf(w, "hello %s <%s> at %s", id.Name, id.Email, r.URL.Path)
	})))

	// A browser: a cookie jar, following redirects.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Transport: idp.HTTPClient().Transport}
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/app/reports", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := browser.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 hello Alice Example <alice@example.com> at /app/reports
}

// Handler serves login, callback and logout under its mount path. It also
// works behind http.StripPrefix and on any router that hands it the
// request unchanged.
func ExampleClient_Handler() {
	idp, err := ssotest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer idp.Close()
	sso, err := ssoclient.New(context.Background(), ssoclient.Config{
		Issuer:       idp.Issuer(),
		ClientID:     ssotest.DefaultClientID,
		ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL:  "http://localhost:8080/auth/sso/callback",
		HTTPClient:   idp.HTTPClient(),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/sso/", sso.Handler())

	// GET /auth/sso/login starts a sign-in: a redirect to the provider.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/auth/sso/login?return_to=/reports", nil))
	loc := rec.Header().Get("Location")
	fmt.Println(rec.Code, strings.HasPrefix(loc, idp.Issuer()+"/authorize?"))
	for _, p := range []string{"response_type=code", "code_challenge_method=S256", "nonce=", "state="} {
		fmt.Println(p, strings.Contains(loc, p))
	}
	// Output:
	// 302 true
	// response_type=code true
	// code_challenge_method=S256 true
	// nonce= true
	// state= true
}

// RequireLogin sends browsers that are not signed in to the login, with
// return_to set, and answers API calls with 401.
func ExampleClient_RequireLogin() {
	idp, err := ssotest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer idp.Close()
	sso, err := ssoclient.New(context.Background(), ssoclient.Config{
		Issuer:       idp.Issuer(),
		ClientID:     ssotest.DefaultClientID,
		ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL:  "http://localhost:8080/auth/sso/callback",
		HTTPClient:   idp.HTTPClient(),
	})
	if err != nil {
		log.Fatal(err)
	}
	private := sso.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "only for", sso.Identity(r).Email)
	}))

	page := httptest.NewRequest(http.MethodGet, "/reports?q=1", nil)
	page.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	private.ServeHTTP(rec, page)
	fmt.Println(rec.Code, rec.Header().Get("Location"))

	rec = httptest.NewRecorder()
	private.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/reports", nil))
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	// Output:
	// 302 /auth/sso/login?return_to=%2Freports%3Fq%3D1
	// 401 {"error":"login_required","error_description":"You need to sign in."}
}

// Identity tells who is signed in, or nil; it reads the session cookie,
// so it works in any handler, guarded or not.
func ExampleClient_Identity() {
	var sso *ssoclient.Client // from ssoclient.New
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if id := sso.Identity(r); id != nil {
			fmt.Fprintf(w, "signed in as %s (%s) through %s", id.Name, id.Email, id.Issuer)
			return
		}
		fmt.Fprint(w, `<a href="/auth/sso/login">Sign in with SSO</a>`)
	})
}
