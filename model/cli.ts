/**
 * The one command-line convention of verify, smoke, promote and local: the exit-code table and
 * the usage error. smoke/ loads this file with Node's type stripping (smoke/bin.mjs), so it holds
 * only syntax that stripping erases: no enum, no parameter property.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/**
 * Process exit codes, the same for every command. A verdict (0, 1, 4) is what the command was
 * asked to find out; 2 and 3 say it could not start; 70 (sysexits' EX_SOFTWARE) is the command
 * itself failing, kept apart from every verdict so that a crash never reads as "the checks failed".
 */
export const EXIT = {
  ok: 0,
  /** The verdict is no: a check, a mandatory policy or a step failed (a smoke failure is rolled back). */
  failed: 1,
  /** Bad usage or bad input: an unknown flag, an invalid stack file. Nothing was run. */
  usage: 2,
  /** Something the command needs is missing: the pulumi CLI, a passphrase. Nothing was run. */
  prerequisite: 3,
  /** Prod was not approved: declined at the prompt, or no terminal to ask and no --yes. */
  notApproved: 4,
  /** The command itself failed (an uncaught error): no verdict. */
  internal: 70,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The table as every `--help` ends. */
export const EXIT_CODES_HELP = `Exit codes (the same for every command):
  ${EXIT.ok}   ok: every check passed, every step done
  ${EXIT.failed}   failed: a check, a mandatory policy or a step failed (promote rolls a smoke failure back)
  ${EXIT.usage}   bad usage or bad input (a flag, a stack file); nothing was run
  ${EXIT.prerequisite}   a prerequisite is missing (a tool, the built engine, a passphrase); nothing was run
  ${EXIT.notApproved}   prod was not approved (promote, local)
  ${EXIT.internal}  internal error: the command itself failed; no verdict`;

/** Bad usage: reported as one line per problem with EXIT.usage, never with a stack trace. */
export class UsageError extends Error {
  readonly problems: readonly string[];
  /** The output format the arguments asked for, when that much is clear (verify's --json). */
  readonly format: string | undefined;
  constructor(problems: string | readonly string[], format?: string) {
    const list = typeof problems === "string" ? [problems] : [...problems];
    super(list.join("\n"));
    this.name = "UsageError";
    this.problems = list;
    this.format = format;
  }
}

/**
 * A command's options, read with node:util parseArgs (strict, no positional argument); every
 * problem is a UsageError of one line, worded by `parseArgsProblem` with `hints`.
 */
export function parseOptions<const O extends ParseArgsOptionsConfig>(
  argv: readonly string[],
  options: O,
  hints: { missingValue?: Record<string, string>; positional?: string } = {},
) {
  const inline = shortFlagWithEquals(argv, options);
  if (inline !== undefined) throw new UsageError(inline);
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(parseArgsProblem(err, hints));
  }
}

/**
 * A short flag written with `=` (`-y=1`, `-d=5`), which parseArgs reads as a group of flags
 * (`-y -= -1`, "unknown option -=") or as the value `=5`: the problem, said by the long flag, or
 * undefined. Nothing after `--` is read.
 */
function shortFlagWithEquals(
  argv: readonly string[],
  options: ParseArgsOptionsConfig,
): string | undefined {
  for (const arg of argv) {
    if (arg === "--") return undefined;
    const m = /^-([A-Za-z0-9])=/.exec(arg);
    if (!m) continue;
    const long = Object.entries(options).find(([, o]) => o.short === m[1])?.[0];
    if (long === undefined) return `unknown option -${m[1]}`;
    return options[long]!.type === "boolean"
      ? `-${m[1]} (--${long}) takes no value: write -${m[1]} alone`
      : `-${m[1]} takes its value after a space: write -${m[1]} VALUE or --${long}=VALUE`;
  }
  return undefined;
}

/**
 * node:util parseArgs's error as one short line (its messages end with a hint about `--`). `hints`
 * word, for one command, a flag given without its value and an argument it does not take.
 */
export function parseArgsProblem(
  err: unknown,
  hints: { missingValue?: Record<string, string>; positional?: string } = {},
): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  const quoted = /'([^']+)'/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option ${quoted ?? message}`;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const what = `unexpected argument${quoted ? ` "${quoted}"` : ""}`;
    return hints.positional ? `${what}: ${hints.positional}` : what;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    // Node words these "Option '-d, --deadline <value>' argument missing", "Option '--to'
    // argument is ambiguous" (the next word starts with a dash) and "Option '--json' does not take
    // an argument"; every command says them one way, by the long flag.
    const flag = /--[A-Za-z0-9][A-Za-z0-9-]*/.exec(message)?.[0];
    if (flag !== undefined && message.endsWith("argument missing"))
      return hints.missingValue?.[flag] ?? `${flag} needs a value`;
    if (flag !== undefined && message.includes("argument is ambiguous"))
      return (
        hints.missingValue?.[flag] ??
        `${flag} needs a value (one that starts with a dash is written ${flag}=-VALUE)`
      );
    if (flag !== undefined && message.endsWith("does not take an argument"))
      return `${flag} takes no value: write ${flag} alone`;
  }
  const firstLine = message.split("\n")[0] ?? message;
  return (firstLine.split(". ")[0] ?? firstLine).replace(/\.$/, "");
}

/** Whether node:util parseArgs threw this (an unknown option, a missing value, a positional). */
export function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

/** How every command reports a usage problem: one line on stderr, pointing at --help. */
export function usageLine(command: string, problem: string): string {
  return `${command}: ${problem} (see --help)`;
}

/**
 * Runs a command's `main` as the process: its exit code, or, for what it did not expect, the lines
 * `crashLines` makes of the error (never a stack trace) on stderr and EXIT.internal, which no
 * verdict shares. The default is one line, `<command>: internal error: <first line>`.
 * `exitWhenDone` ends the process at once rather than when its handles close: for a command whose
 * children or gRPC channels may outlive `main` (verify's pack, local's servers).
 */
export function runAsProcess(
  command: string,
  main: (argv: string[]) => Promise<number>,
  opts: { crashLines?: (err: unknown) => readonly string[]; exitWhenDone?: boolean } = {},
): void {
  const crashLines =
    opts.crashLines ??
    ((err: unknown) => [
      `${command}: internal error: ${err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err)}`,
    ]);
  const done = (code: number): void => {
    if (opts.exitWhenDone) process.exit(code);
    process.exitCode = code;
  };
  // A reader that stops early (`| head`) closes the pipe: stop quietly, as Unix tools do, not with
  // a stack trace. What was not written is not delivered, so an unfinished command's exit is
  // EXIT.internal, never a verdict.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    process.exit(typeof process.exitCode === "number" ? process.exitCode : EXIT.internal);
  });
  main(process.argv.slice(2)).then(done, (err: unknown) => {
    for (const line of crashLines(err)) process.stderr.write(`${line}\n`);
    done(EXIT.internal);
  });
}
