/**
 * `npm run promote -- [--to dev|staging|prod] [--preview] [--yes]`
 *
 * The pipeline's sequence from a terminal: each stack in order, with the policy pack and the
 * baseline of the stack below, through the Pulumi Automation API. See tools/promote/plan.ts for
 * the steps and docs/deploy.md for how to use it.
 */
import { mkdirSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../model/paths";
import { EXIT, type ExitCode, runAsProcess, usageLine } from "../model/cli";
import { USAGE, UsageError, parseCommandLine } from "./promote/args";
import { environmentsUpTo, promote } from "./promote/plan";
import {
  PULUMI_INSTALL_HINT,
  envSuffix,
  fileBackendDir,
  findOnPath,
  missingPassphrases,
  readProjectFile,
  resolveBackend,
  stackFileProblems,
} from "./promote/setup";
import { TerminalApprover, TerminalReporter } from "./promote/terminal";

function fail(message: string): void {
  process.stderr.write(`promote: ${message}\n`);
}

export async function main(argv: readonly string[]): Promise<ExitCode> {
  let command;
  try {
    command = parseCommandLine(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${usageLine("promote", err.message)}\n`);
    return EXIT.usage;
  }
  if (command.kind === "help") {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const { options } = command;

  const problems = stackFileProblems(REPO_ROOT, environmentsUpTo(options.to));
  if (problems.length > 0) {
    for (const p of problems) fail(p);
    return EXIT.usage;
  }
  if (!findOnPath("pulumi")) {
    fail(`the pulumi CLI is not on PATH; ${PULUMI_INSTALL_HINT}`);
    return EXIT.prerequisite;
  }
  const backend = resolveBackend(readProjectFile(REPO_ROOT, "Pulumi.yaml"));
  const missing = missingPassphrases(
    environmentsUpTo(options.to),
    (env) => readProjectFile(REPO_ROOT, `Pulumi.${env}.yaml`),
    backend,
  );
  if (missing.length > 0) {
    fail(
      `no passphrase for ${missing.length > 1 ? "stacks" : "stack"} ${missing.join(", ")}: set PULUMI_CONFIG_PASSPHRASE_${envSuffix(missing[0]!)}` +
        ` (one per stack) or PULUMI_CONFIG_PASSPHRASE (all stacks)`,
    );
    return EXIT.prerequisite;
  }
  // A fresh clone has no state directory yet for the file backend Pulumi.yaml names.
  const stateDir = backend.url ? fileBackendDir(backend.url, REPO_ROOT) : undefined;
  if (stateDir) mkdirSync(stateDir, { recursive: true });

  const reporter = new TerminalReporter();
  process.stdout.write(
    `promote: state backend ${backend.url ?? "(the one pulumi login selected)"}, from ${backend.source}\n`,
  );
  // Loaded only now: @pulumi/pulumi is slow to load, and --help or a usage error should not wait.
  const { AutomationRunner } = await import("./promote/automation");
  const runner = new AutomationRunner({
    workDir: REPO_ROOT,
    // The released CLI runs the pack folder itself; the engine built here runs it through an
    // executable launcher (docs/engine.md), which npm run local and the engine suites name here.
    policyPack: process.env.ENV_PROGRESSION_POLICY_PACK || path.join(REPO_ROOT, "policies"),
    onProgress: (env, message) => reporter.event({ kind: "progress", env, message }),
  });
  const result = await promote(options, { runner, reporter, approver: new TerminalApprover() });
  return result.exitCode;
}

if (require.main === module) runAsProcess("promote", main);
