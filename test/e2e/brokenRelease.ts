/**
 * A broken release for the end-to-end suite: an image, so that it is part of the release the
 * rollback reverts (the release is `{version, commit, image}`; config and code are not).
 *
 * It is the image dev runs, plus a preload (NODE_OPTIONS=--require) that makes
 * `POST /api/test-action` answer `{"success": false}`. Everything else still works: /healthz
 * answers, so the rollout completes and Kubernetes is satisfied, and only the smoke test's
 * critical-action check can catch it, which is the point. The image is built locally and loaded
 * into the kind cluster (`kind load docker-image`), so no registry is involved; dev may run a tag.
 *
 * E2E_BROKEN_RELEASE='{"env-progression:image":"…"}' replaces it with config overrides of your
 * own (for a cluster that is not kind, or an app that is not the reference one).
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findOnPath } from "../../tools/promote/setup";
import { CONFIG_KEYS } from "../../tools/promote/release";

export const PRELOAD = `"use strict";
// e2e broken release: /healthz and the rest still answer; the critical action fails.
const http = require("node:http");
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res, ...rest) {
  if (event === "request" && req.method === "POST" && (req.url || "").split("?")[0] === "/api/test-action") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ success: false, error: "e2e: broken release" }));
    return true;
  }
  return emit.call(this, event, req, res, ...rest);
};
`;

export function dockerfile(baseImage: string): string {
  return [
    `FROM ${baseImage}`,
    "COPY broken-test-action.cjs /opt/e2e/broken-test-action.cjs",
    "ENV NODE_OPTIONS=--require=/opt/e2e/broken-test-action.cjs",
    "",
  ].join("\n");
}

/** Config overrides from E2E_BROKEN_RELEASE, or undefined when it is not set. */
export function brokenReleaseFromEnv(raw: string | undefined): Record<string, string> | undefined {
  if (!raw) return undefined;
  const parsed = JSON.parse(raw) as unknown;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(
      'E2E_BROKEN_RELEASE must be a JSON object of config keys to values, e.g. {"env-progression:image":"…"}',
    );
  }
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
}

/** Why the broken image cannot be built and loaded here, or undefined when it can. */
export function cannotBuild(context: string): string | undefined {
  const missing = ["docker", "kind"].filter((tool) => !findOnPath(tool));
  if (missing.length > 0)
    return `${missing.join(" and ")} not on PATH to build and load the broken image (or set E2E_BROKEN_RELEASE)`;
  if (!context.startsWith("kind-"))
    return `context ${context} is not a kind cluster to load the broken image into (set E2E_BROKEN_RELEASE)`;
  return undefined;
}

/** Build the broken image on top of `baseImage`, load it into the kind cluster, return its config. */
export function buildBrokenRelease(baseImage: string, context: string): Record<string, string> {
  const cluster = context.replace(/^kind-/, "");
  const tag = `env-progression-e2e/broken:${randomBytes(4).toString("hex")}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), "env-progression-broken-"));
  try {
    writeFileSync(path.join(dir, "Dockerfile"), dockerfile(baseImage));
    writeFileSync(path.join(dir, "broken-test-action.cjs"), PRELOAD);
    run("docker", ["build", "--quiet", "-t", tag, dir]);
    run("kind", ["load", "docker-image", tag, "--name", cluster]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { [CONFIG_KEYS.image]: tag };
}

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { encoding: "utf8", timeout: 10 * 60_000 });
  if (r.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${r.status}): ${(r.stderr || r.error?.message || "").trim()}`,
    );
  }
}
