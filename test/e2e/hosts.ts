/**
 * The host names the smoke tests send their requests to, one per stack: `smokeBaseUrl`'s host when
 * a stack sets it, else its Ingress `host` (Pulumi.<env>.yaml). On kind, the ingress controller
 * listens on this machine's port 80 (test/e2e/kind.yaml), so those names must resolve here.
 *
 *   npx ts-node --transpile-only test/e2e/hosts.ts            # "127.0.0.1 dev.example.com …"
 *   npx ts-node --transpile-only test/e2e/hosts.ts | sudo tee -a /etc/hosts
 */
import { lookup } from "node:dns/promises";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { ENVIRONMENTS, type EnvName } from "../../model/environment";
import { REPO_ROOT } from "../../model/paths";

const NS = "env-progression";

/** A stack's smoke host from its stack file, or undefined when it names none. */
export function smokeHost(stackFileText: string): string | undefined {
  const config = ((parse(stackFileText) as { config?: Record<string, unknown> } | null)?.config ??
    {}) as Record<string, unknown>;
  const base = config[`${NS}:smokeBaseUrl`];
  if (typeof base === "string") {
    try {
      return new URL(base).hostname;
    } catch {
      return undefined;
    }
  }
  const host = config[`${NS}:host`];
  return typeof host === "string" ? host : undefined;
}

export function smokeHosts(dir: string): Partial<Record<EnvName, string>> {
  const hosts: Partial<Record<EnvName, string>> = {};
  for (const env of ENVIRONMENTS) {
    let text: string;
    try {
      text = readFileSync(path.join(dir, `Pulumi.${env}.yaml`), "utf8");
    } catch {
      continue;
    }
    const host = smokeHost(text);
    if (host) hosts[env] = host;
  }
  return hosts;
}

export function isLoopback(address: string): boolean {
  return address === "::1" || /^127\./.test(address);
}

/** The hosts that do not resolve to this machine, each with what they resolve to. */
export async function hostsNotOnThisMachine(hosts: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const host of hosts) {
    try {
      const addresses = (await lookup(host, { all: true })).map((a) => a.address);
      if (!addresses.some(isLoopback)) problems.push(`${host} → ${addresses.join(", ")}`);
    } catch (err) {
      problems.push(`${host} → ${(err as NodeJS.ErrnoException).code ?? "does not resolve"}`);
    }
  }
  return problems;
}

if (require.main === module) {
  const hosts = [...new Set(Object.values(smokeHosts(REPO_ROOT)))];
  process.stdout.write(`127.0.0.1 ${hosts.join(" ")}\n`);
}
