package ssoclient_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// A logout token whose exp is far off is still only accepted while its iat
// is recent: otherwise it outlives its jti's entry in the replay cache and
// can be replayed to end the user's later sessions.
func TestReviewLogoutTokenFarExpReplay(t *testing.T) {
	a, clock := tokenApp(t, nil)
	uri := a.withBackChannel()
	a.browserAs("alice")
	c := a.idp.LogoutTokenClaims(ssotest.DefaultClientID, "alice", "")
	c["exp"] = clock.Now().Add(24 * time.Hour).Unix()
	tok := a.idp.SignLogoutToken(c)
	if st, err := a.idp.SendLogoutToken(context.Background(), uri, tok); err != nil || st != http.StatusOK {
		t.Fatalf("first delivery: %d %v", st, err)
	}
	clock.Add(time.Hour)
	alice := a.browserAs("alice")
	if st, err := a.idp.SendLogoutToken(context.Background(), uri, tok); err != nil || st != http.StatusBadRequest {
		t.Errorf("the same logout token an hour later: %d %v; want 400", st, err)
	}
	if a.who(alice) != "alice" {
		t.Error("a replayed logout token ended a later session")
	}
}

// An old logout token (iat a day ago) with an exp still ahead is refused.
func TestReviewLogoutTokenOldIatWithExp(t *testing.T) {
	a, clock := tokenApp(t, nil)
	uri := a.withBackChannel()
	alice := a.browserAs("alice")
	c := a.idp.LogoutTokenClaims(ssotest.DefaultClientID, "alice", "")
	c["iat"] = clock.Now().Add(-24 * time.Hour).Unix()
	c["exp"] = clock.Now().Add(time.Hour).Unix()
	if st, err := a.idp.SendLogoutToken(context.Background(), uri, a.idp.SignLogoutToken(c)); err != nil || st != http.StatusBadRequest {
		t.Errorf("a day-old logout token: %d %v; want 400", st, err)
	}
	if a.who(alice) != "alice" {
		t.Error("a day-old logout token ended the session")
	}
}
