"use strict";
// The reference workload: the smoke contract (docs/app.md) and nothing else, on Node built-ins only.
// It runs on a stock node:24-alpine image with this file mounted from a ConfigMap, as a non-root
// user on a read-only root filesystem, so it has no dependencies and writes nothing to disk.
//
// Configuration (environment):
//   PORT            listen port (default 8080; 0 = any free port, printed at start)
//   APP_VERSION     what /api/version reports as .version (the release being deployed)
//   RELEASE_COMMIT  what /api/version reports as .commit
//   APP_ENV         dev | staging | prod
//   DB_HOST         PostgreSQL host that /api/db-status checks
//   DB_PORT         PostgreSQL port (default 5432)
//   FLAGS_FILE      JSON file (from a ConfigMap) of flag name -> boolean, served by /api/flags

const http = require("node:http");
const net = require("node:net");
const fs = require("node:fs");

const BODY_LIMIT_BYTES = 64 * 1024;
const DB_CHECK_TIMEOUT_MS = 2000;
// After SIGTERM, requests in flight get this long to finish before their connections are cut.
// It stays below Kubernetes' default terminationGracePeriodSeconds (30 s).
const SHUTDOWN_GRACE_MS = 20000;
const ENVIRONMENTS = ["dev", "staging", "prod"];

// PostgreSQL's SSLRequest: int32 length (8) then int32 code 80877103 (1234 << 16 | 5679).
// A PostgreSQL server answers it with exactly one byte, 'S' (will do TLS) or 'N' (will not),
// before any authentication: so the check proves a PostgreSQL server is there without needing a
// password, and a TCP listener that is not PostgreSQL fails it.
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

function fail(message) {
  process.stderr.write(`server: ${message}\n`);
  process.exit(1);
}

function parsePort(name, raw, fallback) {
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    fail(`${name} must be an integer from 0 to 65535, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

// Flags are read once, at start. A pod whose flags file is missing or malformed exits non-zero
// instead of running with an empty set: running with every flag silently off is exactly the
// "on in staging, off in prod" failure this project exists to stop, while a crash-looping pod
// fails the rollout and the smoke test where someone sees it. Reading once also means a flag
// changes only through a rollout (a new ConfigMap, a new pod template), never under running pods.
// With FLAGS_FILE unset the app has no flags: that is a choice, not an accident.
function loadFlags(file) {
  if (file === undefined || file === "") return {};
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    fail(`cannot read FLAGS_FILE ${file}: ${err.code || err.message}`);
  }
  let flags;
  try {
    flags = JSON.parse(text);
  } catch (err) {
    fail(`FLAGS_FILE ${file} is not valid JSON: ${err.message}`);
  }
  if (flags === null || typeof flags !== "object" || Array.isArray(flags)) {
    fail(`FLAGS_FILE ${file} must hold a JSON object of flag name -> boolean`);
  }
  for (const [name, value] of Object.entries(flags)) {
    if (typeof value !== "boolean") {
      fail(
        `FLAGS_FILE ${file}: flag ${JSON.stringify(name)} must be true or false, got ${typeof value}`,
      );
    }
  }
  return flags;
}

function loadConfig(env) {
  const appEnv = env.APP_ENV === undefined || env.APP_ENV === "" ? null : env.APP_ENV;
  if (appEnv !== null && !ENVIRONMENTS.includes(appEnv)) {
    fail(`APP_ENV must be one of ${ENVIRONMENTS.join(", ")}, got ${JSON.stringify(appEnv)}`);
  }
  return {
    port: parsePort("PORT", env.PORT, 8080),
    // Unset values are reported as null, never a made-up default: a smoke test expecting a
    // release must see that the pod does not know which release it is.
    version: env.APP_VERSION || null,
    commit: env.RELEASE_COMMIT || null,
    environment: appEnv,
    dbHost: env.DB_HOST || null,
    dbPort: parsePort("DB_PORT", env.DB_PORT, 5432),
    flags: Object.freeze(loadFlags(env.FLAGS_FILE)),
  };
}

/**
 * Asks host:port whether it is PostgreSQL, with an SSLRequest. Resolves (never rejects) to
 * { connected: true, ssl } or { connected: false, reason }. Reasons carry no secret: the app
 * never has the database password.
 */
function checkPostgres(host, port, timeoutMs) {
  return new Promise((resolve) => {
    let settled = false;
    const socket = net.connect({ host, port });
    const done = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ connected: false, reason: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once("connect", () => socket.write(SSL_REQUEST));
    socket.once("data", (chunk) => {
      const answer = chunk[0];
      // A real server sends the one byte and then waits for us; anything after it is not
      // PostgreSQL (or is someone injecting data ahead of a TLS handshake).
      if (chunk.length !== 1) {
        done({ connected: false, reason: "unexpected answer to SSLRequest: not PostgreSQL" });
      } else if (answer === 0x53 /* S */ || answer === 0x4e /* N */) {
        done({ connected: true, ssl: answer === 0x53 });
      } else {
        done({
          connected: false,
          reason: `unexpected answer to SSLRequest (0x${answer.toString(16).padStart(2, "0")}): not PostgreSQL`,
        });
      }
    });
    socket.once("end", () =>
      done({ connected: false, reason: "connection closed before an answer" }),
    );
    socket.once("close", () =>
      done({ connected: false, reason: "connection closed before an answer" }),
    );
    socket.once("error", (err) => {
      const reasons = {
        ECONNREFUSED: "connection refused",
        ECONNRESET: "connection reset",
        ENOTFOUND: "host not found",
        EAI_AGAIN: "host name lookup failed",
        EHOSTUNREACH: "host unreachable",
        ENETUNREACH: "network unreachable",
        ETIMEDOUT: "connection timed out",
      };
      done({
        connected: false,
        reason: reasons[err.code] || `connection failed (${err.code || "error"})`,
      });
    });
  });
}

function sendJson(res, status, body, headers = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(payload),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(payload);
}

// Reads the body up to BODY_LIMIT_BYTES. Resolves to a Buffer, or to null after having answered
// 413 itself. The rest of an oversized body is left to Node, which discards it; "Connection:
// close" then stops the client from reusing a connection that still has its body in flight.
function readBody(req, res) {
  return new Promise((resolve, reject) => {
    const tooLarge = () => {
      sendJson(
        res,
        413,
        { success: false, error: `body larger than ${BODY_LIMIT_BYTES} bytes` },
        {
          Connection: "close",
        },
      );
      resolve(null);
    };
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > BODY_LIMIT_BYTES) return tooLarge();
    const chunks = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk) => {
      if (over) return;
      size += chunk.length;
      if (size > BODY_LIMIT_BYTES) {
        over = true;
        tooLarge();
      } else {
        chunks.push(chunk);
      }
    });
    req.on("end", () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
  });
}

function createApp(config) {
  const routes = {
    "/healthz": {
      // Liveness and readiness: never touches the database, so a database outage does not
      // make Kubernetes restart every pod or pull them all out of the Service.
      GET: (_req, res) => sendJson(res, 200, { status: "ok" }),
    },
    "/api/version": {
      GET: (_req, res) =>
        sendJson(res, 200, {
          version: config.version,
          commit: config.commit,
          environment: config.environment,
        }),
    },
    "/api/db-status": {
      // Always 200, with the verdict in .connected: the endpoint itself worked, and the smoke
      // checker decides what a disconnected database means. A 503 here would be
      // indistinguishable from the pod (or the Service in front of it) being unavailable.
      GET: async (_req, res) => {
        const target = { host: config.dbHost, port: config.dbPort };
        if (config.dbHost === null) {
          return sendJson(res, 200, { connected: false, ...target, reason: "DB_HOST is not set" });
        }
        const result = await checkPostgres(config.dbHost, config.dbPort, DB_CHECK_TIMEOUT_MS);
        return sendJson(res, 200, { ...result, ...target });
      },
    },
    "/api/test-action": {
      POST: async (req, res) => {
        const body = await readBody(req, res);
        if (body === null) return undefined;
        let parsed;
        try {
          parsed = JSON.parse(body.toString("utf8"));
        } catch {
          return sendJson(res, 400, { success: false, error: "body is not valid JSON" });
        }
        if (parsed === null || typeof parsed !== "object" || parsed.test !== true) {
          return sendJson(res, 400, {
            success: false,
            error: 'body must be a JSON object with "test": true',
          });
        }
        return sendJson(res, 200, { success: true });
      },
    },
    "/api/flags": {
      GET: (_req, res) => sendJson(res, 200, config.flags),
    },
  };

  return async (req, res) => {
    const started = process.hrtime.bigint();
    // Only the path is logged and routed on: a query string may carry anything.
    const pathname = (req.url || "/").split("?")[0];
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      process.stdout.write(
        `${JSON.stringify({
          time: new Date().toISOString(),
          method: req.method,
          path: pathname,
          status: res.statusCode,
          ms: Math.round(ms * 100) / 100,
        })}\n`,
      );
    });
    try {
      const route = Object.prototype.hasOwnProperty.call(routes, pathname)
        ? routes[pathname]
        : undefined;
      if (route === undefined) {
        return sendJson(res, 404, { error: `no route for ${pathname}` });
      }
      // HEAD is GET without a body (Node drops the body for HEAD responses).
      const method = req.method === "HEAD" && route.GET ? "GET" : req.method;
      const handler = Object.prototype.hasOwnProperty.call(route, method)
        ? route[method]
        : undefined;
      if (handler === undefined) {
        const allow = Object.keys(route).flatMap((m) => (m === "GET" ? ["GET", "HEAD"] : [m]));
        return sendJson(
          res,
          405,
          { error: `method ${req.method} not allowed on ${pathname}` },
          {
            Allow: allow.join(", "),
          },
        );
      }
      return await handler(req, res);
    } catch (err) {
      process.stderr.write(`server: ${req.method} ${pathname} failed: ${err && err.stack}\n`);
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
      return undefined;
    }
  };
}

function main() {
  const config = loadConfig(process.env);
  const server = http.createServer(createApp(config));

  server.on("error", (err) => fail(`cannot listen on port ${config.port}: ${err.message}`));
  server.listen(config.port, () => {
    const address = server.address();
    process.stdout.write(
      `${JSON.stringify({
        msg: "listening",
        port: address.port,
        version: config.version,
        environment: config.environment,
        flags: Object.keys(config.flags).length,
      })}\n`,
    );
  });

  // Kubernetes sends SIGTERM on rollout and scale-down: stop accepting, let requests in flight
  // finish (idle keep-alive connections are closed at once), then exit 0 so the pod ends cleanly.
  let shuttingDown = false;
  const shutdown = (signal) => {
    if (shuttingDown) return;
    shuttingDown = true;
    const force = setTimeout(() => {
      process.stderr.write(
        `server: requests still open after ${SHUTDOWN_GRACE_MS} ms, closing them\n`,
      );
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      process.exit(0);
    });
    server.closeIdleConnections();
    // Logged once the listening socket is closed: from this line on, new connections are refused.
    process.stdout.write(`${JSON.stringify({ msg: "shutting down", signal })}\n`);
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

if (require.main === module) {
  main();
}

module.exports = { checkPostgres, createApp, loadConfig, SSL_REQUEST };
