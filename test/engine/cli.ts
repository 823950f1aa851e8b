/**
 * The real `pulumi` CLI, run as a user runs it in the project copy, with every byte it prints kept
 * (in `transcript`) so that the suite can search all of it for canary secrets at the end.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import type { EnvName } from "../../model/environment";
import { envSuffix } from "../../tools/promote/setup";
import type { LocalSession } from "../../tools/local/session";

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr, for messages. */
  output: string;
}

/** Everything every CLI and promote run printed in this process. */
export const transcript: string[] = [];

export interface RunOptions {
  /** Called with the child's pid once it runs (to kill it half-way). */
  onSpawn?: (pid: number, output: () => string) => void;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  /**
   * Starts the child in a session of its own (setsid: the session's id is its pid), so that what
   * it starts can be found and stopped after it is killed. Not its process group: the engine
   * starts each plugin in a group of its own, but within the CLI's session.
   */
  ownSession?: boolean;
}

/**
 * Ends every process left in the session `sid` (a killed CLI's plugins, adopted by init, would
 * run on after the suite) and names them: what was left, by command name.
 */
export function killSession(sid: number): string[] {
  const left: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid pgrp session …"; comm may hold spaces and
      // parentheses.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const [comm, rest] = [
        stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
        stat.slice(stat.lastIndexOf(")") + 2),
      ];
      const [state, , , session] = rest.split(" ");
      // A zombie has ended already; only its parent's wait is missing.
      if (Number(session) === sid && state !== "Z") {
        left.push(comm);
        process.kill(Number(pid), "SIGKILL");
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return left;
}

export function run(
  session: LocalSession,
  command: string,
  args: string[],
  stack: EnvName | undefined,
  options: RunOptions = {},
): Promise<CliResult> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...session.environ,
    ...options.env,
  };
  if (stack)
    env.PULUMI_CONFIG_PASSPHRASE = session.environ[`PULUMI_CONFIG_PASSPHRASE_${envSuffix(stack)}`];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: session.project.dir,
      env,
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      detached: options.ownSession === true,
    });
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 15 * 60_000);
    child.on("error", reject);
    if (child.pid !== undefined) options.onSpawn?.(child.pid, () => stdout + stderr);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      transcript.push(stdout, stderr);
      resolve({ code, signal, stdout, stderr, output: `${stdout}\n${stderr}` });
    });
  });
}

/** `pulumi <args> -s <stack> --non-interactive --color never` in the project copy. */
export function pulumi(
  session: LocalSession,
  stack: EnvName,
  args: string[],
  options: RunOptions = {},
): Promise<CliResult> {
  return run(
    session,
    "pulumi",
    [...args, "--stack", stack, "--non-interactive", "--color", "never"],
    stack,
    options,
  );
}

/** `npm run promote -- <args>` as a user runs it, in the copy (Node 24 and ts-node, as npm would). */
export function promote(
  session: LocalSession,
  args: string[],
  options: RunOptions = {},
): Promise<CliResult> {
  return run(
    session,
    process.execPath,
    ["-r", "ts-node/register/transpile-only", "tools/promote.ts", ...args],
    undefined,
    options,
  );
}
