/**
 * `npm run local`: the whole product on this machine, with no account and no cluster. Builds the
 * engine (or finds it cached), starts the local control plane (unless it runs), and promotes the
 * three stacks through it with the real pulumi CLI: each up runs its smoke tests against the app,
 * prod asks for approval at the terminal, and the parity matrix of what was deployed is printed.
 *
 * It deploys only to the control plane it started (context env-progression-local), never to
 * another kube context. Its project copy, state and passphrases live in that control plane's own
 * folder, so `npm run cluster:down` removes them with it; a second run reuses them.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import {
  EXIT,
  EXIT_CODES_HELP,
  parseOptions,
  runAsProcess,
  usageLine,
  UsageError,
} from "../model/cli";
import { ScriptFailed, runScript } from "./lib/scripts";
import { clusterScript, startLocal, type LocalSession } from "./local/session";

export const USAGE = `Usage: npm run local -- [--yes]

Runs the main job end to end on this machine: builds the engine from source (npm run engine:build,
cached after the first time), starts the local control plane (npm run cluster:up) unless it runs,
and promotes dev → staging → prod with the real pulumi CLI and the policy pack. Each up runs its
smoke tests against the app; prod asks for approval here. Then prints the parity matrix.

Options:
  --yes, -y    approve prod without the prompt (required when there is no terminal)
  --help, -h   show this help

It deploys only to the control plane npm run cluster:up started (context env-progression-local).
npm run cluster:down stops it and removes the stacks' state with it.

${EXIT_CODES_HELP}`;

function say(line: string): void {
  process.stdout.write(`local: ${line}\n`);
}

/** Runs a script of tools/cluster or tools/engine, its output shown; it fails with its own code. */
function step(what: string, script: string): void {
  say(what);
  runScript(script, what, true);
}

/** Runs a tool of the project copy as a user would, streaming its output. */
function runIn(session: LocalSession, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", ...args], {
      cwd: session.project.dir,
      env: { ...process.env, ...session.environ },
      stdio: "inherit",
    });
    child.on("error", reject);
    // Killed by a signal: no verdict.
    child.on("close", (code) => resolve(code ?? EXIT.internal));
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    values = parseOptions(argv, {
      yes: { type: "boolean", short: "y" },
      help: { type: "boolean", short: "h" },
    });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${usageLine("local", err.message)}\n`);
    return EXIT.usage;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (!values.yes && !process.stdin.isTTY) {
    process.stderr.write("local: no terminal to ask for prod's approval: run with --yes\n");
    return EXIT.notApproved;
  }

  let session: LocalSession | undefined;
  try {
    step(
      "building the engine and the control plane from source (cached after the first run)",
      "tools/engine/build.sh",
    );
    step("starting the local control plane", "tools/cluster/up.sh");
    const clusterDir = path.dirname(clusterScript("kubeconfig"));
    session = await startLocal({ under: path.join(clusterDir, "local"), say, reuse: true });
    say(
      `project copy ${session.project.dir}; its state and passphrases stay in ${path.dirname(session.project.dir)}`,
    );
    for (const [env, url] of Object.entries(session.smokeUrls))
      say(`${env}'s smoke tests reach its app at ${url}`);

    const code = await runIn(session, [
      "tools/promote.ts",
      "--to",
      "prod",
      ...(values.yes ? ["--yes"] : []),
    ]);
    if (code !== EXIT.ok) return code;
    say("parity of what was deployed (npm run verify in the copy)");
    const verified = await runIn(session, ["tools/verify.ts"]);
    if (verified !== EXIT.ok) {
      process.stderr.write(
        `local: the three stacks are deployed, but npm run verify on them exited ${verified}; see its report above\n`,
      );
      return verified;
    }
    say(
      "done: three stacks promoted on the local control plane. npm run cluster:down removes it all.",
    );
    return EXIT.ok;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`local: ${message}\n`);
    // A script ends the run with its own code; anything else failed a step of the run itself.
    return err instanceof ScriptFailed ? err.code : EXIT.failed;
  } finally {
    await session?.stop(true);
  }
}

if (require.main === module) runAsProcess("local", main, { exitWhenDone: true });
