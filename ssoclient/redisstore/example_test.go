package redisstore_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/redis/go-redis/v9"
	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/redisstore"
)

// Every replica of an application runs the same code: the same cookie
// key, one Redis for sessions, replay claims and broker tickets. It needs
// a Redis server, so it has no output to check.
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR")})
	defer rdb.Close()
	opts := &redisstore.Options{Prefix: "myapp"} // "{myapp}" on Redis Cluster

	sso, err := ssoclient.New(ctx, ssoclient.Config{
		Issuer:       "https://acme.okta.com",
		ClientID:     os.Getenv("SSO_CLIENT_ID"),
		ClientSecret: ssoclient.Secret(os.Getenv("SSO_CLIENT_SECRET")),
		RedirectURL:  "https://app.example.com/auth/sso/callback",
		// The same key on every replica: a sign-in started on one
		// finishes on any other.
		CookieKeys: []ssoclient.Secret{ssoclient.Secret(os.Getenv("SSO_COOKIE_KEY"))},
		Sessions:   redisstore.NewSessionStore(rdb, opts),
		Replay:     redisstore.NewReplayCache(rdb, opts),
		// A broker's tickets too:
		//   Broker: &ssoclient.Broker{Apps: apps, Tickets: redisstore.NewTicketStore(rdb, opts)},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/sso/", sso.Handler())
	log.Fatal(http.ListenAndServe(":8080", mux))
}

// Signing a user out everywhere: every replica stops seeing the sessions
// at once.
func ExampleSessionStore_DeleteMatching() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR")})
	defer rdb.Close()
	sessions := redisstore.NewSessionStore(rdb, &redisstore.Options{Prefix: "myapp"})

	n, err := sessions.DeleteMatching(ctx, ssoclient.SessionFilter{UserID: "user-42"})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("signed out of %d sessions", n)
}
