/** Command line of `npm run promote`. */
import { ENVIRONMENTS, isEnvName } from "../../model/environment";
import { EXIT_CODES_HELP, parseOptions, UsageError } from "../../model/cli";
import type { PromoteOptions } from "./ports";

export const USAGE = `Usage: npm run promote -- [--to ${ENVIRONMENTS.join("|")}] [--preview] [--yes]

Deploys the stacks in order (${ENVIRONMENTS.join(" → ")}), each with \`pulumi up --policy-pack policies\`
and the parity baseline of the stack below; the smoke tests run inside each up.

Options:
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
  const values = parseOptions(
    argv,
    {
      to: { type: "string" },
      preview: { type: "boolean" },
      yes: { type: "boolean", short: "y" },
      help: { type: "boolean", short: "h" },
    },
    { missingValue: { "--to": `--to needs a value: one of ${ENVIRONMENTS.join(", ")}` } },
  );
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
