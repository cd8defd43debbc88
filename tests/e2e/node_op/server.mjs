// panva's node-oidc-provider (pinned in package.json), configured after its OpenID certification
// deployment (certification/oidc/configuration.js in its repository) but with its built-in
// development login and consent pages, for tests/e2e/test_selftest_node_op.py: a provider we did
// not write, for the self-test to judge.
//
// Usage: node tests/e2e/node_op/server.mjs, with the environment:
//   OP_CLIENT_ID, OP_CLIENT_SECRET, OP_CLIENT2_ID, OP_CLIENT2_SECRET  the two confidential clients
//   OP_REDIRECT_URI, OP_POST_LOGOUT_REDIRECT_URI                       registered for both clients
//   OP_PORT                                                            default 0: a free port
// It prints one line, "issuer <url>", once it listens; SIGTERM or SIGINT stops it.
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { createRequire } from 'node:module';

import Provider from 'oidc-provider';
import * as jwa from 'oidc-provider/lib/consts/jwa.js';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`node_op: ${name} is required`);
    process.exit(2);
  }
  return value;
};

const ACR = 'urn:mace:incommon:iap:bronze';
const { version } = createRequire(import.meta.url)('oidc-provider/package.json');

// Every login name is an account (the development pages take any login and password), with the
// certification deployment's claims.
function findAccount(_ctx, accountId) {
  return {
    accountId,
    async claims() {
      return {
        sub: accountId,
        address: {
          country: '000', formatted: '000', locality: '000', postal_code: '000', region: '000', street_address: '000',
        },
        birthdate: '1987-10-16',
        email: 'johndoe@example.com',
        email_verified: false,
        family_name: 'Doe',
        gender: 'male',
        given_name: 'John',
        locale: 'en-US',
        middle_name: 'Middle',
        name: 'John Doe',
        nickname: 'Johny',
        phone_number: '+49 000 000000',
        phone_number_verified: false,
        picture: 'http://example.com/picture.png',
        preferred_username: 'johnny',
        profile: 'https://johnswebsite.com',
        updated_at: 1454704946,
        website: 'http://example.com',
        zoneinfo: 'Europe/Berlin',
      };
    },
  };
}

function client(id, secret) {
  return {
    client_id: id,
    client_secret: secret,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [env('OP_REDIRECT_URI')],
    post_logout_redirect_uris: [env('OP_POST_LOGOUT_REDIRECT_URI')],
    token_endpoint_auth_method: 'client_secret_basic',
  };
}

const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ecKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

const configuration = {
  clients: [
    client(env('OP_CLIENT_ID'), env('OP_CLIENT_SECRET')),
    client(env('OP_CLIENT2_ID'), env('OP_CLIENT2_SECRET')),
  ],
  findAccount,
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  jwks: {
    keys: [
      { ...signingKey.export({ format: 'jwk' }), use: 'sig', kid: crypto.randomUUID() },
      { ...ecKey.export({ format: 'jwk' }), use: 'sig', kid: crypto.randomUUID() },
    ],
  },
  // As the certification deployment, except: the built-in development interactions (login and
  // consent pages) instead of its own, and no mTLS, DPoP, dynamic registration or client metadata
  // documents (the Basic, Config and RP-Initiated Logout plans use none of them).
  acrValues: [ACR],
  // An extension member, as the certification deployment publishes (its plan allows it by name).
  discovery: { version },
  claims: {
    amr: null,
    address: ['address'],
    email: ['email', 'email_verified'],
    phone: ['phone_number', 'phone_number_verified'],
    profile: ['birthdate', 'family_name', 'gender', 'given_name', 'locale', 'middle_name', 'name',
      'nickname', 'picture', 'preferred_username', 'profile', 'updated_at', 'website', 'zoneinfo'],
  },
  features: {
    devInteractions: { enabled: true },
    backchannelLogout: { enabled: true },
    claimsParameter: { enabled: true },
    deviceFlow: { enabled: true },
    encryption: { enabled: true },
    jwtUserinfo: { enabled: true },
    introspection: { enabled: true },
    jwtResponseModes: { enabled: true },
    pushedAuthorizationRequests: { enabled: true },
    requestObjects: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  responseTypes: ['code id_token token', 'code id_token', 'code token', 'code', 'id_token token', 'id_token', 'none'],
  subjectTypes: ['public', 'pairwise'],
  pairwiseIdentifier(_ctx, accountId, { sectorIdentifier }) {
    return crypto.createHash('sha256').update(sectorIdentifier).update(accountId).digest('hex');
  },
  clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt'],
  enabledJWA: structuredClone({ ...jwa }),
  async issueRefreshToken(_ctx, client_, code) {
    return client_.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access');
  },
  pkce: { required: () => false },
};

const server = http.createServer();
server.listen(Number(process.env.OP_PORT || 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  // As the certification deployment: a sign-in records the acr and amr the interaction would.
  const { interactionFinished } = provider;
  provider.interactionFinished = (req, res, result, options) => {
    if (result.login) Object.assign(result.login, { acr: ACR, amr: ['pwd'] });
    return interactionFinished.call(provider, req, res, result, options);
  };
  server.on('request', provider.callback());
  console.log(`issuer ${issuer}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
