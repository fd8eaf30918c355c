package claims

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parse reads literal JSON claims, as tokens arrive.
func parse(t testing.TB, s string) Set {
	t.Helper()
	c, err := ParseSet([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMap(t *testing.T) {
	const entra = "https://login.microsoftonline.com/9122040d-6c67-4c5b-b112-36a304b66dad/v2.0"
	tests := []struct {
		name    string
		issuer  string
		claims  string
		mapping Mapping
		trust   EmailTrust
		want    Identity // Claims is not compared
		wantErr error
	}{
		{
			name:   "standard claims",
			issuer: "https://idp.example.com",
			claims: `{"sub":"u1","email":"a@example.com","email_verified":true,"preferred_username":"alice","name":"Alice","picture":"https://p","locale":"en","groups":["g1","g2"]}`,
			want: Identity{Issuer: "https://idp.example.com", Subject: "u1", Email: "a@example.com", EmailVerified: true,
				Username: "alice", Name: "Alice", Picture: "https://p", Locale: "en", Groups: []string{"g1", "g2"}},
		},
		{
			name:   "email_verified as a string",
			claims: `{"sub":"u1","email":"a@example.com","email_verified":"true"}`,
			want:   Identity{Subject: "u1", Email: "a@example.com", EmailVerified: true},
		},
		{
			name:    "email_verified false refuses by default",
			claims:  `{"sub":"u1","email":"a@example.com","email_verified":false}`,
			wantErr: ErrEmailNotVerified,
		},
		{
			name:    "email_verified \"false\" refuses by default",
			claims:  `{"sub":"u1","email":"a@example.com","email_verified":"False"}`,
			wantErr: ErrEmailNotVerified,
		},
		{
			name:   "email_verified absent leaves the email unverified",
			claims: `{"sub":"u1","email":"a@example.com"}`,
			want:   Identity{Subject: "u1", Email: "a@example.com"},
		},
		{
			name:   "email_verified of another type is not a statement",
			claims: `{"sub":"u1","email":"a@example.com","email_verified":1}`,
			want:   Identity{Subject: "u1", Email: "a@example.com"},
		},
		{
			name:   "trust provider",
			claims: `{"sub":"u1","email":"a@example.com","email_verified":false}`,
			trust:  TrustProvider,
			want:   Identity{Subject: "u1", Email: "a@example.com", EmailVerified: true},
		},
		{
			name:   "trust never",
			claims: `{"sub":"u1","email":"a@example.com","email_verified":true}`,
			trust:  TrustNever,
			want:   Identity{Subject: "u1", Email: "a@example.com"},
		},
		{
			name:   "Entra: oid is the subject, the UPN the email",
			issuer: entra,
			claims: `{"sub":"pairwise","oid":"00000000-0000-0000-66f3-3332eca7ea81","tid":"9122040d-6c67-4c5b-b112-36a304b66dad","preferred_username":"carol@contoso.com","name":"Carol"}`,
			want: Identity{Issuer: entra, Subject: "00000000-0000-0000-66f3-3332eca7ea81", Email: "carol@contoso.com",
				Username: "carol@contoso.com", Name: "Carol"},
		},
		{
			name:    "Entra without oid",
			issuer:  entra,
			claims:  `{"sub":"pairwise"}`,
			wantErr: ErrNoSubject,
		},
		{
			name:   "a borrowed username is not verified by email_verified",
			claims: `{"sub":"u1","preferred_username":"x@example.com","email_verified":true}`,
			want:   Identity{Subject: "u1", Email: "x@example.com", Username: "x@example.com"},
		},
		{
			name:   "a username that is not an email is not borrowed",
			claims: `{"sub":"u1","preferred_username":"carol"}`,
			want:   Identity{Subject: "u1", Username: "carol"},
		},
		{
			name:    "no sub",
			claims:  `{"email":"a@example.com"}`,
			wantErr: ErrNoSubject,
		},
		{
			name:    "sub not a string",
			claims:  `{"sub":{"id":1}}`,
			wantErr: ErrNoSubject,
		},
		{
			name:    "sub empty",
			claims:  `{"sub":""}`,
			wantErr: ErrNoSubject,
		},
		{
			name:    "custom mapping with a nested path and a numeric id",
			claims:  `{"sub":"u1","user_id":123456789012,"mail":"m@example.com","mail_ok":true,"realm_access":{"roles":["admin",7,"dev"]},"https://example.com/name":"Namespaced"}`,
			mapping: Mapping{Subject: "user_id", Email: "mail", EmailVerified: "mail_ok", Groups: "realm_access.roles", Name: "https://example.com/name"},
			want:    Identity{Subject: "123456789012", Email: "m@example.com", EmailVerified: true, Name: "Namespaced", Groups: []string{"admin", "dev"}},
		},
		{
			name:   "groups as a single string",
			claims: `{"sub":"u1","groups":"only"}`,
			want:   Identity{Subject: "u1", Groups: []string{"only"}},
		},
		{
			name:   "null claims are absent",
			claims: `{"sub":"u1","email":null,"name":null}`,
			want:   Identity{Subject: "u1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Map(tt.issuer, parse(t, tt.claims), tt.mapping, tt.trust)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Claims.JSON() != tt.claims {
				t.Errorf("Claims = %s, want the claims given", got.Claims.JSON())
			}
			got.Claims = Set{}
			if tt.issuer == "" {
				tt.want.Issuer = ""
			}
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("Identity (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMissing(t *testing.T) {
	m := Mapping{}
	if got := m.Missing(parse(t, `{"sub":"u","email":"e","preferred_username":"p","name":"n"}`)); len(got) != 0 {
		t.Errorf("Missing = %v", got)
	}
	if diff := cmp.Diff([]string{"email", "name"}, m.Missing(parse(t, `{"sub":"u","preferred_username":"p"}`))); diff != "" {
		t.Errorf("Missing (-want +got):\n%s", diff)
	}
}

func TestLooksLikeEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"a@b.co": true, "first.last@sub.example.com": true,
		"": false, "alice": false, "a@b": false, "@b.co": false, "a@b.": false, "a@@b.co": false, "a@b@c.co": false, "a b@c.co": false,
	} {
		if got := LooksLikeEmail(s); got != want {
			t.Errorf("LooksLikeEmail(%q) = %v", s, got)
		}
	}
}

func TestIsEntra(t *testing.T) {
	for s, want := range map[string]bool{
		"https://login.microsoftonline.com/t/v2.0": true,
		"https://sts.windows.net/t/":               true,
		"https://LOGIN.microsoftonline.com/t":      true,
		"https://login.microsoftonline.com.evil/x": false,
		"http://login.microsoftonline.com/t":       false,
		"https://accounts.google.com":              false,
	} {
		if got := IsEntra(s); got != want {
			t.Errorf("IsEntra(%q) = %v", s, got)
		}
	}
}

func TestLogValueHidesPersonalData(t *testing.T) {
	id := &Identity{Issuer: "https://i", Subject: "s", Email: "secret@example.com", Name: "Secret Name"}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("login", "who", id)
	if strings.Contains(b.String(), "secret") || strings.Contains(b.String(), "Secret") || !strings.Contains(b.String(), "who.subject=s") {
		t.Errorf("log line %q", b.String())
	}
}

func FuzzMap(f *testing.F) {
	f.Add(`{"sub":"u1","email":"a@example.com","email_verified":"true","groups":["a"]}`, "")
	f.Add(`{"sub":"u1","a":{"b":{"c":"x"}}}`, "a.b.c")
	f.Add(`{"oid":"o","sub":"s"}`, "oid")
	f.Fuzz(func(t *testing.T, js, subClaim string) {
		c, err := ParseSet([]byte(js))
		if err != nil {
			return // FuzzSet checks what ParseSet refuses
		}
		id, err := Map("https://idp.example.com", c, Mapping{Subject: subClaim, Groups: subClaim}, TrustEmailClaim)
		if err != nil {
			return
		}
		if id.Subject == "" {
			t.Fatalf("accepted an empty subject from %s", js)
		}
		if id.EmailVerified && id.Email == "" {
			t.Fatalf("verified an absent email from %s", js)
		}
		if v, stated := Verified(c, "email_verified"); stated && !v && id.Email != "" && c.Map()["email"] != nil {
			t.Fatalf("accepted email_verified false from %s", js)
		}
	})
}
