/** Command line of `npm run promote`. */
import { parseArgs } from "node:util";
import { ENVIRONMENTS, isEnvName } from "../../model/environment";
import { EXIT, EXIT_CODES_HELP, UsageError } from "../../model/cli";
import type { PromoteOptions } from "./plan";

export const USAGE = `Usage: npm run promote -- [--to ${ENVIRONMENTS.join("|")}] [--preview] [--yes]

Deploys the stacks in order (${ENVIRONMENTS.join(" → ")}), each with \`pulumi up --policy-pack policies\`
and the parity baseline of the stack below; the smoke tests run inside each up.

  --to <env>   last environment to deploy (default: ${ENVIRONMENTS[ENVIRONMENTS.length - 1]})
  --preview    preview every stack up to --to with the policies, as a pull request does; change nothing
  --yes, -y    approve prod without the prompt (required when there is no terminal)
  --help, -h   show this help

Stops at the first failure and names the environment, the step and why. When an environment's
smoke tests fail, it is redeployed with the release it last verified, and the exit code is 1.

Environment:
  PULUMI_BACKEND_URL                state backend (default: Pulumi.yaml's, file://./.pulumi)
  PULUMI_CONFIG_PASSPHRASE_<ENV>    passphrase of one stack, e.g. PULUMI_CONFIG_PASSPHRASE_PROD
  PULUMI_CONFIG_PASSPHRASE[_FILE]   passphrase for the stacks without their own
  KUBECONFIG_<ENV>                  kubeconfig of one environment (default: the current kube context)
  ENV_PROGRESSION_POLICY_PACK       what --policy-pack names (default: the policies folder)

${EXIT_CODES_HELP}`;

export type Command = { kind: "help" } | { kind: "run"; options: PromoteOptions };

export { UsageError };

export function parseCommandLine(argv: readonly string[]): Command {
  let values: { to?: string; preview?: boolean; yes?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        to: { type: "string" },
        preview: { type: "boolean" },
        yes: { type: "boolean", short: "y" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(
      parseArgsProblem(err, {
        missingValue: { "--to": `--to needs a value: one of ${ENVIRONMENTS.join(", ")}` },
      }),
    );
  }
  if (values.help) return { kind: "help" };
  const to = values.to ?? ENVIRONMENTS[ENVIRONMENTS.length - 1]!;
  if (!isEnvName(to)) {
    throw new UsageError(`--to must be one of ${ENVIRONMENTS.join(", ")}, not "${to}"`);
  }
  return {
    kind: "run",
    options: { to, preview: values.preview ?? false, yes: values.yes ?? false },
  };
}

/** node:util's messages, shortened to the part a user needs (they end with a hint about `--`). */
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
    for (const [flag, text] of Object.entries(hints.missingValue ?? {}))
      if (message.includes(`'${flag}`)) return text;
  }
  const firstLine = message.split("\n")[0] ?? message;
  return firstLine.split(". ")[0] ?? firstLine;
}

/**
 * Runs a command's `main` as the process: its exit code, or, for what it did not expect, one line
 * through `fail` (never a stack trace) and EXIT.internal, which no verdict shares.
 */
export function runAsProcess(
  main: (argv: string[]) => Promise<number>,
  fail: (message: string) => void,
): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      fail(err instanceof Error ? err.message : String(err));
      process.exitCode = EXIT.internal;
    },
  );
}
