// Runs the external providers with the unmodified realm-web SDK against a Latchkey server: a
// custom JWT issuer (HS256 keys, an RS256 PEM key, a JWK set URL), a custom function served as
// a webhook, Google and Apple sign-in with an ID token, and linking each of them to an
// anonymous user. An admin configures the providers through the admin API. It asserts every
// result and every error the way the SDK surfaces them.
//
//   LATCHKEY_URL=http://127.0.0.1:9090 LATCHKEY_APP_ID=compat-app \
//   LATCHKEY_ADMIN_EMAIL=… LATCHKEY_ADMIN_PASSWORD=… node external.mjs
//
// The flow starts its own parties on 127.0.0.1 random ports: an OpenID provider (JWK sets at
// /jwks and /jwks-rotated, a /hang that never answers and a /garbage that is not JSON), and
// the custom function's webhook at /fn, which checks the Standard Webhooks signature of every
// call. Prints "ok - <check>" per check and "N passed, 0 failed" at the end; on the first
// failure prints "not ok - <check>: <error>" and exits 1.

import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, randomBytes, sign, timingSafeEqual } from "node:crypto";
import http from "node:http";
import * as Realm from "realm-web";

import { HEX24, adminFetch, adminLogin, appId, baseUrl, check, decodeJwt, newApp, rejects, run, summary } from "./harness.mjs";

function providerTypes(user) {
  return user.identities.map((i) => i.providerType);
}

function identityOf(user, providerType) {
  const found = user.identities.find((i) => i.providerType === providerType);
  assert.ok(found, `no ${providerType} identity in ${JSON.stringify(user.identities)}`);
  return found;
}

// --- tokens ---------------------------------------------------------------------------------

const b64url = (s) => Buffer.from(s).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

// signJwt signs a JWT: RS256 with a private KeyObject, HS256 with a secret's bytes, and "none"
// with nothing.
function signJwt(header, payload, key) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  switch (header.alg) {
    case "RS256":
      return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
    case "HS256":
      return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
    default:
      return `${input}.`;
  }
}

const rsa = () => generateKeyPairSync("rsa", { modulusLength: 2048 });
const key1 = rsa(); // served at /jwks and /jwks-rotated as kid "k1"
const key2 = rsa(); // served at /jwks-rotated only, as kid "k2"
const rogue = rsa(); // never served
const pem1 = key1.publicKey.export({ type: "spki", format: "pem" });

function jwk(keyPair, kid) {
  return { ...keyPair.publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
}

const hsKey = randomBytes(24).toString("hex"); // 48 characters
const hsOtherKey = randomBytes(24).toString("hex");
const AUD = "my-aud";

// customToken is a custom token for sub, valid for five minutes, with the claims the metadata
// fields read; extra overrides any claim.
function customClaims(sub, extra = {}) {
  return {
    sub,
    aud: AUD,
    iat: now(),
    exp: now() + 300,
    email: `${sub}@example.com`,
    user: { name: `Name of ${sub}` },
    ...extra,
  };
}
const hsToken = (sub, extra, key = hsKey) => signJwt({ alg: "HS256", typ: "JWT" }, customClaims(sub, extra), key);
const rsToken = (sub, extra, pair = key1, kid = "k1") =>
  signJwt({ alg: "RS256", typ: "JWT", kid }, customClaims(sub, extra), pair.privateKey);

const GOOGLE_CLIENT = "google-client";
const APPLE_CLIENT = "com.example.app";

function idToken(iss, aud, sub, extra = {}, pair = key1, kid = "k1") {
  return signJwt(
    { alg: "RS256", typ: "JWT", kid },
    { iss, aud, sub, iat: now(), exp: now() + 300, email: `${sub}@example.com`, name: `Name of ${sub}`, ...extra },
    pair.privateKey,
  );
}
const googleToken = (sub, extra, pair, kid) => idToken("https://accounts.google.com", GOOGLE_CLIENT, sub, extra, pair, kid);
const appleToken = (sub, extra) => idToken("https://appleid.apple.com", APPLE_CLIENT, sub, extra);

// --- the OpenID provider and the webhook ----------------------------------------------------

function listen(handler) {
  return new Promise((resolve, reject) => {
    const srv = http.createServer(handler);
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => resolve(srv));
  });
}
const urlOf = (srv, path) => `http://127.0.0.1:${srv.address().port}${path}`;

const hanging = []; // responses that are never written, ended when the flow ends

const oidc = await listen((req, res) => {
  const sendJSON = (body) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  switch (req.url) {
    case "/jwks":
      return sendJSON({ keys: [jwk(key1, "k1")] });
    case "/jwks-rotated":
      return sendJSON({ keys: [jwk(key2, "k2"), jwk(key1, "k1")] });
    case "/hang":
      return hanging.push(res);
    case "/garbage":
      res.writeHead(200, { "Content-Type": "application/json" });
      return res.end("not json");
  }
  res.writeHead(404).end();
});

const webhookSecret = `whsec_${randomBytes(32).toString("base64")}`;
const webhookKey = Buffer.from(webhookSecret.slice("whsec_".length), "base64");
const FUNCTION_SECRET = "v3ry-s3cret";
const webhook = { calls: 0, badSignatures: [], last: null };

// verifyWebhook checks a call's Standard Webhooks headers: a fresh timestamp and a v1
// signature, HMAC-SHA256 of "id.timestamp.body" under the secret's key.
function verifyWebhook(req, body) {
  const id = req.headers["webhook-id"];
  const ts = req.headers["webhook-timestamp"];
  const sigs = req.headers["webhook-signature"];
  if (!id || !ts || !sigs) return "missing webhook-id, webhook-timestamp or webhook-signature";
  if (!/^\d+$/.test(ts) || Math.abs(now() - Number(ts)) > 300) return `stale webhook-timestamp ${ts}`;
  const want = Buffer.from(createHmac("sha256", webhookKey).update(`${id}.${ts}.${body}`).digest("base64"));
  for (const sig of sigs.split(" ")) {
    const got = Buffer.from(sig.startsWith("v1,") ? sig.slice(3) : "");
    if (got.length === want.length && timingSafeEqual(got, want)) return "";
  }
  return `no v1 signature matches in ${JSON.stringify(sigs)}`;
}

const fn = await listen(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks).toString("utf8");
  webhook.calls++;
  const bad = req.method !== "POST" ? `method ${req.method}` : verifyWebhook(req, body);
  if (bad) {
    webhook.badSignatures.push(bad);
    res.writeHead(401, { "Content-Type": "application/json" });
    return res.end(JSON.stringify({ error: "bad signature" }));
  }
  const doc = JSON.parse(body);
  webhook.last = doc;
  const answer = (status, text) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(text);
  };
  switch (doc.username) {
    case "slow":
      return hanging.push(res);
    case "boom":
      return answer(500, JSON.stringify({ error: "boom" }));
    case "garbage":
      return answer(200, "nope");
  }
  if (doc.secret !== FUNCTION_SECRET) return answer(401, JSON.stringify({ error: "wrong secret" }));
  answer(
    200,
    JSON.stringify({
      id: doc.username,
      name: `Name of ${doc.username}`,
      email: `${doc.username}@example.com`,
      custom_data: { plan: doc.plan ?? "free", via: "webhook" },
    }),
  );
});

// A port that answers nothing: listened on, then closed.
const closed = await listen(() => {});
const downURL = urlOf(closed, "/fn");
await new Promise((resolve) => closed.close(resolve));

function assertWebhookSigned() {
  assert.deepEqual(webhook.badSignatures, [], "every webhook call carries a valid Standard Webhooks signature");
}

// --- the admin API --------------------------------------------------------------------------

let admin; // { token, app: the app's admin URL }

const providersURL = () => `${admin.app}/auth_providers`;
const providerURL = (name) => `${admin.app}/auth_providers/${name}`;

async function userCount() {
  const res = await adminFetch("GET", `${admin.app}/users?limit=1000`);
  assert.equal(res.status, 200, res.text);
  return res.body.length;
}

// noUserCreated runs fn and asserts that the app has as many users after it as before.
async function noUserCreated(fn) {
  const before = await userCount();
  await fn();
  assert.equal(await userCount(), before, "a failed login creates no user");
}

// A raw login, for what realm-web cannot send (a nonce) or would handle itself.
async function rawLogin(provider, body) {
  const res = await fetch(`${baseUrl}/api/client/v2.0/app/${appId}/auth/providers/${provider}/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

function assertProviderShape(body, { name, disabled = false, secretsSet }) {
  assert.equal(body._id, name);
  assert.equal(body.name, name);
  assert.equal(body.type, name);
  assert.equal(body.disabled, disabled);
  assert.equal(typeof body.config, "object");
  assert.equal(body.secrets_set, secretsSet);
  assert.ok(!("secret_config" in body), `no secret_config in ${JSON.stringify(body)}`);
}

const customTokenHS = {
  name: "custom-token",
  type: "custom-token",
  config: { audience: [AUD], signingAlgorithm: "HS256", useJWKURI: false },
  secret_config: { signingKeys: [hsKey] },
  metadata_fields: [
    { required: false, name: "email", field_name: "email" },
    { required: true, name: "user.name", field_name: "name" },
  ],
};

await check("admin API: log in and find the app", async () => {
  admin = await adminLogin();
});

await check("bad provider settings: 400 InvalidParameter, nothing configured", async () => {
  for (const [what, body] of [
    ["HS256 key under 32 characters", { ...customTokenHS, secret_config: { signingKeys: ["x".repeat(31)] } }],
    ["signingAlgorithm none", { ...customTokenHS, config: { ...customTokenHS.config, signingAlgorithm: "none" } }],
    [
      "a JWK set URL that is http and not loopback",
      { ...customTokenHS, config: { audience: [AUD], signingAlgorithm: "RS256", useJWKURI: true, jwkURI: "http://example.com/jwks" } },
    ],
    [
      "a webhook URL that is http and not loopback",
      { name: "custom-function", type: "custom-function", config: { url: "http://example.com/fn" }, secret_config: { secret: webhookSecret } },
    ],
    ["a custom function without a secret", { name: "custom-function", type: "custom-function", config: { url: urlOf(fn, "/fn") } }],
    ["Google sign-in without a client id", { name: "oauth2-google", type: "oauth2-google", config: { openId: true } }],
  ]) {
    const res = await adminFetch("POST", providersURL(), body);
    assert.equal(res.status, 400, `${what}: ${res.text}`);
    assert.equal(res.body.error_code, "InvalidParameter", `${what}: ${res.text}`);
  }
  const list = await adminFetch("GET", providersURL());
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.map((p) => p.name).sort(), ["anon-user", "api-key", "local-userpass"]);
});

await check("a custom-token provider (HS256) is configured: 201, its key never shown", async () => {
  const res = await adminFetch("POST", providersURL(), customTokenHS);
  assert.equal(res.status, 201, res.text);
  assertProviderShape(res.body, { name: "custom-token", secretsSet: true });
  assert.deepEqual(res.body.config.audience, [AUD]);
  assert.equal(res.body.config.signingAlgorithm, "HS256");
  assert.deepEqual(res.body.metadata_fields, customTokenHS.metadata_fields);
  assert.ok(!res.text.includes(hsKey), "the signing key is not in the answer");
});

await check("GET lists the built-in providers and the custom token; GET of one shows it", async () => {
  const list = await adminFetch("GET", providersURL());
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.map((p) => p.name).sort(), ["anon-user", "api-key", "custom-token", "local-userpass"]);
  assert.ok(!list.text.includes(hsKey), "the signing key is not in the list");
  const one = await adminFetch("GET", providerURL("custom-token"));
  assert.equal(one.status, 200);
  assertProviderShape(one.body, { name: "custom-token", secretsSet: true });
  assert.ok(!one.text.includes(hsKey), "the signing key is not in the answer");
});

await check("a second custom-token provider: 409", async () => {
  const res = await adminFetch("POST", providersURL(), customTokenHS);
  assert.equal(res.status, 409, res.text);
});

// --- custom token ---------------------------------------------------------------------------

const sub1 = `jwt-user-${run}`;
let jwtUser;

await check("log in with a custom token: a user whose identity is the token's sub, with the metadata fields", async () => {
  jwtUser = await newApp().logIn(Realm.Credentials.jwt(hsToken(sub1)));
  assert.match(jwtUser.id, HEX24);
  assert.equal(jwtUser.providerType, "custom-token");
  assert.deepEqual(providerTypes(jwtUser), ["custom-token"]);
  assert.equal(identityOf(jwtUser, "custom-token").id, sub1);
  assert.equal(jwtUser.profile.name, `Name of ${sub1}`);
  assert.equal(jwtUser.profile.email, `${sub1}@example.com`);
  assert.equal(decodeJwt(jwtUser.accessToken).sub, jwtUser.id);
});

await check("the same sub logs in as the same user; changed claims update the profile", async () => {
  const again = await newApp().logIn(Realm.Credentials.jwt(hsToken(sub1, { user: { name: "Renamed" } })));
  assert.equal(again.id, jwtUser.id);
  assert.equal(again.profile.name, "Renamed");
});

await check("an optional metadata field may be missing", async () => {
  const sub = `jwt-noemail-${run}`;
  const u = await newApp().logIn(Realm.Credentials.jwt(hsToken(sub, { email: undefined })));
  assert.equal(identityOf(u, "custom-token").id, sub);
  assert.equal(u.profile.email, undefined);
  assert.equal(u.profile.name, `Name of ${sub}`);
});

const customTokenError = /^invalid custom auth token: /;

await check("bad custom tokens: 401 AuthError, and no user is created", async () => {
  const sub = `jwt-refused-${run}`;
  await noUserCreated(async () => {
    await rejects(newApp().logIn(Realm.Credentials.jwt(hsToken(sub, { iat: now() - 600, exp: now() - 300 }))), {
      status: 401,
      code: "AuthError",
      error: "invalid custom auth token: token is expired",
    });
    for (const [what, token] of [
      ["another key's signature", hsToken(sub, {}, hsOtherKey)],
      ["another audience", hsToken(sub, { aud: "someone-else" })],
      ["alg none", signJwt({ alg: "none", typ: "JWT" }, customClaims(sub))],
      ["RS256 where HS256 is configured", rsToken(sub)],
      ["not a JWT", "not.a-jwt"],
    ]) {
      await rejects(newApp().logIn(Realm.Credentials.jwt(token)), { status: 401, code: "AuthError", error: customTokenError }).catch(
        (err) => assert.fail(`${what}: ${err.message}`),
      );
    }
    await rejects(newApp().logIn(Realm.Credentials.jwt(hsToken(sub, { user: { nick: "no name" } }))), {
      status: 401,
      code: "AuthError",
      error: "invalid custom auth token: required metadata field 'user.name' is missing",
    });
  });
});

await check("PUT without secret_config keeps the signing key: 200, the token still logs in", async () => {
  const { secret_config, ...withoutSecrets } = customTokenHS;
  const fields = [{ required: true, name: "user.name", field_name: "name" }];
  const res = await adminFetch("PUT", providerURL("custom-token"), { ...withoutSecrets, metadata_fields: fields });
  assert.equal(res.status, 200, res.text);
  assertProviderShape(res.body, { name: "custom-token", secretsSet: true });
  assert.deepEqual(res.body.metadata_fields, fields);
  const again = await newApp().logIn(Realm.Credentials.jwt(hsToken(sub1)));
  assert.equal(again.id, jwtUser.id);
  assert.equal(again.profile.email, undefined, "email is no longer a metadata field");
});

await check("RS256 with a PEM public key: its tokens log in; an HS256 token signed with the PEM: 401", async () => {
  const res = await adminFetch("PUT", providerURL("custom-token"), {
    ...customTokenHS,
    config: { audience: [AUD], signingAlgorithm: "RS256", useJWKURI: false },
    secret_config: { signingKeys: [pem1] },
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.config.signingAlgorithm, "RS256");
  assert.ok(!res.text.includes("BEGIN PUBLIC KEY"), "the signing key is not in the answer");
  const again = await newApp().logIn(Realm.Credentials.jwt(rsToken(sub1)));
  assert.equal(again.id, jwtUser.id);
  await noUserCreated(async () => {
    await rejects(newApp().logIn(Realm.Credentials.jwt(hsToken(sub1, {}, pem1))), {
      status: 401,
      code: "AuthError",
      error: customTokenError,
    });
    await rejects(newApp().logIn(Realm.Credentials.jwt(rsToken(sub1, {}, rogue))), {
      status: 401,
      code: "AuthError",
      error: customTokenError,
    });
  });
});

const customTokenJWKS = (jwkURI) => ({
  ...customTokenHS,
  config: { audience: [AUD], signingAlgorithm: "RS256", useJWKURI: true, jwkURI },
  secret_config: undefined,
});

await check("RS256 with a JWK set URL: tokens of its key log in", async () => {
  const res = await adminFetch("PUT", providerURL("custom-token"), customTokenJWKS(urlOf(oidc, "/jwks")));
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.config.useJWKURI, true);
  assert.equal(res.body.config.jwkURI, urlOf(oidc, "/jwks"));
  const again = await newApp().logIn(Realm.Credentials.jwt(rsToken(sub1)));
  assert.equal(again.id, jwtUser.id);
});

await check("JWK set: an unknown kid, the HS256 token signed with the PEM, alg none: 401 AuthError", async () => {
  await noUserCreated(async () => {
    for (const [what, token] of [
      ["unknown kid", rsToken(sub1, {}, key2, "k2")],
      ["a known kid, another key's signature", rsToken(sub1, {}, rogue, "k1")],
      ["HS256 signed with the RSA public key PEM", signJwt({ alg: "HS256", typ: "JWT", kid: "k1" }, customClaims(sub1), pem1)],
      ["alg none", signJwt({ alg: "none", typ: "JWT", kid: "k1" }, customClaims(sub1))],
    ]) {
      await rejects(newApp().logIn(Realm.Credentials.jwt(token)), { status: 401, code: "AuthError", error: customTokenError }).catch(
        (err) => assert.fail(`${what}: ${err.message}`),
      );
    }
  });
});

await check("JWK set URL that hangs or answers garbage: 401 AuthError, never a 500", async () => {
  await noUserCreated(async () => {
    for (const path of ["/hang", "/garbage"]) {
      const res = await adminFetch("PUT", providerURL("custom-token"), customTokenJWKS(urlOf(oidc, path)));
      assert.equal(res.status, 200, res.text);
      await rejects(newApp().logIn(Realm.Credentials.jwt(rsToken(`jwt-${path.slice(1)}-${run}`))), {
        status: 401,
        code: "AuthError",
        error: customTokenError,
      }).catch((err) => assert.fail(`${path}: ${err.message}`));
    }
  });
});

await check("a new key set (rotated key first): tokens of either key log in as the same user", async () => {
  const res = await adminFetch("PUT", providerURL("custom-token"), customTokenJWKS(urlOf(oidc, "/jwks-rotated")));
  assert.equal(res.status, 200, res.text);
  assert.equal((await newApp().logIn(Realm.Credentials.jwt(rsToken(sub1, {}, key2, "k2")))).id, jwtUser.id);
  assert.equal((await newApp().logIn(Realm.Credentials.jwt(rsToken(sub1, {}, key1, "k1")))).id, jwtUser.id);
});

// --- disabling and enabling the provider ----------------------------------------------------

const unsupported = (provider) => ({ status: 400, code: "AuthProviderNotFound", error: `authentication via '${provider}' is unsupported` });

await check("a disabled custom-token provider: 204, its logins 400 AuthProviderNotFound", async () => {
  assert.equal((await adminFetch("PUT", `${providerURL("custom-token")}/disable`)).status, 204);
  const one = await adminFetch("GET", providerURL("custom-token"));
  assert.equal(one.body.disabled, true);
  await noUserCreated(async () => {
    await rejects(newApp().logIn(Realm.Credentials.jwt(rsToken(`jwt-disabled-${run}`))), unsupported("custom-token"));
  });
  await rejects(newApp().logIn(Realm.Credentials.jwt(rsToken(sub1))), unsupported("custom-token"));
});

await check("enabled again: 204, its tokens log in", async () => {
  assert.equal((await adminFetch("PUT", `${providerURL("custom-token")}/enable`)).status, 204);
  assert.equal((await adminFetch("GET", providerURL("custom-token"))).body.disabled, false);
  assert.equal((await newApp().logIn(Realm.Credentials.jwt(rsToken(sub1)))).id, jwtUser.id);
});

// --- custom function ------------------------------------------------------------------------

const customFunction = {
  name: "custom-function",
  type: "custom-function",
  config: { url: urlOf(fn, "/fn"), timeout_ms: 1000 },
  secret_config: { secret: webhookSecret },
};
const fnUser1 = `fn-user-${run}`;
let fnUser;

await check("a custom-function provider is configured: 201, its secret never shown", async () => {
  const res = await adminFetch("POST", providersURL(), customFunction);
  assert.equal(res.status, 201, res.text);
  assertProviderShape(res.body, { name: "custom-function", secretsSet: true });
  assert.equal(res.body.config.url, urlOf(fn, "/fn"));
  assert.equal(res.body.config.timeout_ms, 1000);
  assert.ok(!res.text.includes(webhookSecret.slice("whsec_".length)), "the secret is not in the answer");
  const one = await adminFetch("GET", providerURL("custom-function"));
  assert.ok(!one.text.includes(webhookSecret.slice("whsec_".length)), "the secret is not in the answer");
});

await check("log in with the function: the webhook's id, name and email, and its custom data", async () => {
  const calls = webhook.calls;
  fnUser = await newApp().logIn(Realm.Credentials.function({ username: fnUser1, secret: FUNCTION_SECRET }));
  assert.equal(webhook.calls, calls + 1, "one webhook call");
  assertWebhookSigned();
  assert.deepEqual(webhook.last, { username: fnUser1, secret: FUNCTION_SECRET }, "the webhook gets the payload without the SDK's options");
  assert.match(fnUser.id, HEX24);
  assert.equal(fnUser.providerType, "custom-function");
  assert.deepEqual(providerTypes(fnUser), ["custom-function"]);
  assert.equal(identityOf(fnUser, "custom-function").id, fnUser1);
  assert.equal(fnUser.profile.name, `Name of ${fnUser1}`);
  assert.equal(fnUser.profile.email, `${fnUser1}@example.com`);
  assert.deepEqual(fnUser.customData, { plan: "free", via: "webhook" });
  assert.deepEqual(await fnUser.refreshCustomData(), { plan: "free", via: "webhook" });
});

await check("a later login with other custom data: the same user, its custom data replaced", async () => {
  const again = await newApp().logIn(Realm.Credentials.function({ username: fnUser1, secret: FUNCTION_SECRET, plan: "pro" }));
  assert.equal(again.id, fnUser.id);
  assert.deepEqual(again.customData, { plan: "pro", via: "webhook" });
  assert.deepEqual(await fnUser.refreshCustomData(), { plan: "pro", via: "webhook" });
  const res = await adminFetch("GET", `${admin.app}/users/${fnUser.id}/custom_data`);
  assert.deepEqual(res.body, { plan: "pro", via: "webhook" });
  assertWebhookSigned();
});

const functionError = /^custom function authentication failed: /;

await check("the webhook refuses, is slow, fails or answers garbage: 401 AuthError, no user", async () => {
  await noUserCreated(async () => {
    for (const [what, payload] of [
      ["a wrong secret", { username: `fn-wrong-${run}`, secret: "guess" }],
      ["too slow", { username: "slow", secret: FUNCTION_SECRET }],
      ["a 500", { username: "boom", secret: FUNCTION_SECRET }],
      ["not JSON", { username: "garbage", secret: FUNCTION_SECRET }],
    ]) {
      await rejects(newApp().logIn(Realm.Credentials.function(payload)), { status: 401, code: "AuthError", error: functionError }).catch(
        (err) => assert.fail(`${what}: ${err.message}`),
      );
    }
  });
  assertWebhookSigned();
});

await check("a webhook that is down: 401 AuthError, no user", async () => {
  const res = await adminFetch("PUT", providerURL("custom-function"), { ...customFunction, config: { url: downURL, timeout_ms: 1000 }, secret_config: undefined });
  assert.equal(res.status, 200, res.text);
  assertProviderShape(res.body, { name: "custom-function", secretsSet: true });
  await noUserCreated(async () => {
    await rejects(newApp().logIn(Realm.Credentials.function({ username: `fn-down-${run}`, secret: FUNCTION_SECRET })), {
      status: 401,
      code: "AuthError",
      error: functionError,
    });
  });
  const back = await adminFetch("PUT", providerURL("custom-function"), { ...customFunction, secret_config: undefined });
  assert.equal(back.status, 200, back.text);
  assert.equal((await newApp().logIn(Realm.Credentials.function({ username: fnUser1, secret: FUNCTION_SECRET, plan: "pro" }))).id, fnUser.id);
  assertWebhookSigned();
});

// --- Google and Apple -----------------------------------------------------------------------

const googleSub = `g-${run}`;
let googleUser;

await check("oauth2-google and oauth2-apple providers are configured: 201, without secrets", async () => {
  const google = await adminFetch("POST", providersURL(), {
    name: "oauth2-google",
    type: "oauth2-google",
    config: { clientId: GOOGLE_CLIENT, openId: true, issuer: "https://accounts.google.com", jwkURI: urlOf(oidc, "/jwks-rotated") },
  });
  assert.equal(google.status, 201, google.text);
  assertProviderShape(google.body, { name: "oauth2-google", secretsSet: false });
  assert.equal(google.body.config.clientId, GOOGLE_CLIENT);
  const apple = await adminFetch("POST", providersURL(), {
    name: "oauth2-apple",
    type: "oauth2-apple",
    config: { clientId: APPLE_CLIENT, issuer: "https://appleid.apple.com", jwkURI: urlOf(oidc, "/jwks") },
  });
  assert.equal(apple.status, 201, apple.text);
  assertProviderShape(apple.body, { name: "oauth2-apple", secretsSet: false });
  const list = await adminFetch("GET", providersURL());
  assert.deepEqual(list.body.map((p) => p.name).sort(), [
    "anon-user",
    "api-key",
    "custom-function",
    "custom-token",
    "local-userpass",
    "oauth2-apple",
    "oauth2-google",
  ]);
});

await check("log in with a Google ID token: the identity is its sub, the profile its email and name", async () => {
  googleUser = await newApp().logIn(Realm.Credentials.google({ idToken: googleToken(googleSub, {}, key2, "k2") }));
  assert.match(googleUser.id, HEX24);
  assert.equal(googleUser.providerType, "oauth2-google");
  assert.deepEqual(providerTypes(googleUser), ["oauth2-google"]);
  assert.equal(identityOf(googleUser, "oauth2-google").id, googleSub);
  assert.equal(googleUser.profile.email, `${googleSub}@example.com`);
  assert.equal(googleUser.profile.name, `Name of ${googleSub}`);
  const again = await newApp().logIn(Realm.Credentials.google({ idToken: googleToken(googleSub) }));
  assert.equal(again.id, googleUser.id);
});

await check("Google ID tokens for another client, from another issuer, expired: 401 AuthError, no user", async () => {
  const sub = `g-refused-${run}`;
  const googleError = /^invalid Google ID token: /;
  await noUserCreated(async () => {
    for (const [what, token] of [
      ["another client id", idToken("https://accounts.google.com", "another-client", sub)],
      ["another issuer", idToken("https://appleid.apple.com", GOOGLE_CLIENT, sub)],
      ["expired", googleToken(sub, { iat: now() - 600, exp: now() - 300 })],
      ["a key not in the set", googleToken(sub, {}, rogue, "k1")],
    ]) {
      await rejects(newApp().logIn(Realm.Credentials.google({ idToken: token })), { status: 401, code: "AuthError", error: googleError }).catch(
        (err) => assert.fail(`${what}: ${err.message}`),
      );
    }
  });
});

await check("a nonce in the login must be the token's: 401 AuthError otherwise", async () => {
  const sub = `g-nonce-${run}`;
  await noUserCreated(async () => {
    const res = await rawLogin("oauth2-google", { id_token: googleToken(sub, { nonce: "the-token-nonce" }), nonce: "another-nonce" });
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.body.error_code, "AuthError");
    assert.match(res.body.error, /^invalid Google ID token: /);
  });
  const ok = await rawLogin("oauth2-google", { id_token: googleToken(googleSub, { nonce: "the-token-nonce" }), nonce: "the-token-nonce" });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.user_id, googleUser.id);
});

await check("the OAuth 2.0 redirect flow (Credentials.google({redirectUrl})) is not served: 400 BadRequest", async () => {
  const res = await fetch(
    `${baseUrl}/api/client/v2.0/app/${appId}/auth/providers/oauth2-google/login?redirect=${encodeURIComponent("http://127.0.0.1/callback")}&state=s`,
    { redirect: "manual" },
  );
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error_code, "BadRequest");
  assert.match(body.error, /^the OAuth 2\.0 redirect flow is not supported: /);
});

await check("log in with an Apple ID token; another client or issuer: 401 AuthError", async () => {
  const sub = `apple-${run}`;
  const u = await newApp().logIn(Realm.Credentials.apple(appleToken(sub)));
  assert.match(u.id, HEX24);
  assert.deepEqual(providerTypes(u), ["oauth2-apple"]);
  assert.equal(identityOf(u, "oauth2-apple").id, sub);
  assert.equal(u.profile.email, `${sub}@example.com`);
  assert.equal((await newApp().logIn(Realm.Credentials.apple(appleToken(sub)))).id, u.id);
  const appleError = /^invalid Apple ID token: /;
  await noUserCreated(async () => {
    await rejects(newApp().logIn(Realm.Credentials.apple(idToken("https://appleid.apple.com", GOOGLE_CLIENT, `apple-x-${run}`))), {
      status: 401,
      code: "AuthError",
      error: appleError,
    });
    await rejects(newApp().logIn(Realm.Credentials.apple(idToken("https://accounts.google.com", APPLE_CLIENT, `apple-x-${run}`))), {
      status: 401,
      code: "AuthError",
      error: appleError,
    });
  });
});

// --- linking --------------------------------------------------------------------------------

let linked; // an anonymous user that links a custom token, a function and a Google account
const linkSub = `jwt-link-${run}`;
const linkFn = `fn-link-${run}`;
const linkGoogle = `g-link-${run}`;

await check("an anonymous user links a custom token: the same id, no longer anonymous, may create API keys", async () => {
  const app = newApp();
  linked = await app.logIn(Realm.Credentials.anonymous());
  const anonId = linked.id;
  await rejects(linked.apiKeys.create("before-link"), { status: 403, code: "AuthError", error: "anonymous users cannot create API keys" });
  await linked.linkCredentials(Realm.Credentials.jwt(rsToken(linkSub)));
  assert.equal(linked.id, anonId);
  assert.deepEqual(providerTypes(linked), ["anon-user", "custom-token"]);
  assert.equal(identityOf(linked, "custom-token").id, linkSub);
  assert.equal(decodeJwt(linked.accessToken).sub, anonId);
  const key = await linked.apiKeys.create("after-link");
  assert.match(key._id, HEX24);
  assert.equal((await newApp().logIn(Realm.Credentials.jwt(rsToken(linkSub)))).id, anonId, "the token logs in as the linked user");
});

await check("linking a token whose sub is another user's: 409 AccountNameInUse", async () => {
  const anon = await newApp().logIn(Realm.Credentials.anonymous());
  await rejects(anon.linkCredentials(Realm.Credentials.jwt(rsToken(sub1))), {
    status: 409,
    code: "AccountNameInUse",
    error: "a user already exists with the specified provider",
  });
  assert.deepEqual(providerTypes(anon), ["anon-user"]);
  assert.equal(anon.isLoggedIn, true);
});

await check("linking a bad token: 401 AuthError, the user keeps its session", async () => {
  const anon = await newApp().logIn(Realm.Credentials.anonymous());
  await rejects(anon.linkCredentials(Realm.Credentials.jwt(rsToken(`jwt-badlink-${run}`, { aud: "someone-else" }))), {
    status: 401,
    code: "AuthError",
    error: customTokenError,
  });
  assert.equal(anon.isLoggedIn, true);
  await anon.refreshProfile();
  assert.deepEqual(providerTypes(anon), ["anon-user"]);
});

await check("the same user links a function and a Google account too", async () => {
  await linked.linkCredentials(Realm.Credentials.function({ username: linkFn, secret: FUNCTION_SECRET }));
  assertWebhookSigned();
  await linked.linkCredentials(Realm.Credentials.google({ idToken: googleToken(linkGoogle) }));
  assert.deepEqual(providerTypes(linked), ["anon-user", "custom-token", "custom-function", "oauth2-google"]);
  assert.equal(identityOf(linked, "custom-function").id, linkFn);
  assert.equal(identityOf(linked, "oauth2-google").id, linkGoogle);
  assert.equal((await newApp().logIn(Realm.Credentials.function({ username: linkFn, secret: FUNCTION_SECRET }))).id, linked.id);
  assert.equal((await newApp().logIn(Realm.Credentials.google({ idToken: googleToken(linkGoogle) }))).id, linked.id);
});

await check("linking a Google account another user has: 409 AccountNameInUse", async () => {
  const anon = await newApp().logIn(Realm.Credentials.anonymous());
  await rejects(anon.linkCredentials(Realm.Credentials.google({ idToken: googleToken(googleSub) })), {
    status: 409,
    code: "AccountNameInUse",
    error: "a user already exists with the specified provider",
  });
  assert.deepEqual(providerTypes(anon), ["anon-user"]);
});

// --- disabled users, deleted providers ------------------------------------------------------

await check("a disabled user's external login: 401 UserDisabled", async () => {
  assert.equal((await adminFetch("PUT", `${admin.app}/users/${jwtUser.id}/disable`)).status, 204);
  await rejects(newApp().logIn(Realm.Credentials.jwt(rsToken(sub1))), { status: 401, code: "UserDisabled", error: "user disabled" });
  assert.equal((await adminFetch("PUT", `${admin.app}/users/${jwtUser.id}/enable`)).status, 204);
  assert.equal((await newApp().logIn(Realm.Credentials.jwt(rsToken(sub1)))).id, jwtUser.id);
});

await check("a deleted provider: 204, GET 404, its logins 400 AuthProviderNotFound, its users stay", async () => {
  const calls = webhook.calls;
  assert.equal((await adminFetch("DELETE", providerURL("custom-function"))).status, 204);
  assert.equal((await adminFetch("GET", providerURL("custom-function"))).status, 404);
  await noUserCreated(async () => {
    await rejects(newApp().logIn(Realm.Credentials.function({ username: fnUser1, secret: FUNCTION_SECRET })), unsupported("custom-function"));
  });
  assert.equal(webhook.calls, calls, "no webhook call for a deleted provider");
  assert.equal((await adminFetch("GET", `${admin.app}/users/${fnUser.id}`)).status, 200);
  await rejects(linked.linkCredentials(Realm.Credentials.function({ username: `fn-late-${run}`, secret: FUNCTION_SECRET })), unsupported("custom-function"));
});

await check("configured again: the function's users log in as before", async () => {
  const res = await adminFetch("POST", providersURL(), customFunction);
  assert.equal(res.status, 201, res.text);
  assert.equal((await newApp().logIn(Realm.Credentials.function({ username: fnUser1, secret: FUNCTION_SECRET }))).id, fnUser.id);
  assertWebhookSigned();
});

for (const res of hanging) res.destroy();
oidc.closeAllConnections();
fn.closeAllConnections();
summary();
