// Runs the Realm "user API keys" flow, and custom user data set by an admin, with the
// unmodified realm-web SDK against a Latchkey server and asserts every result and every error
// the way the SDK surfaces them.
//
//   LATCHKEY_URL=http://127.0.0.1:9090 LATCHKEY_APP_ID=compat-app \
//   LATCHKEY_ADMIN_EMAIL=… LATCHKEY_ADMIN_PASSWORD=… node flow.mjs
//
// Prints "ok - <check>" per check and "N passed, 0 failed" at the end; on the first failure
// prints "not ok - <check>: <error>" and exits 1. The contract is
// /work/shared/spec/wire-contract.md (its "Notes on the reference client" explain the two Apps).

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as Realm from "realm-web";

import { HEX24, adminFetch, adminLogin, appId, baseUrl, check, decodeJwt, newApp, rejects, run, summary } from "./harness.mjs";

const INVALID_NAME = "can only contain ASCII letters, numbers, underscores, and hyphens";

function assertListedKey(got, want) {
  assert.equal(got._id, want._id);
  assert.equal(got.name, want.name);
  assert.equal(got.disabled, want.disabled);
  assert.ok(!("key" in got), `key object must not carry "key": ${JSON.stringify(got)}`);
}

function hasIdentity(user, providerType) {
  return user.identities.some((i) => i.providerType === providerType);
}

// ---------------------------------------------------------------------------------------------

const app = newApp(); // the password session of the first user
const keyApp = newApp(); // the API key session of the same user
const email = `alice-${run}@example.com`;
const password = "correct horse battery staple";

let user;
let keyUser;
let key1; // the key that goes through disable / enable / key login / delete
let key2; // a second key, for the creation order

await check("location answers with the server's hostname", async () => {
  assert.equal(await app.locationUrl, baseUrl);
});

await check("register an email/password user", async () => {
  assert.equal(await app.emailPasswordAuth.registerUser({ email, password }), undefined);
});

await check("register the same email again: 409 AccountNameInUse", async () => {
  await rejects(app.emailPasswordAuth.registerUser({ email: email.toUpperCase(), password }), {
    status: 409,
    code: "AccountNameInUse",
    error: "name already in use",
  });
});

await check("log in with a wrong password: 401 InvalidPassword", async () => {
  await rejects(app.logIn(Realm.Credentials.emailPassword(email, "wrong password!")), {
    status: 401,
    code: "InvalidPassword",
    error: "unauthorized",
  });
});

await check("log in with email/password", async () => {
  user = await app.logIn(Realm.Credentials.emailPassword(email, password));
  assert.match(user.id, HEX24);
  assert.equal(user.isLoggedIn, true);
  assert.equal(user.providerType, "local-userpass");
  assert.equal(user.profile.email, email);
  assert.ok(hasIdentity(user, "local-userpass"), JSON.stringify(user.identities));
  assert.equal(app.currentUser, user);
});

await check("a new user has no API keys", async () => {
  assert.deepEqual(await user.apiKeys.fetchAll(), []);
});

await check("apiKeys.create returns _id, key, name and disabled:false", async () => {
  key1 = await user.apiKeys.create("my-key");
  assert.equal(typeof key1._id, "string");
  assert.match(key1._id, HEX24);
  assert.equal(typeof key1.key, "string");
  assert.ok(key1.key.length >= 40, `key is ${key1.key.length} chars`);
  assert.equal(key1.name, "my-key");
  assert.equal(key1.disabled, false);
});

await check("a second key gets its own _id and key", async () => {
  key2 = await user.apiKeys.create("second_key");
  assert.match(key2._id, HEX24);
  assert.notEqual(key2._id, key1._id);
  assert.notEqual(key2.key, key1.key);
  assert.equal(key2.name, "second_key");
  assert.equal(key2.disabled, false);
});

await check("fetchAll lists the keys in creation order without key values", async () => {
  const keys = await user.apiKeys.fetchAll();
  assert.ok(Array.isArray(keys));
  assert.equal(keys.length, 2);
  assertListedKey(keys[0], { _id: key1._id, name: "my-key", disabled: false });
  assertListedKey(keys[1], { _id: key2._id, name: "second_key", disabled: false });
});

await check("fetch(id) returns the key without its value", async () => {
  assertListedKey(await user.apiKeys.fetch(key1._id), { _id: key1._id, name: "my-key", disabled: false });
});

await check("disable(id)", async () => {
  assert.equal(await user.apiKeys.disable(key1._id), undefined);
  assertListedKey(await user.apiKeys.fetch(key1._id), { _id: key1._id, name: "my-key", disabled: true });
});

await check("disable(id) again is a no-op", async () => {
  await user.apiKeys.disable(key1._id);
  assert.equal((await user.apiKeys.fetch(key1._id)).disabled, true);
});

await check("log in with a disabled key: 401 AuthError", async () => {
  await rejects(keyApp.logIn(Realm.Credentials.apiKey(key1.key)), {
    status: 401,
    code: "AuthError",
    error: "unauthorized",
  });
});

await check("enable(id)", async () => {
  assert.equal(await user.apiKeys.enable(key1._id), undefined);
  assertListedKey(await user.apiKeys.fetch(key1._id), { _id: key1._id, name: "my-key", disabled: false });
});

await check("enable(id) again is a no-op", async () => {
  await user.apiKeys.enable(key1._id);
  assert.equal((await user.apiKeys.fetch(key1._id)).disabled, false);
});

await check("log in with the key (second App) returns the same user with an api-key identity", async () => {
  keyUser = await keyApp.logIn(Realm.Credentials.apiKey(key1.key));
  assert.equal(keyUser.id, user.id);
  assert.equal(keyUser.providerType, "api-key");
  assert.equal(keyUser.profile.email, email);
  assert.ok(hasIdentity(keyUser, "api-key"), JSON.stringify(keyUser.identities));
  assert.ok(hasIdentity(keyUser, "local-userpass"), JSON.stringify(keyUser.identities));
  assert.notEqual(keyUser.refreshToken, user.refreshToken);
});

await check("the password session in the first App is intact", async () => {
  assert.equal(user.isLoggedIn, true);
  assert.equal((await user.apiKeys.fetchAll()).length, 2);
  await user.refreshProfile();
  assert.equal(user.profile.email, email);
});

await check("the key session works for its own user", async () => {
  await keyUser.refreshAccessToken();
  await keyUser.refreshProfile();
  assert.equal(decodeJwt(keyUser.accessToken).sub, user.id);
});

const keySessionRefused = { status: 403, code: "AuthError", error: "API key sessions cannot manage API keys" };

await check("the key session cannot list keys: 403 AuthError", async () => {
  await rejects(keyUser.apiKeys.fetchAll(), keySessionRefused);
});

await check("the key session cannot fetch a key: 403 AuthError", async () => {
  await rejects(keyUser.apiKeys.fetch(key1._id), keySessionRefused);
});

await check("the key session cannot create keys: 403 AuthError", async () => {
  await rejects(keyUser.apiKeys.create("from-key-session"), keySessionRefused);
});

await check("the key session cannot enable keys: 403 AuthError", async () => {
  await rejects(keyUser.apiKeys.enable(key2._id), keySessionRefused);
});

await check("the key session cannot disable keys: 403 AuthError", async () => {
  await rejects(keyUser.apiKeys.disable(key2._id), keySessionRefused);
});

await check("the key session cannot delete keys: 403 AuthError", async () => {
  await rejects(keyUser.apiKeys.delete(key1._id), keySessionRefused);
  assert.equal(keyUser.isLoggedIn, true, "a 403 must not log the key session out");
  assert.equal((await user.apiKeys.fetchAll()).length, 2);
});

await check("disabling the key ends its session: refresh-token call gives 401 InvalidSession", async () => {
  await user.apiKeys.disable(key1._id);
  await rejects(keyUser.apiKeys.fetchAll(), { status: 401, code: "InvalidSession" });
  assert.equal(keyUser.isLoggedIn, false, "realm-web logs the key user out after a 401 on the refresh token");
  assert.equal(user.isLoggedIn, true, "the password session stays");
});

await check("deleting a key ends its session too", async () => {
  const app3 = newApp();
  const tmp = await user.apiKeys.create("short-lived");
  const tmpUser = await app3.logIn(Realm.Credentials.apiKey(tmp.key));
  assert.equal(tmpUser.id, user.id);
  await user.apiKeys.delete(tmp._id);
  await rejects(tmpUser.refreshAccessToken(), { status: 401, code: "InvalidSession" });
  assert.equal(tmpUser.isLoggedIn, false);
});

await check("delete(id)", async () => {
  assert.equal(await user.apiKeys.delete(key1._id), undefined);
});

await check("fetch(id) of a deleted key: 404 APIKeyNotFound", async () => {
  await rejects(user.apiKeys.fetch(key1._id), { status: 404, code: "APIKeyNotFound", error: "API key not found" });
});

await check("enable, disable and delete of a deleted key: 404 APIKeyNotFound", async () => {
  const notFound = { status: 404, code: "APIKeyNotFound", error: "API key not found" };
  await rejects(user.apiKeys.enable(key1._id), notFound);
  await rejects(user.apiKeys.disable(key1._id), notFound);
  await rejects(user.apiKeys.delete(key1._id), notFound);
  assert.equal(user.isLoggedIn, true, "a 404 must not log the user out");
});

await check("fetch of a malformed or unknown id: 404 APIKeyNotFound", async () => {
  const notFound = { status: 404, code: "APIKeyNotFound", error: "API key not found" };
  await rejects(user.apiKeys.fetch("not-an-object-id"), notFound);
  await rejects(user.apiKeys.fetch("0123456789abcdef01234567"), notFound);
});

await check("fetchAll no longer lists the deleted key", async () => {
  const keys = await user.apiKeys.fetchAll();
  assert.equal(keys.length, 1);
  assertListedKey(keys[0], { _id: key2._id, name: "second_key", disabled: false });
});

await check("log in with a deleted key: 401 AuthError", async () => {
  await rejects(newApp().logIn(Realm.Credentials.apiKey(key1.key)), {
    status: 401,
    code: "AuthError",
    error: "unauthorized",
  });
});

await check("log in with an unknown key: 401 AuthError", async () => {
  await rejects(newApp().logIn(Realm.Credentials.apiKey(randomBytes(32).toString("hex"))), {
    status: 401,
    code: "AuthError",
    error: "unauthorized",
  });
});

await check('invalid name "My cool key": 400 InvalidParameter', async () => {
  await rejects(user.apiKeys.create("My cool key"), { status: 400, code: "InvalidParameter", error: INVALID_NAME });
});

await check('invalid name "%s": 400 InvalidParameter', async () => {
  await rejects(user.apiKeys.create("%s"), { status: 400, code: "InvalidParameter", error: INVALID_NAME });
});

await check("empty name: 400 without error_code", async () => {
  await rejects(user.apiKeys.create(""), { status: 400, code: undefined, error: "'name' is a required string" });
});

await check("duplicate name: 409 APIKeyAlreadyExists", async () => {
  await rejects(user.apiKeys.create("second_key"), {
    status: 409,
    code: "APIKeyAlreadyExists",
    error: "API key with name already exists",
  });
});

await check("a 65-character name: 400 InvalidParameter", async () => {
  await rejects(user.apiKeys.create("k".repeat(65)), {
    status: 400,
    code: "InvalidParameter",
    error: "name must be at most 64 characters",
  });
});

await check("a 64-character name is accepted", async () => {
  const long = await user.apiKeys.create("k".repeat(64));
  assert.equal(long.name, "k".repeat(64));
  await user.apiKeys.delete(long._id);
});

let capKeys;
await check("20 keys can be created, the 21st: 400 InvalidParameter", async () => {
  const existing = await user.apiKeys.fetchAll();
  for (let i = existing.length; i < 20; i++) {
    await user.apiKeys.create(`cap-${String(i).padStart(2, "0")}`);
  }
  await rejects(user.apiKeys.create("one-too-many"), {
    status: 400,
    code: "InvalidParameter",
    error: "user already has the maximum of 20 API keys",
  });
  assert.equal(user.isLoggedIn, true);
  capKeys = await user.apiKeys.fetchAll();
  assert.equal(capKeys.length, 20);
  assert.equal(capKeys[0]._id, key2._id);
  const names = capKeys.slice(1).map((k) => k.name);
  assert.deepEqual(names, [...names].sort(), "creation order");
  for (const k of capKeys) assert.ok(!("key" in k));
});

await check("deleting a key frees a slot under the cap", async () => {
  await user.apiKeys.delete(capKeys[capKeys.length - 1]._id);
  const again = await user.apiKeys.create("cap-again");
  assert.equal(again.disabled, false);
  const keys = await user.apiKeys.fetchAll();
  assert.equal(keys.length, 20);
  assert.equal(keys[19]._id, again._id);
});

// --- another user ---------------------------------------------------------------------------

const bobApp = newApp();
const bobEmail = `bob-${run}@example.com`;
let bob;

await check("a second email user logs in", async () => {
  await bobApp.emailPasswordAuth.registerUser({ email: bobEmail, password });
  bob = await bobApp.logIn(Realm.Credentials.emailPassword(bobEmail, password));
  assert.match(bob.id, HEX24);
  assert.notEqual(bob.id, user.id);
});

await check("another user's key is invisible: fetch gives 404 APIKeyNotFound", async () => {
  await rejects(bob.apiKeys.fetch(key2._id), { status: 404, code: "APIKeyNotFound", error: "API key not found" });
});

await check("another user's key cannot be enabled, disabled or deleted: 404", async () => {
  const notFound = { status: 404, code: "APIKeyNotFound", error: "API key not found" };
  await rejects(bob.apiKeys.disable(key2._id), notFound);
  await rejects(bob.apiKeys.enable(key2._id), notFound);
  await rejects(bob.apiKeys.delete(key2._id), notFound);
  assert.equal((await user.apiKeys.fetch(key2._id)).disabled, false, "the owner's key is untouched");
});

await check("the second user's fetchAll is []", async () => {
  assert.deepEqual(await bob.apiKeys.fetchAll(), []);
});

// --- anonymous user -------------------------------------------------------------------------

await check("an anonymous user cannot create API keys: 403 AuthError", async () => {
  const anonApp = newApp();
  const anon = await anonApp.logIn(Realm.Credentials.anonymous());
  assert.match(anon.id, HEX24);
  assert.ok(hasIdentity(anon, "anon-user"), JSON.stringify(anon.identities));
  await rejects(anon.apiKeys.create("anon-key"), {
    status: 403,
    code: "AuthError",
    error: "anonymous users cannot create API keys",
  });
  assert.equal(anon.isLoggedIn, true);
});

// --- identity linking -----------------------------------------------------------------------

const linkEmail = `linked-${run}@example.com`;
let linked; // an anonymous user that links email/password credentials

await check("an anonymous user links email/password credentials and keeps its id", async () => {
  const linkApp = newApp();
  linked = await linkApp.logIn(Realm.Credentials.anonymous());
  const anonId = linked.id;
  assert.deepEqual(linked.identities.map((i) => i.providerType), ["anon-user"]);
  await linkApp.emailPasswordAuth.registerUser({ email: linkEmail, password });
  await linked.linkCredentials(Realm.Credentials.emailPassword(linkEmail, password));
  assert.equal(linked.id, anonId);
  assert.deepEqual(linked.identities.map((i) => i.providerType), ["anon-user", "local-userpass"]);
  assert.equal(linked.profile.email, linkEmail);
  assert.equal(decodeJwt(linked.accessToken).sub, anonId);
  // realm-web keeps the provider type it logged in with: it is the SDK's own record, never
  // re-read from the server.
  assert.equal(linked.providerType, "anon-user");
  assert.equal(linked.isLoggedIn, true);
});

await check("the linked user may create API keys with its anonymous session", async () => {
  const k = await linked.apiKeys.create("after-link");
  assert.match(k._id, HEX24);
  await linked.apiKeys.delete(k._id);
});

await check("the linked email logs in as the same user", async () => {
  const again = await newApp().logIn(Realm.Credentials.emailPassword(linkEmail, password));
  assert.equal(again.id, linked.id);
  assert.equal(again.profile.email, linkEmail);
});

await check("linking an email another user has used: 409 AccountNameInUse", async () => {
  const anon = await newApp().logIn(Realm.Credentials.anonymous());
  await rejects(anon.linkCredentials(Realm.Credentials.emailPassword(bobEmail, password)), {
    status: 409,
    code: "AccountNameInUse",
    error: "name already in use",
  });
  assert.deepEqual(anon.identities.map((i) => i.providerType), ["anon-user"]);
});

await check("linking with a wrong password: 401 InvalidPassword, sent once", async () => {
  const anon = await newApp().logIn(Realm.Credentials.anonymous());
  const email = `wrong-link-${run}@example.com`;
  await app.emailPasswordAuth.registerUser({ email, password });
  // realm-web sends an access-token request again, without bound, after a 401 whose error
  // is "unauthorized": the link's refusal must say something else.
  await rejects(anon.linkCredentials(Realm.Credentials.emailPassword(email, "wrong password!")), {
    status: 401,
    code: "InvalidPassword",
    error: "invalid username/password",
  });
  assert.equal(anon.isLoggedIn, true, "a refused link keeps the user logged in");
  await anon.linkCredentials(Realm.Credentials.emailPassword(email, password));
  assert.deepEqual(anon.identities.map((i) => i.providerType), ["anon-user", "local-userpass"]);
});

await check("linking a second email/password identity: 500 InternalServerError", async () => {
  const email = `second-${run}@example.com`;
  await app.emailPasswordAuth.registerUser({ email, password });
  await rejects(linked.linkCredentials(Realm.Credentials.emailPassword(email, password)), {
    status: 500,
    code: "InternalServerError",
    error: "linking a local-userpass identity is not allowed",
  });
  assert.equal(linked.profile.email, linkEmail);
});

await check("linking anonymous credentials: 500 InternalServerError", async () => {
  await rejects(linked.linkCredentials(Realm.Credentials.anonymous()), {
    status: 500,
    code: "InternalServerError",
    error: "linking an anonymous identity is not allowed",
  });
});

await check("linking API key credentials: 400 BadRequest", async () => {
  await rejects(linked.linkCredentials(Realm.Credentials.apiKey(key2.key)), {
    status: 400,
    code: "BadRequest",
    error: "API key credentials cannot be linked: a key logs in as its owner",
  });
  await linked.logOut();
});

// --- tokens ---------------------------------------------------------------------------------

await check("refreshCustomData refreshes the access token", async () => {
  const data = await user.refreshCustomData();
  assert.deepEqual(data, {});
  const claims = decodeJwt(user.accessToken);
  assert.equal(claims.sub, user.id);
  assert.ok(Number.isInteger(claims.iat) && Number.isInteger(claims.exp), "integer iat/exp");
  assert.equal(claims.exp - claims.iat, 30 * 60, "access token lives 30 minutes");
});

await check("refreshAccessToken issues a new access token", async () => {
  await user.refreshAccessToken();
  assert.equal(decodeJwt(user.accessToken).sub, user.id);
});

await check("an invalid access token is refreshed and the call retried", async () => {
  const [h, p] = user.accessToken.split(".");
  const broken = `${h}.${p}.${Buffer.from("not the signature").toString("base64url")}`;
  user.accessToken = broken;
  await user.refreshProfile();
  assert.notEqual(user.accessToken, broken);
  assert.equal(user.profile.email, email);
});

await check("a refresh token used as access token is refreshed and the call retried", async () => {
  user.accessToken = user.refreshToken;
  await user.refreshProfile();
  assert.notEqual(user.accessToken, user.refreshToken);
  assert.equal(decodeJwt(user.accessToken).sub, user.id);
});

// --- custom user data -----------------------------------------------------------------------
// An admin sets the user's custom data through the admin API; realm-web's refreshCustomData
// (a token refresh) returns it and customData (the access token's user_data) shows it.

let admin; // { customDataUrl(userId) }

await check("admin API: log in and find the group", async () => {
  const { app: appURL } = await adminLogin();
  admin = { customDataUrl: (id) => `${appURL}/users/${id}/custom_data` };
});

await check("customData is {} before any is set", async () => {
  assert.deepEqual(user.customData, {});
  assert.deepEqual((await adminFetch("GET", admin.customDataUrl(user.id))).body, {});
});

const customData = { plan: "pro", seats: 5, tags: ["beta"], limits: { storageGB: 1.5 } };

await check("an admin sets custom data: refreshCustomData returns it, customData shows it", async () => {
  assert.equal((await adminFetch("PUT", admin.customDataUrl(user.id), customData)).status, 204);
  assert.deepEqual(user.customData, {}, "the current access token still carries the old data");
  const data = await user.refreshCustomData();
  assert.deepEqual(data, customData);
  assert.deepEqual(user.customData, customData);
  assert.deepEqual(decodeJwt(user.accessToken).user_data, customData);
  assert.deepEqual((await adminFetch("GET", admin.customDataUrl(user.id))).body, customData);
});

await check("a new login carries the custom data too", async () => {
  const other = await newApp().logIn(Realm.Credentials.emailPassword(email, password));
  assert.deepEqual(other.customData, customData);
  await other.logOut();
});

await check("another user's customData is untouched", async () => {
  assert.deepEqual(await bob.refreshCustomData(), {});
});

await check("bad custom data: 400 InvalidParameter or BadRequest, 404 UserNotFound; nothing changes", async () => {
  for (const [body, status, code] of [
    ["[1]", 400, "InvalidParameter"],
    ["null", 400, "InvalidParameter"],
    ['{"a":"\\u0000"}', 400, "InvalidParameter"],
    [JSON.stringify({ s: "x".repeat(16 * 1024) }), 400, "InvalidParameter"],
    ['{"a":', 400, "BadRequest"],
  ]) {
    const res = await adminFetch("PUT", admin.customDataUrl(user.id), body);
    assert.equal(res.status, status, body.slice(0, 40));
    assert.equal(res.body.error_code, code, body.slice(0, 40));
  }
  const missing = await adminFetch("PUT", admin.customDataUrl("000000000000000000000000"), { a: 1 });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error_code, "UserNotFound");
  assert.deepEqual(await user.refreshCustomData(), customData);
});

await check("an empty object clears it: refreshCustomData returns {}", async () => {
  assert.equal((await adminFetch("PUT", admin.customDataUrl(user.id), {})).status, 204);
  assert.deepEqual(await user.refreshCustomData(), {});
  assert.deepEqual(user.customData, {});
  assert.equal((await adminFetch("PUT", admin.customDataUrl(user.id), customData)).status, 204);
  assert.equal((await adminFetch("DELETE", admin.customDataUrl(user.id))).status, 204);
  assert.deepEqual(await user.refreshCustomData(), {});
});

// --- log out, delete ------------------------------------------------------------------------

await check("user.logOut()", async () => {
  await user.logOut();
  assert.equal(user.isLoggedIn, false);
  assert.equal(user.refreshToken, null);
  assert.equal(app.currentUser, null);
});

await check("app.deleteUser(user)", async () => {
  user = await app.logIn(Realm.Credentials.emailPassword(email, password));
  assert.equal(app.currentUser, user);
  await app.deleteUser(user);
  assert.equal(user.state, "removed");
  assert.equal(app.currentUser, null);
});

await check("log in as the deleted user: 401 InvalidPassword", async () => {
  await rejects(app.logIn(Realm.Credentials.emailPassword(email, password)), {
    status: 401,
    code: "InvalidPassword",
    error: "unauthorized",
  });
});

await check("the deleted user's keys are gone: key login gives 401 AuthError", async () => {
  await rejects(newApp().logIn(Realm.Credentials.apiKey(key2.key)), {
    status: 401,
    code: "AuthError",
    error: "unauthorized",
  });
});

await check("the other user is unaffected", async () => {
  await bob.refreshAccessToken();
  assert.deepEqual(await bob.apiKeys.fetchAll(), []);
  await bob.logOut();
});

summary();
