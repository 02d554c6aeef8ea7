// Better Auth behind node:http, in BA_WORKERS (default 2) node:cluster workers sharing one
// port, for bench/run. Every /api/auth/* request goes to Better Auth's own handler. Better
// Auth's key verification is a server-only call (auth.api.verifyApiKey, not an HTTP
// route), so POST /verify {"key": "…"} stands for an app backend's route that verifies a
// key: it answers what verifyApiKey returns ({"valid": true|false, …}).
import cluster from "node:cluster";
import http from "node:http";
import { toNodeHandler } from "better-auth/node";
import { makeAuth, port } from "./auth.mjs";

const workers = Number(process.env.BA_WORKERS || 2);

if (cluster.isPrimary) {
	let stopping = false;
	for (let i = 0; i < workers; i++) cluster.fork();
	cluster.on("exit", (w, code, signal) => {
		if (stopping) return;
		console.error(`better-auth peer: worker ${w.process.pid} ended (${signal || code}); stopping`);
		stopping = true;
		for (const id in cluster.workers) cluster.workers[id].kill();
		process.exitCode = 1;
	});
	for (const sig of ["SIGTERM", "SIGINT"]) {
		process.on(sig, () => {
			stopping = true;
			for (const id in cluster.workers) cluster.workers[id].kill();
		});
	}
} else {
	const auth = makeAuth();
	const handler = toNodeHandler(auth);
	const json = (res, status, body) => {
		const b = JSON.stringify(body);
		res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(b) });
		res.end(b);
	};
	http
		.createServer((req, res) => {
			if (req.url === "/verify" && req.method === "POST") {
				const chunks = [];
				req.on("data", (c) => chunks.push(c));
				req.on("end", async () => {
					let key;
					try {
						key = JSON.parse(Buffer.concat(chunks).toString()).key;
					} catch {
						return json(res, 400, { error: "bad body" });
					}
					if (typeof key !== "string") return json(res, 400, { error: "no key" });
					try {
						json(res, 200, await auth.api.verifyApiKey({ body: { key } }));
					} catch (err) {
						json(res, 500, { error: String(err?.message || err) });
					}
				});
				return;
			}
			if (req.url === "/healthz") return json(res, 200, { ok: true });
			handler(req, res);
		})
		.listen(port, "127.0.0.1");
}
