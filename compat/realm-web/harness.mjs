// What the realm-web flows share: the server they run against, their checks and summary, the
// in-memory storage realm-web needs in Node, the shape of the SDK's errors, and the admin API.
//
// Each flow prints "ok - <check>" per check and "N passed, 0 failed" at the end (summary);
// on the first failure it prints "not ok - <check>: <error>" and exits 1.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as Realm from "realm-web";

export const baseUrl = (process.env.LATCHKEY_URL || "").replace(/\/+$/, "");
export const appId = process.env.LATCHKEY_APP_ID || "";
if (!baseUrl || !appId) {
  console.log("not ok - setup: LATCHKEY_URL and LATCHKEY_APP_ID must be set");
  process.exit(1);
}

export const HEX24 = /^[0-9a-f]{24}$/;
export const run = randomBytes(4).toString("hex"); // keeps names unique if the data dir is reused

let passed = 0;

// check runs one named check; the first that fails ends the flow.
export async function check(name, fn) {
  try {
    await fn();
  } catch (err) {
    const detail =
      err instanceof Realm.MongoDBRealmError
        ? `${err.message} [statusCode=${err.statusCode} errorCode=${err.errorCode} error=${JSON.stringify(err.error)}]`
        : err && err.stack
          ? err.stack
          : String(err);
    console.log(`not ok - ${name}: ${detail}`);
    process.exit(1);
  }
  passed++;
  console.log(`ok - ${name}`);
}

// summary prints the line the Go side looks for and ends the flow.
export function summary() {
  console.log(`${passed} passed, 0 failed`);
  process.exit(0);
}

// MemoryStorage is an in-memory storage with the interface realm-web expects; each App gets its
// own, so that sessions of the same user in different Apps do not overwrite each other.
export class MemoryStorage {
  constructor(items = {}, keyPart = "") {
    this.items = items;
    this.keyPart = keyPart;
  }
  full(key) {
    return this.keyPart ? `${this.keyPart}:${key}` : key;
  }
  get(key) {
    return this.full(key) in this.items ? this.items[this.full(key)] : null;
  }
  set(key, value) {
    this.items[this.full(key)] = value;
  }
  remove(key) {
    delete this.items[this.full(key)];
  }
  prefix(keyPart) {
    return new MemoryStorage(this.items, this.full(keyPart));
  }
  clear(prefix = "") {
    for (const key of Object.keys(this.items)) {
      if (key.startsWith(this.full(prefix))) delete this.items[key];
    }
  }
  addListener() {}
  removeListener() {}
}

export function newApp() {
  return new Realm.App({ id: appId, baseUrl, storage: new MemoryStorage() });
}

// rejects awaits a promise that must reject with a MongoDBRealmError of the given shape; error
// is the exact message or a RegExp it must match.
export async function rejects(promise, { status, code, error }) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  if (err === undefined) {
    assert.fail(`expected a ${status} ${code ?? "(no error_code)"} error, but the call succeeded`);
  }
  if (!(err instanceof Realm.MongoDBRealmError)) throw err;
  assert.equal(err.statusCode, status, `statusCode (${err.message})`);
  assert.equal(err.errorCode, code, `errorCode (${err.message})`);
  if (error instanceof RegExp) assert.match(err.error, error, `error (${err.message})`);
  else if (error !== undefined) assert.equal(err.error, error, `error (${err.message})`);
  assert.equal(typeof err.link, "string", "link is a string");
  // What the SDK test suites check (NET/DART: contains "logs?co_id="; core: contains the base URL).
  // The /app/<app_id>/ part is left out: a request whose token names no live session has no app.
  assert.ok(err.link.startsWith(`${baseUrl}/`) && err.link.includes("logs?co_id="), `link ${JSON.stringify(err.link)}`);
  return err;
}

export function decodeJwt(token) {
  const parts = token.split(".");
  assert.equal(parts.length, 3, "JWT has three parts");
  return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
}

// --- the admin API ----------------------------------------------------------------------------

const adminBase = `${baseUrl}/api/admin/v3.0`;
let adminToken = "";

// adminLogin signs in as the admin of LATCHKEY_ADMIN_EMAIL and LATCHKEY_ADMIN_PASSWORD and
// returns the token and the app's admin URL; adminFetch then calls as that admin.
export async function adminLogin() {
  const email = process.env.LATCHKEY_ADMIN_EMAIL || "";
  const password = process.env.LATCHKEY_ADMIN_PASSWORD || "";
  assert.ok(email && password, "LATCHKEY_ADMIN_EMAIL and LATCHKEY_ADMIN_PASSWORD must be set");
  const res = await fetch(`${adminBase}/auth/providers/local-userpass/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: email, password }),
  });
  assert.equal(res.status, 200);
  const { access_token: token } = await res.json();
  const profile = await (await fetch(`${adminBase}/auth/profile`, { headers: { Authorization: `Bearer ${token}` } })).json();
  const group = profile.roles[0].group_id;
  adminToken = token;
  return { token, app: `${adminBase}/groups/${group}/apps/${appId}` };
}

// adminFetch calls the admin API and returns the status, the parsed body and its text.
export async function adminFetch(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      assert.fail(`${method} ${url}: ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
  }
  return { status: res.status, body: parsed, text };
}
