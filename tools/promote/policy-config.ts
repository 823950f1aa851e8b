/**
 * The `--policy-pack-config` file for a stack, from the `parityBaseline` output of the stack below.
 *
 * Used by the Automation API runner (one temp file per operation) and by the workflows, which
 * pass the baseline between jobs as a job output and turn it into the file with:
 *
 *   printf '%s' "$BASELINE" | npx ts-node --transpile-only tools/promote/policy-config.ts > config.json
 *
 * so that CI and `npm run promote` build the same document, with `policyPackConfig` from
 * model/baseline.ts.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { policyPackConfig } from "../../model/baseline";
import type { PolicyPackConfig } from "./plan";

export interface PolicyConfigFile {
  path: string;
  remove(): Promise<void>;
}

export async function writePolicyConfigFile(
  config: PolicyPackConfig,
  label: string,
): Promise<PolicyConfigFile> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "env-progression-policy-"));
  const file = path.join(dir, `policy-config.${label}.json`);
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return { path: file, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Parse a baseline as it arrives from a job output: JSON text, not empty. */
export function parseBaseline(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === "")
    throw new Error("the baseline is empty: did the stack below export parityBaseline?");
  let baseline: unknown;
  try {
    baseline = JSON.parse(trimmed);
  } catch {
    throw new Error(
      "the baseline is not JSON: expected `pulumi stack output parityBaseline --json`",
    );
  }
  // What `pulumi stack output --json` prints for a secret output it was not asked to show.
  if (baseline === "[secret]") {
    throw new Error(
      "parityBaseline is a secret output: it crosses jobs in the clear, so it must not be secret",
    );
  }
  return baseline;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

if (require.main === module) {
  readStdin()
    .then((text) =>
      process.stdout.write(`${JSON.stringify(policyPackConfig(parseBaseline(text)), null, 2)}\n`),
    )
    .catch((err: unknown) => {
      process.stderr.write(`policy-config: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
