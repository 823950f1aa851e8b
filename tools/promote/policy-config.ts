/**
 * The `--policy-pack-config` file for a stack, from the `parityBaseline` outputs of the stacks
 * below: the one right below (compared for parity, and for secrets) and, for prod, dev's too (for
 * secrets only: a dev secret must not reach prod even when staging has its own).
 *
 * Used by the Automation API runner (one temp file per operation) and by the workflows, which
 * pass the baselines between jobs as job outputs and turn them into the file with:
 *
 *   printf '%s' "$BASELINE" | npx ts-node --transpile-only tools/promote/policy-config.ts \
 *     [--older dev-baseline.json] > config.json
 *
 * so that CI and `npm run promote` build the same document, with `policyPackConfig` from
 * model/baseline.ts. Bad usage or input is one line on stderr, nothing on stdout, exit 2: a step
 * that redirects stdout into the file fails rather than hand the pack an empty config.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { policyPackConfig } from "../../model/baseline";
import { parseParityDocument } from "../../model/parity/document";
import {
  EXIT,
  EXIT_CODES_HELP,
  parseOptions,
  runAsProcess,
  usageLine,
  UsageError,
} from "../../model/cli";
import type { PolicyPackConfig } from "./ports";

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

export const USAGE = `Usage: npx ts-node --transpile-only tools/promote/policy-config.ts [--older FILE]... < BELOW > CONFIG

Reads on stdin the parityBaseline of the stack below (for prod: staging's), as
\`pulumi stack output parityBaseline --json\` prints it, and writes to stdout the
--policy-pack-config document for the stack, as \`npm run promote\` builds it (policyPackConfig in
model/baseline.ts).

Options:
  --older FILE   the parityBaseline of an environment further down (for prod: dev's), for
                 disallow-lower-environment-secrets only; repeatable
  --help, -h     show this help

A bad baseline is bad input: one line on stderr, nothing on stdout.

${EXIT_CODES_HELP}`;

export type PolicyConfigCommand = { kind: "help" } | { kind: "run"; older: string[] };

export { UsageError };

/** A baseline that cannot be read or used: one line naming where it came from, exit code 2. */
export class InputError extends Error {}

const OLDER_NEEDS_A_VALUE = "--older needs a value: a file holding a parityBaseline";

export function parsePolicyConfigArgs(argv: readonly string[]): PolicyConfigCommand {
  const values = parseOptions(
    argv,
    { older: { type: "string", multiple: true }, help: { type: "boolean", short: "h" } },
    {
      positional: "the baseline of the stack below comes on stdin",
      missingValue: { "--older": OLDER_NEEDS_A_VALUE },
    },
  );
  if (values.help) return { kind: "help" };
  const older = values.older ?? [];
  if (older.includes("")) throw new UsageError(OLDER_NEEDS_A_VALUE);
  return { kind: "run", older };
}

function parseFrom(source: string, text: string): unknown {
  let raw: unknown;
  try {
    raw = parseBaseline(text);
  } catch (err) {
    throw new InputError(`${source}: ${(err as Error).message}`);
  }
  // The pack would refuse it later, less plainly: check it here, field by field, never a value.
  const { errors } = parseParityDocument(raw, "baseline");
  if (errors.length > 0) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    throw new InputError(
      `${source}: not a parityBaseline: ${errors[0]}${more}; expected \`pulumi stack output parityBaseline --json\``,
    );
  }
  return raw;
}

const FS_ERRORS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "a directory, not a file",
};

async function readOlder(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    throw new InputError(`--older ${file}: cannot read it (${FS_ERRORS[code] ?? code})`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

function fail(message: string): void {
  process.stderr.write(`policy-config: ${message}\n`);
}

export async function main(argv: readonly string[]): Promise<number> {
  let command: PolicyConfigCommand;
  try {
    command = parsePolicyConfigArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${usageLine("policy-config", err.message)}\n`);
    return EXIT.usage;
  }
  if (command.kind === "help") {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  let config: PolicyPackConfig;
  try {
    const older: unknown[] = [];
    for (const file of command.older)
      older.push(parseFrom(`--older ${file}`, await readOlder(file)));
    if (process.stdin.isTTY) {
      throw new InputError(
        "stdin is a terminal: pipe in the parityBaseline of the stack below (see --help)",
      );
    }
    config = policyPackConfig(parseFrom("stdin", await readStdin()), older);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    fail(err.message);
    return EXIT.usage;
  }
  process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
  return EXIT.ok;
}

if (require.main === module) runAsProcess("policy-config", main);
