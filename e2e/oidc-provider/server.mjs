// node-oidc-provider on loopback http, for ssokit's browser tests
// (oidcprovider_test.go starts it). TEST ONLY: any login and any password
// sign in, through the library's development login and consent pages.
//
// Environment:
//
//   OP_ISSUER                    the issuer; default http://127.0.0.1:<port>
//   OP_CLIENT_ID                 the one client, which uses private_key_jwt
//   OP_CLIENT_PUBLIC_KEY_FILE    its public key, PEM (SPKI)
//   OP_CLIENT_KEY_ID             its kid
//   OP_REDIRECT_URI              its redirect URI
//   OP_POST_LOGOUT_REDIRECT_URI  its post-logout redirect URI
//
// It listens on a free 127.0.0.1 port and prints
// "listening on http://127.0.0.1:<port> issuer <issuer>".
//
// oidc-provider 8.x, because it supports Node.js 18 and 20 (the machines'
// Node.js is 20, Debian 12's is 18); 9.x warns "Unsupported runtime" below
// Node.js 22. The options used here are the same in 9.x. Both send the
// RFC 9207 iss with every authorization response.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`server.mjs: ${name} is required`);
    process.exit(2);
  }
  return v;
}

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = `http://127.0.0.1:${server.address().port}`;
const issuer = process.env.OP_ISSUER || address;

// The client's public key, registered as its JWKS: the test holds the
// private key and gives it to examples/basic.
const clientKey = {
  ...crypto.createPublicKey(fs.readFileSync(env('OP_CLIENT_PUBLIC_KEY_FILE'))).export({ format: 'jwk' }),
  kid: env('OP_CLIENT_KEY_ID'),
  alg: 'RS256',
  use: 'sig',
};

// The provider's own signing key, new on every start.
const signingKey = {
  ...crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: `op-${crypto.randomBytes(6).toString('hex')}`,
  alg: 'RS256',
  use: 'sig',
};

// Known test people; any other login signs in too, with claims made up
// from it.
const people = {
  ada: { name: 'Ada Lovelace', email: 'ada@example.com' },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: env('OP_CLIENT_ID'),
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    jwks: { keys: [clientKey] },
    redirect_uris: [env('OP_REDIRECT_URI')],
    post_logout_redirect_uris: [env('OP_POST_LOGOUT_REDIRECT_URI')],
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  features: {
    // The library's built-in login and consent pages, meant for development.
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  // Refuse an authorization request without PKCE.
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  async findAccount(ctx, sub) {
    const p = people[sub] || { name: sub, email: `${sub}@example.com` };
    return {
      accountId: sub,
      async claims() {
        return { sub, name: p.name, preferred_username: sub, email: p.email, email_verified: true };
      },
    };
  },
});

// Say why a request failed, for the test's log.
for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error', 'userinfo.error', 'jwks.error', 'discovery.error']) {
  provider.on(event, (ctx, err) => {
    console.error(`${event}: ${err.name}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`);
  });
}
provider.on('grant.success', (ctx) => {
  console.log(`grant.success: client ${ctx.oidc.client?.clientId}`);
});

server.on('request', provider.callback());
console.log(`listening on ${address} issuer ${issuer}`);

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
