// An OpenID-certified OAuth 2.0 / OIDC server (panva/oidc-provider) on 127.0.0.1, for whisk's
// interop tests. Usage: node server.mjs [PORT]   (0 or nothing: a free port)
//
// It prints one line, `listening on http://127.0.0.1:PORT`, once it accepts requests. Clients:
//   whisk-cc    confidential, client_secret_basic, grant client_credentials
//   whisk-code  confidential, client_secret_post, grants authorization_code + refresh_token,
//               PKCE required, loopback redirect URI (any port, RFC 8252 §7.3)
// Access tokens live 4 s so that tests see them expire; refresh tokens rotate on every use.
// `GET /api/whoami` is a small resource server: it answers 200 with the token's subject or
// client for a valid opaque access token, and 401 with `error="invalid_token"` otherwise.

import http from 'node:http';
import Provider from 'oidc-provider';

export const CLIENTS = {
  cc: { id: 'whisk-cc', secret: 'whisk-cc-secret-7f3a9c1e5b' },
  code: { id: 'whisk-code', secret: 'whisk-code-secret-2d8e6b4f0a' },
};
export const API_RESOURCE = 'urn:whisk:api';
export const ACCESS_TOKEN_TTL = 4;

function configuration() {
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
    ],
    scopes: ['openid', 'offline_access', 'api:read'],
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
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
            throw new Error(`unknown resource ${resource}`);
          }
          return {
            scope: 'api:read',
            audience: API_RESOURCE,
            accessTokenTTL: ACCESS_TOKEN_TTL,
            accessTokenFormat: 'opaque',
          };
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

const requested = Number.parseInt(process.argv[2] ?? process.env.PORT ?? '0', 10);
const server = http.createServer();
server.listen(Number.isNaN(requested) ? 0 : requested, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration());
  provider.use(whoami(provider));
  server.on('request', provider.callback());
  process.stdout.write(`listening on ${issuer}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
