// Package jwks verifies compact JWS, the signed ID tokens of OpenID
// Connect, with the public keys of a JSON Web Key Set (RFC 7517 §5): the
// document at a provider's jwks_uri.
//
// The primary type is [KeySet]. [New] makes one for a remote set, which
// it fetches, caches and refreshes; [NewStatic] makes one for a fixed
// document, for tests, offline use or keys given by configuration. Both
// verify with [KeySet.Verify], which returns the payload and the [Header]
// of a token whose signature holds:
//
//	keys, err := jwks.New(jwks.Config{URL: meta.JWKSURI})
//	...
//	payload, hdr, err := keys.Verify(ctx, rawIDToken)
//	if err != nil {
//		return err // errors.Is(err, jwks.ErrFetch): the provider, not the token
//	}
//	var claims struct{ Iss, Sub, Nonce string }
//	err = json.Unmarshal(payload, &claims)
//
// Verify checks the signature only. The claims of an ID token (iss, aud,
// exp, iat, nonce, azp, at_hash; OpenID Connect Core §3.1.3.7) are the
// caller's to check, and so is the header's "typ", which [Header] carries.
//
// # Algorithms
//
// A KeySet verifies only the algorithms of its allow-list,
// [Config.Algorithms]: by default RS256, PS256 and ES256; at most RS256,
// RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 and EdDSA. "none"
// and the HMAC algorithms can never be allowed: the first proves nothing,
// and the second would let anyone who knows the public key sign (the
// "HS256 with the RSA key as secret" attack). PS* requires a salt as long
// as the hash (RFC 7518 §3.5); ES* requires the 2×n-byte r‖s signature of
// RFC 7518 §3.4, not DER.
//
// # Choosing the key
//
// Keys come from the set and nowhere else: the "jwk", "jku", "x5u" and
// "x5c" header parameters, which let a token carry or point to its own
// key, are never read (RFC 8725 §3.10). A token with a "crit" header is
// refused, since this package understands no extension (RFC 7515
// §4.1.11).
//
// The token's "kid" selects the keys with that kid, and of those only the
// keys that fit the token's "alg" are tried: kty RSA for RS* and PS*, kty
// EC on the matching curve for ES* (P-256, P-384, P-521), kty OKP with
// curve Ed25519 for EdDSA; "use", if present, "sig"; "key_ops", if
// present, including "verify"; the key's own "alg", if present, equal to
// the token's. A key without "alg" (Microsoft Entra ID publishes none)
// fits every allowed algorithm of its type. A token without a kid is
// verified only when exactly one key of the set fits its algorithm
// (OpenID Connect Core §10.1); when several fit, it is refused with
// [ErrAmbiguousKey] rather than tried against each, so that which key
// signed is never a guess. A token whose kid is in no key is tried with
// the one key that has no kid, if exactly one such key fits; if that key
// does not verify it, the kid counts as unknown (a refresh, then
// [ErrKeyNotFound]).
//
// # Parsing a set
//
// A set's entries are parsed with jwx's jwk package, and only their
// public half is kept. Entries that cannot serve are skipped and the rest
// of the set is used: unknown key types (a post-quantum "AKP", say),
// symmetric "oct" keys, encryption keys, entries that do not parse, RSA
// keys under 2048 bits or over 8192, and EC points that are not on their
// curve. A document that is not a JSON object with a "keys" array, that
// has more than [Config.MaxKeys] entries, or that leaves no usable key
// ([ErrNoKeys]) is refused whole; a remote set then goes on serving the
// keys it had.
//
// # Fetching and caching
//
// A remote set is fetched lazily, by the first Verify or [KeySet.Refresh],
// never by New, which starts no goroutine. Every fetch is a single flight:
// a thousand concurrent Verify calls on a cold set cost one request. The
// fetch runs on a context that no caller can cancel, bounded by
// [Config.Timeout], [Config.MaxBytes] and a cap on redirects, which may
// not leave https; each caller waits for it only until its own context is
// done. Failures wrap [ErrFetch] and keep their cause, so a timeout
// satisfies errors.Is(err, context.DeadlineExceeded).
//
// Keys are fresh for [Config.TTL]. After that the next Verify starts a
// refresh in the background and is served by the keys it has
// (stale-while-revalidate). A token whose kid the set lacks triggers a
// refresh and a second look; these refreshes draw on a bucket of three
// that refills one per [Config.MinRefreshInterval], so tokens with made-up
// kids cannot make the provider's endpoint a target. When the refresh
// fails, the keys already known still serve.
//
// The keys of each fetch are parsed once into an immutable snapshot that
// Verify reads with one atomic load, and a token is parsed by hand,
// without jwx: verifying an RS256 ID token costs little more than the
// RSA operation itself.
package jwks
