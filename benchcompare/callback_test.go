package benchcompare

import (
	"context"
	"errors"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ssokit/ssokit/internal/benchkit"
	"github.com/ssokit/ssokit/internal/randtoken"
)

// goOIDCCallback is the server side of a callback as go-oidc's
// documentation writes it: oauth2.Config.Exchange with the PKCE verifier
// (client_secret_post, the floor's request), the id_token taken from the
// response, IDTokenVerifier.Verify, IDToken.Claims into the identity
// struct, and the nonce compared. The provider comes from discovery, its
// RemoteKeySet warm.
type goOIDCCallback struct {
	ctx      context.Context
	conf     *oauth2.Config
	verifier *oidc.IDTokenVerifier
	pkce     oauth2.AuthCodeOption
}

func newGoOIDCCallback(tb testing.TB, p *benchkit.Provider) *goOIDCCallback {
	tb.Helper()
	ctx := oidc.ClientContext(context.Background(), benchkit.HTTPClient())
	prov, err := oidc.NewProvider(ctx, p.Issuer())
	if err != nil {
		tb.Fatal(err)
	}
	ep := prov.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &goOIDCCallback{
		ctx: ctx,
		conf: &oauth2.Config{
			ClientID: benchkit.ClientID, ClientSecret: benchkit.ClientSecret,
			Endpoint: ep, RedirectURL: benchkit.RedirectURL,
			Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		},
		verifier: prov.VerifierContext(ctx, &oidc.Config{ClientID: benchkit.ClientID}),
		pkce:     oauth2.VerifierOption(randtoken.New(32)),
	}
}

// login runs one callback for the login attempt whose nonce is nonce.
func (c *goOIDCCallback) login(cl *benchkit.IdentityClaims, nonce string) error {
	tok, err := c.conf.Exchange(c.ctx, benchkit.Code, c.pkce)
	if err != nil {
		return err
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return errors.New("go-oidc: no id_token in the token response")
	}
	idt, err := c.verifier.Verify(c.ctx, raw)
	if err != nil {
		return err
	}
	if err := idt.Claims(cl); err != nil {
		return err
	}
	if idt.Nonce != nonce {
		return errors.New("go-oidc: nonce mismatch")
	}
	return nil
}
