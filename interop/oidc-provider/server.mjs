// An OpenID-certified OAuth 2.0 / OIDC server (panva/oidc-provider) on 127.0.0.1, for whisk's
// interop tests. Usage: node server.mjs [PORT]   (0 or nothing: a free port)
//
// It prints one line, `listening on http://127.0.0.1:PORT`, once it accepts requests. Clients:
//   whisk-cc      confidential, client_secret_basic, grant client_credentials
//   whisk-code    confidential, client_secret_post, grants authorization_code + refresh_token,
//                 PKCE required, loopback redirect URI (any port, RFC 8252 §7.3)
//   whisk-pkjwt   private_key_jwt (RFC 7523 §2.2; RS256, PS256 or ES256), grant
//                 client_credentials, scope api:read; its jwks holds the public halves of an
//                 RSA 2048 key (kid `whisk-rsa`) and an EC P-256 key (kid `whisk-ec`)
//   whisk-csjwt   client_secret_jwt (HS256 keyed with its secret), grant client_credentials,
//                 scope api:read
//   whisk-bearer  confidential, client_secret_basic (client_secret_post works too), grant
//                 urn:ietf:params:oauth:grant-type:jwt-bearer (RFC 7523 §2.1, a handler of
//                 this file's own, see jwtBearerGrant), scope api:read
//   whisk-device  public (token_endpoint_auth_method none), grants
//                 urn:ietf:params:oauth:grant-type:device_code (RFC 8628) + refresh_token,
//                 scopes openid offline_access api:read
// Access tokens live 4 s so that tests see them expire; refresh tokens rotate on every use.
// `GET /api/whoami` is a small resource server: it answers 200 with the token's subject or
// client for a valid opaque access token, and 401 with `error="invalid_token"` otherwise.
//
// Keys. At every start the server makes a fresh RSA 2048 and EC P-256 key pair (nothing is
// committed). If WHISK_INTEROP_KEYS names a directory (created if missing), the PRIVATE keys
// are written there, PKCS#8 PEM, mode 0600, before the `listening on` line:
//   $WHISK_INTEROP_KEYS/rsa.pem   kid whisk-rsa: whisk-pkjwt's RS256/PS256 key, and the key
//                                 that signs jwt-bearer assertions
//   $WHISK_INTEROP_KEYS/ec.pem    kid whisk-ec: whisk-pkjwt's ES256 key
//
// JWT client authentication (private_key_jwt, client_secret_jwt): oidc-provider accepts as
// `aud` the issuer (http://127.0.0.1:PORT, no trailing slash) or the token endpoint URL
// (http://127.0.0.1:PORT/token), or an array holding one of them; it needs iss = sub =
// client_id, exp (up to 15 s past is still taken: oidc-provider's clockTolerance), and a jti
// it has not seen before. A `client_id` form parameter is optional; when sent it must equal
// the assertion's sub, or 400 {"error":"invalid_request","error_description":"client_id
// mismatch"}; without client_assertion_type=urn:ietf:params:oauth:client-assertion-type:
// jwt-bearer, 400 invalid_request. Every other failure (signature, alg, kid, aud, iss, exp,
// reused or missing jti) answers 401
// {"error":"invalid_client","error_description":"client authentication failed"}.
//
// JWT bearer grant (POST /token, HTTP Basic whisk-bearer:secret):
//   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer, assertion=JWS, optional
//   scope (subset of api:read; default api:read), optional resource (only urn:whisk:api).
//   The assertion: RS256 with the whisk-rsa key (header kid absent or `whisk-rsa`), iss
//   `whisk-bearer-issuer`, sub = the user, aud = the issuer or the token endpoint URL, exp in
//   the future (no clock tolerance), nbf if any not in the future, jti optional but
//   single-use when present. Success: 200 {access_token, token_type: "Bearer", expires_in:
//   4, scope: "api:read"}, a token for urn:whisk:api whose sub is the assertion's. A bad
//   assertion: 400 {"error":"invalid_grant","error_description":"the assertion ..."}.
//
// Device authorization grant (RFC 8628). oidc-provider itself neither announces `interval`
// nor ever answers `slow_down`; devicePolling below adds both: /device/auth answers
// `interval: 1`, and a poll of a still-pending device code less than `interval` seconds after
// the previous poll of that code answers 400 {"error":"slow_down",...} and raises that code's
// interval by 5 s (RFC 8628 §3.5). Approving a device code without a browser, over plain
// HTTP, following no redirects by itself, sending back every cookie it was set (by name,
// to every path, as tests/e2e/interop.rs's Jar does):
//   1. POST /device/auth  client_id=whisk-device, scope=openid offline_access api:read,
//      resource=urn:whisk:api  ->  200 {device_code, user_code: "XXXX-XXXX" (letters
//      BCDFGHJKLMNPQRSTVWXZ), verification_uri: ISSUER/device, verification_uri_complete:
//      ISSUER/device?user_code=XXXX-XXXX, expires_in: 600, interval: 1}
//   2. GET ISSUER/device  ->  200 HTML, sets _session(.sig); <form id="op.deviceInputForm"
//      method="post" action="ISSUER/device"> with <input type="hidden" name="xsrf"
//      value="HEX"/> and a text input name="user_code". (GET verification_uri_complete
//      instead: 200 "Submitting Callback", a form to ISSUER/device with hidden xsrf and
//      user_code already filled in; post it as it is, as in 3.)
//   3. POST ISSUER/device  xsrf=HEX, user_code=XXXX-XXXX (case, dash, spaces don't matter)
//      ->  200 "Device Login Confirmation", <form id="op.deviceConfirmForm"
//      action="ISSUER/device"> with hidden xsrf (the same), user_code, confirm=yes. (A wrong
//      code: 200, the input form again, "The code you entered is incorrect"; a wrong xsrf:
//      400 "There was an error processing your request"; no _session cookie: a plain-text
//      500, oidc-provider's own doing.)
//   4. POST ISSUER/device  xsrf, user_code, confirm=yes  ->  303 Location: /interaction/UID1
//      (relative), sets _interaction, _interaction_resume (and .sig). (abort=yes instead of
//      confirm=yes: 200 "The Sign-in request was interrupted"; the device is denied.)
//   5. GET /interaction/UID1  ->  200 login page, <form action="ISSUER/interaction/UID1">
//      with hidden prompt=login; POST there prompt=login, login=dana, password=anything
//      ->  303 Location: ISSUER/device/UID1
//   6. GET ISSUER/device/UID1  ->  303 Location: /interaction/UID2
//   7. GET /interaction/UID2  ->  200 consent page, hidden prompt=consent; POST there
//      prompt=consent  ->  303 Location: ISSUER/device/UID2
//   8. GET ISSUER/device/UID2  ->  200 "<h1>Sign-in Success</h1>": approved.
// Steps 5-8 are what sign_in_and_consent in tests/e2e/interop.rs does; 2-4 need every input
// of the page's form posted back (xsrf, user_code, confirm) plus the user code typed in.
// The token endpoint (POST /token grant_type=urn:ietf:params:oauth:grant-type:device_code,
// device_code, client_id=whisk-device, resource=urn:whisk:api) answers, all 400 but success:
//   not yet approved          {"error":"authorization_pending","error_description":
//                             "authorization request is still pending as the end-user
//                             hasn't yet completed the user interaction steps"}
//   too early (see above)     {"error":"slow_down","error_description":"polling too
//                             quickly, wait 6 seconds between polls"}
//   approved                  200 {access_token, expires_in: 4, id_token, refresh_token,
//                             scope: "api:read", token_type: "Bearer"}, an urn:whisk:api token
//   user aborted              {"error":"access_denied","error_description":"End-User aborted
//                             interaction"}
//   used again, or unknown    {"error":"invalid_grant","error_description":"grant request is
//                             invalid"}; reuse also revokes the grant and its refresh token
// `resource` must be in both /device/auth and /token for a token with aud urn:whisk:api
// (only in /token: invalid_target); with it in neither, the token is for the userinfo
// endpoint (/me), aud none, scope "openid offline_access api:read". /api/whoami takes both.
// A refresh (grant_type=refresh_token, client_id=whisk-device, resource=urn:whisk:api)
// gives an urn:whisk:api token again.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

export const CLIENTS = {
  cc: { id: 'whisk-cc', secret: 'whisk-cc-secret-7f3a9c1e5b' },
  code: { id: 'whisk-code', secret: 'whisk-code-secret-2d8e6b4f0a' },
  pkjwt: { id: 'whisk-pkjwt' },
  csjwt: { id: 'whisk-csjwt', secret: 'whisk-csjwt-secret-0123456789abcdef0123' },
  bearer: { id: 'whisk-bearer', secret: 'whisk-bearer-secret-3e9b7d1f5a' },
  device: { id: 'whisk-device' },
};
export const API_RESOURCE = 'urn:whisk:api';
export const ACCESS_TOKEN_TTL = 4;
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const BEARER_ISSUER = 'whisk-bearer-issuer';
export const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
export const DEVICE_POLL_INTERVAL = 1;
export const KIDS = { rsa: 'whisk-rsa', ec: 'whisk-ec' };

/// Fresh key pairs, never stored but for the private halves in WHISK_INTEROP_KEYS.
function makeKeys() {
  return {
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  };
}

function publicJwk(pair, kid) {
  return { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig' };
}

/// The private keys as PKCS#8 PEM files `rsa.pem` and `ec.pem`, mode 0600, in `dir`.
function writePrivateKeys(dir, keys) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [name, pair] of Object.entries(keys)) {
    const file = path.join(dir, `${name}.pem`);
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
      flag: 'wx',
    });
    fs.chmodSync(file, 0o600);
  }
}

function configuration(keys) {
  return {
    clients: [
      {
        client_id: CLIENTS.cc.id,
        client_secret: CLIENTS.cc.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'api:read',
      },
      {
        client_id: CLIENTS.code.id,
        client_secret: CLIENTS.code.secret,
        application_type: 'native',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1:8765/callback'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: CLIENTS.pkjwt.id,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'private_key_jwt',
        // No token_endpoint_auth_signing_alg: any of RS256, PS256, ES256 (and EdDSA, for
        // which there is no key here) is accepted.
        jwks: { keys: [publicJwk(keys.rsa, KIDS.rsa), publicJwk(keys.ec, KIDS.ec)] },
        scope: 'api:read',
      },
      {
        client_id: CLIENTS.csjwt.id,
        client_secret: CLIENTS.csjwt.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_jwt',
        scope: 'api:read',
      },
      {
        client_id: CLIENTS.bearer.id,
        client_secret: CLIENTS.bearer.secret,
        grant_types: [JWT_BEARER],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'api:read',
      },
      {
        client_id: CLIENTS.device.id,
        grant_types: [DEVICE_CODE, 'refresh_token'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'none',
        scope: 'openid offline_access api:read',
      },
    ],
    scopes: ['openid', 'offline_access', 'api:read'],
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Only a request that names `resource` gets a token for the API resource server;
        // without one, tokens are for the userinfo endpoint, as OpenID Connect has them.
        defaultResource: (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== API_RESOURCE) {
            throw new errors.InvalidTarget(`unknown resource ${resource}`);
          }
          return apiResourceServerInfo();
        },
      },
    },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    issueRefreshToken: (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL,
      ClientCredentials: ACCESS_TOKEN_TTL,
      AuthorizationCode: 60,
      DeviceCode: 600,
      RefreshToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      IdToken: 3600,
    },
    // Any login works (devInteractions); the account has just a subject.
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub }),
    }),
    cookies: { keys: ['whisk-interop-cookie-key'] },
  };
}

function apiResourceServerInfo() {
  return {
    scope: 'api:read',
    audience: API_RESOURCE,
    accessTokenTTL: ACCESS_TOKEN_TTL,
    accessTokenFormat: 'opaque',
  };
}

function invalidGrant(description) {
  return new errors.CustomOIDCProviderError('invalid_grant', description);
}

/// Why jose refused an assertion, in words an RFC 6749 error_description may hold (no `"`).
function assertionProblem(err) {
  switch (err?.code) {
    case 'ERR_JWT_EXPIRED':
      return 'the assertion has expired (exp)';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'the assertion signature does not verify with the whisk-rsa key';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'the assertion must be signed with RS256';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return err.reason === 'missing'
        ? `the assertion has no ${err.claim} claim`
        : `the assertion ${err.claim} claim is not acceptable`;
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'the assertion is not a well-formed signed JWT';
    default:
      return 'the assertion is not valid';
  }
}

/// The JWT bearer grant (RFC 7523 §2.1): an RS256 assertion from `whisk-bearer-issuer`,
/// signed with the whisk-rsa key, buys an access token for the API resource whose subject is
/// the assertion's `sub`. oidc-provider has authenticated the client before this runs.
function jwtBearerGrant(provider, rsaPublicKey) {
  return async (ctx) => {
    const { params, client } = ctx.oidc;
    const assertion = params.assertion;
    if (!assertion) {
      throw new errors.InvalidRequest('missing required parameter assertion');
    }
    let header;
    try {
      header = jose.decodeProtectedHeader(assertion);
    } catch {
      throw invalidGrant('the assertion is not a well-formed signed JWT');
    }
    if (header.kid !== undefined && header.kid !== KIDS.rsa) {
      throw invalidGrant(`the assertion must be signed with the ${KIDS.rsa} key`);
    }
    let payload;
    try {
      ({ payload } = await jose.jwtVerify(assertion, rsaPublicKey, {
        algorithms: ['RS256'],
        issuer: BEARER_ISSUER,
        audience: [provider.issuer, provider.urlFor('token')],
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      throw invalidGrant(assertionProblem(err));
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw invalidGrant('the assertion sub claim is not acceptable');
    }
    if (payload.jti !== undefined) {
      const { ReplayDetection } = provider;
      if (!(await ReplayDetection.unique(BEARER_ISSUER, String(payload.jti), payload.exp))) {
        throw invalidGrant('the assertion has been used before (jti)');
      }
    }

    if (params.resource !== undefined && params.resource !== API_RESOURCE) {
      throw new errors.InvalidTarget(`unknown resource ${params.resource}`);
    }
    const allowed = new Set((client.scope ?? '').split(' ').filter(Boolean));
    const requested = params.scope ? params.scope.split(' ').filter(Boolean) : [...allowed];
    const refused = requested.filter((s) => !allowed.has(s));
    if (refused.length) {
      throw new errors.InvalidScope('requested scope is not allowed', refused.join(' '));
    }

    const resourceServer = new provider.ResourceServer(API_RESOURCE, apiResourceServerInfo());
    const token = new provider.AccessToken({
      accountId: payload.sub,
      client,
      gty: 'jwt-bearer',
      resourceServer,
      scope: requested.filter((s) => resourceServer.scopes.has(s)).join(' ') || undefined,
    });
    ctx.oidc.entity('AccessToken', token);
    const value = await token.save();
    ctx.body = {
      access_token: value,
      token_type: 'Bearer',
      expires_in: token.expiration,
      ...(token.scope ? { scope: token.scope } : undefined),
    };
  };
}

/// RFC 8628 §3.5 polling, which oidc-provider leaves out: /device/auth announces `interval`,
/// and a too-early poll of a pending device code answers `slow_down` (and raises that code's
/// interval by 5 s). The first poll of a code may come at any time.
function devicePolling() {
  const polls = new Map(); // device_code -> { at: ms of the last poll, interval: s }
  return async (ctx, next) => {
    await next();
    if (ctx.method !== 'POST') {
      return;
    }
    if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body?.device_code) {
      ctx.body = { ...ctx.body, interval: DEVICE_POLL_INTERVAL };
      polls.set(ctx.body.device_code, { at: undefined, interval: DEVICE_POLL_INTERVAL });
      return;
    }
    if (ctx.path !== '/token') {
      return;
    }
    const params = ctx.oidc?.params;
    if (params?.grant_type !== DEVICE_CODE || typeof params.device_code !== 'string') {
      return;
    }
    const poll = polls.get(params.device_code);
    if (!poll) {
      return;
    }
    const now = Date.now();
    const early = poll.at !== undefined && now - poll.at < poll.interval * 1000;
    poll.at = now;
    if (ctx.body?.error !== 'authorization_pending') {
      polls.delete(params.device_code);
    } else if (early) {
      poll.interval += 5;
      ctx.body = {
        error: 'slow_down',
        error_description: `polling too quickly, wait ${poll.interval} seconds between polls`,
      };
    }
  };
}

/// `GET /api/whoami`: who an opaque access token belongs to.
function whoami(provider) {
  return async (ctx, next) => {
    if (ctx.path !== '/api/whoami') {
      return next();
    }
    const header = ctx.get('authorization');
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const found = token
      && ((await provider.AccessToken.find(token)) || (await provider.ClientCredentials.find(token)));
    if (!found || found.isExpired) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      ctx.body = { error: 'invalid_token', error_description: 'the access token is not valid' };
      return undefined;
    }
    ctx.body = {
      sub: found.accountId ?? null,
      client_id: found.clientId,
      scope: found.scope ?? '',
      aud: found.aud ?? null,
    };
    return undefined;
  };
}

const keys = makeKeys();
if (process.env.WHISK_INTEROP_KEYS) {
  writePrivateKeys(process.env.WHISK_INTEROP_KEYS, keys);
}

const requested = Number.parseInt(process.argv[2] ?? process.env.PORT ?? '0', 10);
const server = http.createServer();
server.listen(Number.isNaN(requested) ? 0 : requested, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration(keys));
  provider.registerGrantType(JWT_BEARER, jwtBearerGrant(provider, keys.rsa.publicKey), [
    'assertion',
    'scope',
    'resource',
  ]);
  provider.use(devicePolling());
  provider.use(whoami(provider));
  server.on('request', provider.callback());
  process.stdout.write(`listening on ${issuer}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
