/**
 * The smoke CLI: the same checks as the dynamic resource, for a terminal or a pipeline step.
 * `npm run smoke -- <baseUrl> [options]`; smoke/bin.mjs starts it with Node's own type stripping.
 * Exit codes are model/cli.ts's table: 0 every check passed, 1 a check failed, 2 bad usage, 70 the
 * run itself could not happen (no verdict).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  EXIT,
  EXIT_CODES_HELP,
  isParseArgsError,
  parseArgsProblem,
  usageLine,
  UsageError,
} from "../model/cli";
import { CONTRACT_CHECKS } from "./contract";
import type { CheckSpec } from "./contract";
import { checksProblems, CONTROL, DEFAULTS, parseHeaderLine, planProblems } from "./plan";
import type { SmokePlan } from "./plan";
import { formatCheckLine, formatSummary, redact } from "./report";
import type { CheckResult, SmokeReport } from "./report";
import { runSmoke } from "./run";
import type { UndiciApi } from "./run";

export const USAGE = `Usage: npm run smoke -- <baseUrl> [options]

Runs the smoke contract (health, version, database, critical action) against <baseUrl>,
all checks at once, each retried while a rollout settles, until a deadline.

Options:
  --expect-version V      /api/version must report V (another one is retried until the deadline)
  --deadline SECONDS      the whole run, retries included (default ${DEFAULTS.deadlineMs / 1000})
  --timeout SECONDS       each request: connect, headers, body (default ${DEFAULTS.requestTimeoutMs / 1000})
  --header 'Name: value'  send this header with every check (repeatable); values are never printed
  --header-env Name=VAR   the same, with the value taken from environment variable VAR
  --ca FILE               trust the CA certificates in FILE (PEM) for https
  --checks FILE           run the checks listed in FILE (JSON) instead of the contract
  --json                  print the report as JSON
  --help, -h              show this help

${EXIT_CODES_HELP}
`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  color: boolean;
  readFile(path: string): string;
  loadUndici(): UndiciApi;
}

export type Parsed =
  | { kind: "help" }
  | { kind: "usage"; problem: string }
  | { kind: "run"; plan: SmokePlan; json: boolean };

function seconds(flag: string, raw: string | undefined, fallbackMs: number): number {
  if (raw === undefined) return fallbackMs;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(
      `${flag} must be a positive number of seconds, got ${JSON.stringify(raw)}`,
    );
  }
  return Math.round(value * 1000);
}

function readChecks(file: string, io: Pick<CliIo, "readFile">): CheckSpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(io.readFile(file));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new UsageError(
      typeof code === "string"
        ? `cannot read --checks file ${file} (${code})`
        : `--checks file ${file} is not JSON`,
    );
  }
  const problem = checksProblems("--checks", parsed)[0];
  if (problem !== undefined) throw new UsageError(problem);
  return parsed as CheckSpec[];
}

function headersFrom(
  lines: string[],
  envRefs: string[],
  env: CliIo["env"],
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const h = parseHeaderLine(line);
    if ("problem" in h) throw new UsageError(h.problem);
    if (CONTROL.test(h.value))
      throw new UsageError(
        `--header ${h.name}: the value must not contain control characters (a tab is allowed)`,
      );
    headers[h.name] = h.value;
  }
  for (const ref of envRefs) {
    const eq = ref.indexOf("=");
    const name = ref.slice(0, eq).trim();
    const variable = ref.slice(eq + 1).trim();
    if (eq <= 0 || variable === "")
      throw new UsageError("--header-env must look like Name=ENV_VAR");
    const value = env[variable];
    if (value === undefined || value === "") {
      throw new UsageError(
        `environment variable ${variable} (for --header-env ${name}) is not set`,
      );
    }
    if (CONTROL.test(value))
      throw new UsageError(
        `--header-env ${name}=${variable}: the value of ${variable} must not contain control characters (a tab is allowed)`,
      );
    headers[name] = value;
  }
  return headers;
}

/** The plan's field names, as the command line spells them. */
const FLAG_OF: Record<string, string> = {
  baseUrl: "<baseUrl>",
  headers: "--header",
  expectVersion: "--expect-version",
  caPem: "--ca",
};

export function parseCli(argv: string[], io: Pick<CliIo, "env" | "readFile">): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        "expect-version": { type: "string" },
        deadline: { type: "string" },
        timeout: { type: "string" },
        header: { type: "string", multiple: true },
        "header-env": { type: "string", multiple: true },
        ca: { type: "string" },
        checks: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help === true) return { kind: "help" };
    if (positionals.length === 0)
      throw new UsageError("missing <baseUrl>, e.g. https://staging.example.com");
    if (positionals.length > 1)
      throw new UsageError(`one <baseUrl> expected, got ${positionals.length} arguments`);
    let caPem: string | undefined;
    if (values.ca !== undefined) {
      try {
        caPem = io.readFile(values.ca);
      } catch (err) {
        throw new UsageError(
          `cannot read --ca file ${values.ca} (${String((err as { code?: unknown }).code ?? err)})`,
        );
      }
    }
    const plan: SmokePlan = {
      baseUrl: positionals[0] as string,
      checks:
        values.checks === undefined
          ? CONTRACT_CHECKS.map((c) => ({ ...c }))
          : readChecks(values.checks, io),
      ...(values["expect-version"] === undefined
        ? {}
        : { expectVersion: values["expect-version"] }),
      headers: headersFrom(values.header ?? [], values["header-env"] ?? [], io.env),
      ...(caPem === undefined ? {} : { caPem }),
      requestTimeoutMs: seconds("--timeout", values.timeout, DEFAULTS.requestTimeoutMs),
      deadlineMs: seconds("--deadline", values.deadline, DEFAULTS.deadlineMs),
      maxBodyBytes: DEFAULTS.maxBodyBytes,
    };
    const problem = planProblems(plan)[0];
    if (problem !== undefined) {
      const field = /^[A-Za-z]+/.exec(problem)?.[0] ?? "";
      throw new UsageError(
        FLAG_OF[field] === undefined ? problem : FLAG_OF[field] + problem.slice(field.length),
      );
    }
    return { kind: "run", plan, json: values.json === true };
  } catch (err) {
    if (err instanceof UsageError) return { kind: "usage", problem: err.message };
    if (isParseArgsError(err)) return { kind: "usage", problem: parseArgsProblem(err) };
    throw err;
  }
}

/** Every value given to --header or --header-env on the command line: never to be printed. */
function secretArgs(argv: string[], env: CliIo["env"]): string[] {
  const out: string[] = [];
  argv.forEach((arg, i) => {
    for (const flag of ["--header", "--header-env"]) {
      let raw: string | undefined;
      if (arg === flag) raw = argv[i + 1];
      else if (arg.startsWith(`${flag}=`)) raw = arg.slice(flag.length + 1);
      if (raw === undefined) continue;
      if (flag === "--header") {
        out.push(raw, raw.slice(raw.indexOf(":") + 1).trim());
      } else {
        const value = env[raw.slice(raw.indexOf("=") + 1).trim()];
        if (value !== undefined) out.push(value);
      }
    }
  });
  return out.filter((s) => s !== "");
}

const COLORS = {
  green: "\u001b[32m",
  red: "\u001b[31m",
  dim: "\u001b[2m",
  bold: "\u001b[1m",
  reset: "\u001b[0m",
};

function paint(on: boolean, color: keyof typeof COLORS, text: string): string {
  return on ? `${COLORS[color]}${text}${COLORS.reset}` : text;
}

function mark(r: CheckResult, color: boolean): string {
  if (r.outcome === "passed") return paint(color, "green", "✓");
  if (r.outcome === "failed") return paint(color, "red", "✗");
  return paint(color, "dim", "-");
}

/** The first line: what is being checked. Printed before the run, so a long run shows its target. */
export function formatHead(
  run: { baseUrl: string; expectVersion?: string; deadlineMs: number },
  color: boolean,
): string {
  const head = [`smoke ${run.baseUrl}`];
  if (run.expectVersion !== undefined) head.push(`expect ${run.expectVersion}`);
  head.push(`deadline ${run.deadlineMs / 1000} s`);
  return `${paint(color, "bold", head.join("  "))}\n`;
}

/** One line per check and the summary. */
export function formatResults(report: SmokeReport, color: boolean): string {
  const width = Math.max(...report.results.map((r) => r.name.length));
  const lines: string[] = [];
  for (const r of report.results) lines.push(`${mark(r, color)} ${formatCheckLine(r, width)}`);
  lines.push(paint(color, report.ok ? "green" : "red", formatSummary(report)));
  return `${lines.join("\n")}\n`;
}

export function formatHuman(report: SmokeReport, color: boolean): string {
  return formatHead(report, color) + formatResults(report, color);
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const secrets = secretArgs(argv, io.env);
  let parsed: Parsed;
  try {
    parsed = parseCli(argv, io);
  } catch (err) {
    // parseCli turns every usage problem into kind "usage": what reaches here is a defect.
    io.err(
      `smoke: internal error: ${redact(err instanceof Error ? err.message : String(err), secrets)}\n`,
    );
    return EXIT.internal;
  }
  if (parsed.kind === "help") {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (parsed.kind === "usage") {
    io.err(`${usageLine("smoke", redact(parsed.problem, secrets))}\n`);
    return EXIT.usage;
  }
  const allSecrets = [...secrets, ...Object.values(parsed.plan.headers)];
  if (!parsed.json) io.out(redact(formatHead(parsed.plan, io.color), allSecrets));
  let report: SmokeReport;
  try {
    report = await runSmoke(parsed.plan, io.loadUndici());
  } catch (err) {
    io.err(
      `smoke: could not run: ${redact(err instanceof Error ? err.message : String(err), allSecrets)}\n`,
    );
    return EXIT.internal;
  }
  const text = parsed.json
    ? `${JSON.stringify(report, null, 2)}\n`
    : formatResults(report, io.color);
  io.out(redact(text, allSecrets));
  return report.ok ? EXIT.ok : EXIT.failed;
}

/** The process's own streams and environment; undici is loaded only when a run needs it. */
export function processIo(loadUndici: () => UndiciApi): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    color: process.stdout.isTTY === true && (process.env.NO_COLOR ?? "") === "",
    readFile: (path) => readFileSync(path, "utf8"),
    loadUndici,
  };
}
