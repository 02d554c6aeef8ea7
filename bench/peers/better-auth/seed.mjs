// Seeds the Better Auth peer for bench/run, through Better Auth itself so that every row is
// one it wrote (scrypt password hashes, SHA-256 key hashes): creates its tables, then
//   - BA_PASSWORD_USERS (default 64) email/password users bench-N@example.com, each signed
//     in once (their session cookies go to OUT/cookies.txt) and given 5 keys;
//   - BA_USERS (default 2000) users with 5 keys each (OUT/keys.txt, one value a line);
//   - BA_LIMITED_USERS (default 2000) more with 5 keys each of the "limited" configuration,
//     whose rate limit no run reaches (OUT/limited_keys.txt).
// Usage: node seed.mjs OUT   (the files are written with mode 0600)
import { writeFileSync } from "node:fs";
import { getMigrations } from "better-auth/db/migration";
import { baseURL, makeAuth } from "./auth.mjs";

const out = process.argv[2];
if (!out) throw new Error("usage: node seed.mjs OUTDIR");
const passwordUsers = Number(process.env.BA_PASSWORD_USERS ?? 64);
const users = Number(process.env.BA_USERS ?? 2000);
const limitedUsers = Number(process.env.BA_LIMITED_USERS ?? 2000);
const password = process.env.BA_PASSWORD || "bench-password";

const auth = makeAuth();
const { runMigrations } = await getMigrations(auth.options);
await runMigrations();
const ctx = await auth.$context;
const start = Date.now();

// keys creates n keys for the user, as the app's backend would (server-side, by user id).
async function keys(userId, n, extra = {}) {
	const values = [];
	for (let i = 0; i < n; i++) {
		const k = await auth.api.createApiKey({ body: { userId, name: `seed-${i}`, ...extra } });
		values.push(k.key);
	}
	return values;
}

// inParallel runs job(i) for i below n, `width` at a time, and returns the results in order.
async function inParallel(n, width, job) {
	const results = new Array(n);
	let next = 0;
	await Promise.all(
		Array.from({ length: width }, async () => {
			while (next < n) {
				const i = next++;
				results[i] = await job(i);
			}
		}),
	);
	return results;
}

const cookies = await inParallel(passwordUsers, 4, async (i) => {
	const email = `bench-${i}@example.com`;
	const up = await auth.api.signUpEmail({ body: { email, password, name: `bench ${i}` } });
	await keys(up.user.id, 5);
	const { headers } = await auth.api.signInEmail({
		body: { email, password },
		headers: new Headers({ origin: baseURL }),
		returnHeaders: true,
	});
	const cookie = (headers.get("set-cookie") || "").match(/(?:^|,\s*)((?:__Secure-)?better-auth\.session_token=[^;]+)/);
	if (!cookie) throw new Error(`no session cookie for ${email}`);
	return cookie[1];
});

async function keyUsers(n, name, extra) {
	const lists = await inParallel(n, 8, async (i) => {
		const u = await ctx.internalAdapter.createUser({ email: `${name}-${i}@example.com`, name: `${name} ${i}`, emailVerified: true });
		return keys(u.id, 5, extra);
	});
	return lists.flat();
}
const plain = await keyUsers(users, "key");
const limited = await keyUsers(limitedUsers, "limited", { configId: "limited", rateLimitEnabled: true, rateLimitTimeWindow: 60_000, rateLimitMax: 10_000_000 });

const write = (file, lines) => writeFileSync(`${out}/${file}`, lines.join("\n") + "\n", { mode: 0o600 });
write("cookies.txt", cookies);
write("keys.txt", plain);
write("limited_keys.txt", limited);
console.error(
	`better-auth seed: ${passwordUsers} password users, ${plain.length} keys, ${limited.length} rate-limited keys in ${((Date.now() - start) / 1000).toFixed(1)} s`,
);
process.exit(0);
