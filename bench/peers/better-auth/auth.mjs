// The Better Auth instance that bench/run measures beside Latchkey: email/password and the
// API-key plugin, over PostgreSQL through pg. Shared by server.mjs (each worker makes one)
// and seed.mjs.
//
// Environment: BA_DATABASE_URL (PostgreSQL, a database of its own), BA_SECRET (at least 32
// bytes), BA_PORT (the port server.mjs listens on; the base URL and the trusted origin),
// BA_POOL (pg connections per process, default 5: two workers hold 10, as Latchkey's
// pool does).
import { apiKey } from "@better-auth/api-key";
import { betterAuth } from "better-auth";
import pg from "pg";

export const port = Number(process.env.BA_PORT || 19093);
export const baseURL = `http://127.0.0.1:${port}`;

export function makeAuth() {
	const url = process.env.BA_DATABASE_URL;
	if (!url) throw new Error("BA_DATABASE_URL is not set");
	const secret = process.env.BA_SECRET;
	if (!secret || secret.length < 32) throw new Error("BA_SECRET must hold at least 32 bytes");
	return betterAuth({
		database: new pg.Pool({ connectionString: url, max: Number(process.env.BA_POOL || 5) }),
		secret,
		baseURL,
		trustedOrigins: [baseURL],
		emailAndPassword: { enabled: true },
		// One load generator on one address is not an abuser: the per-address limits are
		// off, as Latchkey's are in bench/run.
		rateLimit: { enabled: false },
		telemetry: { enabled: false },
		logger: { level: "error", disabled: process.env.BA_QUIET === "1" },
		plugins: [
			apiKey([
				// The keys of the verify, list and create/delete rows: no key rate limiting.
				{ configId: "default", rateLimit: { enabled: false } },
				// The keys of the verify-ratelimited row: a limit no run reaches, so that the
				// row measures what the limiter costs.
				{ configId: "limited", rateLimit: { enabled: true, timeWindow: 60_000, maxRequests: 10_000_000 } },
			]),
		],
	});
}
