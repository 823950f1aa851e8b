/**
 * `npm run verify -- [--stack NAME]... [--json | --markdown]`: the answer before the PR preview.
 *
 * Evaluates the stacks dev -> staging -> prod with the Pulumi SDK's in-process engine (the real
 * program, the real stack files), runs the policy pack over the Analyzer gRPC protocol for each
 * stack against the parity baseline of the stack below, and prints every violation, the parity
 * matrix and the isolation matrix.
 *
 * Exit codes are model/cli.ts's table: 0 no mandatory violation; 1 a mandatory violation (or a
 * cross-environment leak in the isolation matrix); 2 bad input (an unreadable or invalid stack
 * file, a config the program refuses, a bad argument), one line per problem; 70 verify itself
 * failed. With --json or --markdown, exit 2 and 70 put the problems on stdout too, so that a PR
 * comment is never empty.
 */
import { EXIT, EXIT_CODES_HELP, runAsProcess, usageLine, UsageError } from "../model/cli";
import { PROJECT } from "../model/config/environmentConfig";
import { ENVIRONMENTS, type EnvName, isEnvName } from "../model/environment";
import { PARITY_EXCEPTIONS_KEY } from "../model/parity/exceptions";
import { readStackConfig, type StackConfig, StackFileError } from "./stackConfig";
import { isolation, parityMatrix, withPlainTextSecretFindings } from "./verify/matrix";
import { analyzeRun, packConfig, stackContext, startPack } from "./verify/pack";
import { renderFailureMarkdown, renderMarkdown } from "./verify/markdown";
import {
  failureLines,
  isolationData,
  shortResource,
  skippedSecretChecks,
  type StackReport,
  type Violation,
  type VerifyFailure,
  type VerifyReport,
} from "./verify/report";
import { projectTags } from "./verify/project";
import { REPO_ROOT as ROOT } from "../model/paths";
import { renderText } from "./verify/text";
import { EngineServer } from "./analyzer";
import {
  configProblems,
  type Passphrase,
  passphraseFor,
  redactSecrets,
  resolveSecrets,
  type StackSecrets,
} from "./verify/secrets";
// The program's modules (the SDK, @pulumi/kubernetes) load only after the pack has been started.
import type { StackRun } from "./verify/stacks";

export const USAGE = `Usage: npm run verify -- [--stack NAME]... [--json | --markdown]

Evaluates the stacks dev -> staging -> prod under the Pulumi SDK's in-process engine, runs the
policy pack (policies/) over gRPC for each against the parity baseline of the stack below, and
prints every violation, the parity matrix and the isolation matrix. No cluster, no Pulumi CLI.

Options:
  --stack NAME   report this stack (repeatable; default: all). The stacks below it are evaluated
                 too: each is compared with the one below.
  --json         machine-readable output
  --markdown     output fit for a pull request comment
  --help, -h     show this help

Environment (each stack's secure values are decrypted with its passphrase, found as npm run
promote finds it):
  PULUMI_CONFIG_PASSPHRASE_<ENV>    passphrase of one stack, e.g. PULUMI_CONFIG_PASSPHRASE_PROD
  PULUMI_CONFIG_PASSPHRASE[_FILE]   passphrase for the stacks without their own

Without one, stand-in values are used and the output says that secret reuse was NOT checked. A
secret key (dbPassword, smokeToken) with a plain value in a stack file is bad input.

A mandatory violation or an isolation leak fails the verdict. With --json or --markdown, a bad
input or an internal error prints its problems on stdout too.

${EXIT_CODES_HELP}`;

interface Args {
  stacks: EnvName[];
  format: "text" | "json" | "markdown";
}

export function parseArgs(argv: readonly string[]): Args | "help" {
  const stacks: EnvName[] = [];
  let format: Args["format"] = "text";
  const problems: string[] = [];
  let clash = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--help" || a === "-h") return "help";
    if (a === "--json" || a === "--markdown") {
      const f = a === "--json" ? "json" : "markdown";
      if (format !== "text" && format !== f) {
        if (!clash) problems.push("--json and --markdown exclude each other; give one");
        clash = true;
      }
      format = f;
    } else if (a === "--stack" || a.startsWith("--stack=")) {
      // `--stack --json` is a forgotten name, not a stack called "--json".
      const next = argv[i + 1];
      const name =
        a === "--stack"
          ? next?.startsWith("-")
            ? undefined
            : argv[++i]
          : a.slice("--stack=".length);
      if (name === undefined || name === "")
        problems.push("--stack needs a stack name: dev, staging or prod");
      else if (!isEnvName(name))
        problems.push(
          `--stack ${name}: not a stack of this project; expected one of ${ENVIRONMENTS.join(", ")}`,
        );
      else if (!stacks.includes(name)) stacks.push(name);
    } else if (/^--(json|markdown|help)=/.test(a)) {
      const flag = a.slice(0, a.indexOf("="));
      problems.push(`${flag} takes no value: write ${flag} alone`);
    } else problems.push(a.startsWith("-") ? `unknown option ${a}` : `unexpected argument "${a}"`);
  }
  if (problems.length > 0) throw new UsageError(problems, clash ? "text" : format);
  return { stacks: stacks.length > 0 ? stacks : [...ENVIRONMENTS], format };
}

/** Each stack's passphrase (its own variable first, then the shared one); problems once each. */
function passphrases(stacks: readonly EnvName[]): (Passphrase | undefined)[] {
  const problems = new Set<string>();
  const found = stacks.map((stack) => {
    try {
      return passphraseFor(stack);
    } catch (err) {
      if (!(err instanceof StackFileError)) throw err;
      err.problems.forEach((p) => problems.add(p));
      return undefined;
    }
  });
  if (problems.size > 0) throw new StackFileError([...problems]);
  return found;
}

const T0 = Date.now();
const progress = (msg: string) =>
  process.stderr.write(`verify: [${((Date.now() - T0) / 1000).toFixed(1)} s] ${msg}\n`);

function violationsOf(
  stack: EnvName,
  findings: Awaited<ReturnType<typeof analyzeRun>>,
): Violation[] {
  return findings.map((d) => {
    const lines = d.message.split("\n");
    const message =
      lines[0] === d.description && lines.length > 1 ? lines.slice(1).join(" ") : d.message;
    return {
      stack,
      policy: d.policyName,
      level: d.enforcementLevel,
      urn: d.urn,
      resource: shortResource(d.urn),
      message,
    };
  });
}

export async function verify(args: Args): Promise<VerifyReport> {
  const started = Date.now();
  const highest = Math.max(...args.stacks.map((s) => ENVIRONMENTS.indexOf(s)));
  const evaluate = ENVIRONMENTS.slice(0, highest + 1) as EnvName[];
  const pass = passphrases(evaluate);

  // Read every stack file first: all problems at once, before anything slow starts.
  const problems: string[] = [];
  const configs = evaluate.map((stack) => {
    try {
      return readStackConfig(ROOT, stack);
    } catch (err) {
      if (err instanceof StackFileError) problems.push(...err.problems);
      else throw err;
      return undefined;
    }
  });
  if (problems.length > 0) throw new StackFileError(problems);
  // Secrets (decrypted, or named stand-ins), then the config as the program would check it: a
  // config it refuses is bad input, reported before anything slow starts.
  const secrets = configs.map((cfg, i) => resolveSecrets(cfg as StackConfig, pass[i]));
  configs.forEach((cfg, i) => {
    const s = secrets[i] as StackSecrets;
    problems.push(
      ...configProblems(
        (cfg as StackConfig).stack,
        { ...(cfg as StackConfig).values, ...s.values },
        Object.keys(s.values),
        (cfg as StackConfig).sources,
      ),
    );
  });
  // A bad default in Pulumi.yaml is the same problem for every stack: say it once.
  if (problems.length > 0) throw new StackFileError([...new Set(problems)]);
  const tags = projectTags();

  // The pack takes most of a second to start: start it first, once, and evaluate meanwhile. It
  // runs prebuilt, without its type check, which npm test and the engine do (tools/packHost.cjs).
  // One process serves every stack: before each, ConfigureStack and Configure (with the stack's
  // baselines and its parity exceptions) set what the engine would give a pack run for it.
  progress(
    "starting the policy pack (policies/), prebuilt, without its type check (npm test does it)",
  );
  // Its engine server is bound first: the pack is spawned before the program's modules load, not
  // when the event loop, busy loading them, comes back to the bind.
  const engine = new EngineServer();
  await engine.start();
  const packPromise = startPack(
    { stack: "", plainConfig: {}, secretKeys: [], tags },
    {},
    { typeCheck: false, engine },
  );
  // Its failure is awaited below (or reported by the first analysis); not an unhandled one.
  packPromise.then(
    (p) => progress(`policy pack ready (pid ${p.pid})`),
    () => undefined,
  );

  const runs: StackRun[] = [];
  const reports: StackReport[] = [];
  try {
    const { runStack } = await import("./verify/stacks");
    // A stack's analysis is queued as soon as it and the one below are evaluated, not after the
    // last stack: the pack serves one stack at a time, in order. How much of the pack's work
    // (scrypt on its thread pool) overlaps the next evaluation is up to the event loop: the SDK's
    // mock evaluation runs as one chain of promise jobs, so the pack's answers are read between
    // stacks (docs/policies.md, "Performance").
    let analyzed: Promise<void> = Promise.resolve();
    for (const [i, stack] of evaluate.entries()) {
      progress(`evaluating ${stack} (Pulumi.${stack}.yaml) under the SDK's in-process engine`);
      const run = await runStack(stack, { secrets: (secrets[i] as StackSecrets).values });
      run.secrets = secrets[i] as StackSecrets;
      runs.push(run);
      const below = i > 0 ? (runs[i - 1] as StackRun) : undefined;
      const report: StackReport = {
        stack: run.stack,
        resources: run.view.analyzeStack.length,
        ...(below
          ? { comparedWith: { environment: below.stack, baseline: below.baselineSource } }
          : {}),
        secrets: run.secrets.statuses,
        violations: [],
      };
      reports.push(report);
      if (!args.stacks.includes(run.stack)) continue;
      const older = runs
        .slice(0, Math.max(0, i - 1))
        .map((r) => r.baseline)
        .reverse();
      analyzed = analyzed.then(async () => {
        const pack = await packPromise;
        await pack.configureStack(stackContext(run));
        await pack.configure(packConfig(below?.baseline, older, exceptionsOf(run)));
        progress(
          `analyzing ${run.stack}: ${run.view.analyze.length} registrations, then the stack`,
        );
        report.violations = violationsOf(run.stack, await analyzeRun(pack, run));
      });
      // Awaited below; until then its failure must not count as unhandled.
      analyzed.catch(() => undefined);
    }
    await analyzed;
    const checked: Record<string, boolean> = {};
    runs.forEach((run, i) => {
      const standIn = (r: StackRun | undefined) =>
        (r?.secrets.statuses ?? []).some((s) => s.state === "stand-in");
      checked[run.stack] = !standIn(run) && !runs.slice(0, i).some((r) => standIn(r));
    });
    const reported = reports.filter((r) => args.stacks.includes(r.stack));
    const violations = reported.flatMap((r) => r.violations);
    const parity = withPlainTextSecretFindings(parityMatrix(runs, checked), violations);
    const iso = isolation(runs);
    const mandatory = violations.filter((v) => v.level === "mandatory").length + iso.leaks.length;
    return {
      ok: mandatory === 0,
      exitCode: mandatory === 0 ? EXIT.ok : EXIT.failed,
      environments: evaluate,
      stacks: reported,
      violations,
      parity,
      isolation: isolationData(iso),
      skippedSecretChecks: skippedSecretChecks(reports),
      durationMs: Date.now() - started,
    };
  } catch (err) {
    // What failed did not write this message (the SDK, the pack, a child's stderr): whatever it
    // says, no secret or stand-in it may hold reaches verify's output.
    throw redactError(
      err,
      secrets.flatMap((s) => Object.values(s.values)),
    );
  } finally {
    await packPromise.then((p) => p.close()).catch(() => undefined);
    await engine.close();
  }
}

function redactError(err: unknown, values: readonly string[]): unknown {
  if (err instanceof StackFileError)
    return new StackFileError(err.problems.map((p) => redactSecrets(p, values)));
  if (err instanceof Error) {
    err.message = redactSecrets(err.message, values);
    return err;
  }
  return new Error(redactSecrets(String(err), values));
}

/** The stack's parity exceptions as its config holds them (JSON text from the stack file's YAML). */
function exceptionsOf(run: StackRun): unknown {
  const text = run.plainConfig[`${PROJECT}:${PARITY_EXCEPTIONS_KEY}`];
  if (text === undefined) return [];
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * EXIT.usage or EXIT.internal: the problems on stderr, one line each, as always; with --json or --markdown on
 * stdout too, so that what reads stdout (the PR comment) says why there is no report.
 */
function failed(
  format: Args["format"],
  exitCode: VerifyFailure["exitCode"],
  problems: string[],
  stderrLine: (problem: string) => string = (p) => p,
): VerifyFailure["exitCode"] {
  for (const p of problems) process.stderr.write(`${stderrLine(p)}\n`);
  const f: VerifyFailure = {
    ok: false,
    exitCode,
    problems:
      exitCode === EXIT.internal
        ? problems.map((p) => p.replace(/^verify failed: /, ""))
        : problems,
  };
  if (format === "json") process.stdout.write(`${JSON.stringify(f, null, 2)}\n`);
  else if (format === "markdown") process.stdout.write(renderFailureMarkdown(f));
  return exitCode;
}

/** "verify failed: <first line>" and the useful lines after it: no colours, no stack frames. */
export function internalFailure(err: unknown): string[] {
  const message = err instanceof Error ? err.message : String(err);
  const [first, ...rest] = failureLines(message);
  return [
    `verify failed: ${first ?? (err instanceof Error ? err.name : "unknown error")}`,
    ...rest,
  ];
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: Args | "help";
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError)
      return failed((err.format ?? "text") as Args["format"], EXIT.usage, [...err.problems], (p) =>
        usageLine("verify", p),
      );
    throw err;
  }
  if (args === "help") {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  try {
    const report = await verify(args);
    progress(`done in ${(report.durationMs / 1000).toFixed(1)} s`);
    if (args.format === "json") process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else if (args.format === "markdown") process.stdout.write(renderMarkdown(report));
    else
      process.stdout.write(
        renderText(
          report,
          process.stdout.isTTY && process.stdout.columns >= 60 ? process.stdout.columns : undefined,
        ),
      );
    return report.exitCode;
  } catch (err) {
    if (err instanceof StackFileError) return failed(args.format, EXIT.usage, [...err.problems]);
    return failed(args.format, EXIT.internal, internalFailure(err));
  }
}

if (require.main === module)
  runAsProcess("verify", main, { crashLines: internalFailure, exitWhenDone: true });
