package benchkit

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// tamper flips one bit in the middle of tok's signature.
func tamper(tok string) string {
	j := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[j+1:])
	if err != nil {
		panic(err)
	}
	sig[len(sig)/2] ^= 0x01
	return tok[:j+1] + base64.RawURLEncoding.EncodeToString(sig)
}

func TestFloorAcceptsTheToken(t *testing.T) {
	const iss = "https://idp.example.test"
	f := NewFloor(iss)
	for _, alg := range Algs {
		tok := Token(alg, iss, time.Now())
		var cl IdentityClaims
		if err := f.Verify(tok, Nonce, &cl.Claims, &cl); err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if cl.Iss != iss || cl.Aud != ClientID || cl.Nonce != Nonce || cl.Email != "abe.lincoln@example.com" || len(cl.Groups) != 10 {
			t.Errorf("%s: claims %+v", alg, cl)
		}
		var payload map[string]any
		part := strings.Split(tok, ".")[1]
		b, _ := base64.RawURLEncoding.DecodeString(part)
		if err := json.Unmarshal(b, &payload); err != nil || len(payload) != 16 {
			t.Errorf("%s: %d claims (%v), want 16", alg, len(payload), err)
		}
	}
}

func TestFloorRejects(t *testing.T) {
	const iss = "https://idp.example.test"
	f := NewFloor(iss)
	now := time.Now()
	with := func(alg string, change func(map[string]any)) string {
		cl := TokenClaims(iss, now)
		change(cl)
		return Sign(alg, cl)
	}
	for _, alg := range Algs {
		cases := []struct {
			name, tok, nonce string
		}{
			{"tampered signature", tamper(Token(alg, iss, now)), Nonce},
			{"tampered payload", func() string {
				tok := Token(alg, iss, now)
				other := with(alg, func(c map[string]any) { c["email"] = "mallory@example.com" })
				p := strings.Split(other, ".")[1]
				parts := strings.Split(tok, ".")
				return parts[0] + "." + p + "." + parts[2]
			}(), Nonce},
			{"wrong iss", with(alg, func(c map[string]any) { c["iss"] = "https://evil.example.test" }), Nonce},
			{"wrong aud", with(alg, func(c map[string]any) { c["aud"] = "someone-else" }), Nonce},
			{"expired", with(alg, func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }), Nonce},
			{"wrong nonce", Token(alg, iss, now), "another-nonce"},
			{"no nonce", with(alg, func(c map[string]any) { delete(c, "nonce") }), Nonce},
			{"malformed", "a.b", Nonce},
		}
		for _, c := range cases {
			var cl Claims
			if err := f.Verify(c.tok, c.nonce, &cl, &cl); err == nil {
				t.Errorf("%s %s: accepted", alg, c.name)
			}
		}
	}
}

func TestFloorCallback(t *testing.T) {
	p := NewProvider(t)
	hc := HTTPClient()
	cb := NewFloorCallback(p, hc)
	var cl IdentityClaims
	if err := cb.Login(&cl); err == nil {
		t.Fatal("a login succeeded before the provider had a token")
	}
	p.SetToken(Token("RS256", p.Issuer(), time.Now()))
	for range 3 {
		cl = IdentityClaims{}
		if err := cb.Login(&cl); err != nil {
			t.Fatal(err)
		}
	}
	if cl.Name != "Abe Lincoln" || len(cl.Groups) != 10 || !cl.EmailVerified {
		t.Errorf("identity claims %+v", cl)
	}
	if n := p.Conns(); n != 1 {
		t.Errorf("%d connections for 4 sequential token requests, want 1", n)
	}
	p.SetToken(Token("RS256", "https://evil.example.test", time.Now()))
	if err := cb.Login(&cl); err == nil {
		t.Error("a token from another issuer was accepted")
	}

	// Discovery and JWKS are served.
	for _, path := range []string{"/.well-known/openid-configuration", "/jwks"} {
		resp, err := hc.Get(p.Issuer() + path)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, err)
		}
		if path == "/jwks" && len(doc["keys"].([]any)) != 2 {
			t.Errorf("jwks: %v", doc)
		}
		if path != "/jwks" && doc["issuer"] != p.Issuer() {
			t.Errorf("discovery issuer %v", doc["issuer"])
		}
	}
}
