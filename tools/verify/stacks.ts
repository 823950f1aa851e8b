/**
 * One stack, ready for the policy pack: its stack file read as the CLI reads it, its secrets
 * (decrypted, or stand-ins that are said out loud), the program evaluated under the SDK's
 * in-process engine, the registrations as the engine would describe them to an analyzer, and the
 * parity baseline it exports for the stack above.
 */
import { readAppMigrations } from "../../model/migrations";
import { parseConfig } from "../../model/config/parse";
import { PROJECT, SECRET_KEYS } from "../../model/config/environmentConfig";
import { type EnvName, isEnvName } from "../../model/environment";
import { type ParityDocument, parseParityDocument } from "../../model/parity/document";
import { parityBaseline } from "../../model/parity/fromConfig";
import type { FingerprintParams } from "../../model/secrets/fingerprints";
import type { KubeResource } from "../../model/resources";
import {
  captureRegistrations,
  engineStackTags,
  engineView,
  type EngineView,
  type Registration,
} from "./registrations";
import { policyView } from "../analyzer";
import { evaluateStack, type Evaluation } from "../evaluate";
import { REPO_ROOT as ROOT } from "../../model/paths";
import { readStackConfig, type StackConfig, StackFileError } from "../stackConfig";
import { readProjectMeta } from "./project";
import { configProblems, configText, resolveSecrets, type StackSecrets } from "./secrets";

export { StackFileError, readProjectMeta };
export {
  configProblems,
  configText,
  resolveSecrets,
  standIn,
  type SecretStatus,
  type StackSecrets,
} from "./secrets";

export interface StackRun {
  stack: EnvName;
  config: StackConfig;
  /** Config after overrides, "namespace:key" -> text, secrets excluded: what PULUMI_CONFIG carries. */
  plainConfig: Record<string, string>;
  secretKeys: string[];
  secrets: StackSecrets;
  evaluation: Evaluation;
  registrations: Registration[];
  view: EngineView;
  /** The resources of AnalyzeStack as a policy sees them (secrets unwrapped). */
  resources: KubeResource[];
  /** What this stack exports for the stack above. */
  baseline: ParityDocument;
  baselineSource: "stack output" | "computed as the program exports it";
  tags: Record<string, string>;
}

export interface RunOptions {
  /** Plaintext secrets ("env-progression:<key>"); default: resolveSecrets(stack file, passphrase). */
  secrets?: Record<string, string>;
  passphrase?: string;
  /** Changed or extra config, "namespace:key" -> value (undefined removes), as evaluateStack takes it. */
  config?: Record<string, unknown>;
  preview?: boolean;
  /** Salt etc. for the computed baseline (tests fix it). */
  fingerprint?: FingerprintParams;
}

/** The SDK's mocks are process-wide: one evaluation at a time, whoever asks. */
let queue: Promise<unknown> = Promise.resolve();
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}

/**
 * Evaluates one stack's program and prepares everything the pack needs. Throws StackFileError for
 * an unreadable or invalid stack file or config (one line per problem).
 */
export async function runStack(stack: string, opts: RunOptions = {}): Promise<StackRun> {
  if (!isEnvName(stack))
    throw new StackFileError([
      `--stack ${stack}: not a stack of this project; expected dev, staging or prod`,
    ]);
  const config = readStackConfig(ROOT, stack);
  const secrets =
    opts.secrets !== undefined
      ? { values: opts.secrets, statuses: [] }
      : resolveSecrets(config, opts.passphrase);
  const plainConfig: Record<string, string> = { ...config.values };
  for (const [k, v] of Object.entries(opts.config ?? {})) {
    if (v === undefined) delete plainConfig[k];
    else plainConfig[k] = configText(v);
  }
  const allValues = { ...plainConfig, ...secrets.values };
  const secretKeys = Object.keys(secrets.values);
  const problems = configProblems(stack, allValues, secretKeys, config.sources);
  if (problems.length > 0) throw new StackFileError(problems);

  const { value: evaluation, registrations } = await exclusive(() =>
    captureRegistrations(() =>
      evaluateStack(stack, {
        secrets: secrets.values,
        config: opts.config ?? {},
        preview: opts.preview ?? false,
      }),
    ),
  );
  if (evaluation.error) throw evaluation.error;
  const view = engineView(registrations, {
    stack,
    project: PROJECT,
    stackOutputs: evaluation.outputs,
  });
  const resources = view.analyzeStack.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: policyView(r.properties) as Record<string, unknown>,
  }));

  let baseline: ParityDocument;
  let baselineSource: StackRun["baselineSource"];
  const exported = evaluation.outputs.parityBaseline;
  if (exported !== undefined) {
    const parsed = parseParityDocument(exported, `${stack} output parityBaseline`);
    if (parsed.document === undefined) throw new StackFileError(parsed.errors);
    baseline = parsed.document;
    baselineSource = "stack output";
  } else {
    const parsed = parseConfig({
      stack,
      values: allValues,
      secretKeys: new Set(secretKeys),
      sources: config.sources,
    });
    if (!parsed.ok) throw new StackFileError(parsed.errors);
    const short: Record<string, string | undefined> = {};
    for (const key of Object.keys(SECRET_KEYS)) short[key] = secrets.values[`${PROJECT}:${key}`];
    baseline = parityBaseline({
      config: parsed.config,
      migrations: readAppMigrations(ROOT),
      secrets: short,
      ...(opts.fingerprint ? { fingerprint: opts.fingerprint } : {}),
    });
    baselineSource = "computed as the program exports it";
  }
  const project = readProjectMeta();
  return {
    stack,
    config,
    plainConfig,
    secretKeys: [...new Set([...Object.keys(config.secure), ...secretKeys])],
    secrets,
    evaluation,
    registrations,
    view,
    resources,
    baseline,
    baselineSource,
    tags: engineStackTags(project),
  };
}
