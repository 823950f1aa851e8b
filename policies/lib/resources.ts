/**
 * How a policy reads what the engine gives it, without misfiring on values unknown during preview
 * (pulumi/pulumi-policy#258) and without ever echoing a value.
 *
 * @pulumi/policy wraps `props` in a proxy that throws UnknownValueError on the first unknown value
 * read, which aborts the whole policy for that resource. Here the policy reads the plain object
 * underneath instead (a Proxy with only a `get` trap leaves property descriptors alone), runs every
 * check it can on known values, and only at the end reads one unknown path through the proxy, so
 * that the SDK reports its usual advisory ("can't run policy ... during preview: string value at
 * .spec... can't be known during preview") for the checks that had to wait. Never a violation.
 */
import type { PolicyResource, ResourceValidationArgs } from "@pulumi/policy";
import { type EnvName, ENVIRONMENTS, isEnvName } from "../../model/environment";
import { PARITY_EXCEPTIONS_KEY } from "../../model/parity/exceptions";
import { isObject, type KubeResource, labelsOf } from "../../model/resources";
import { ENVIRONMENT_LABEL } from "../../model/workload";

/** The plain properties under the SDK's unknown-checking proxy (a shallow copy, values untouched). */
export function rawProps(props: unknown): Record<string, unknown> {
  if (!isObject(props)) return {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(props)) {
    const d = Object.getOwnPropertyDescriptor(props, key);
    if (d !== undefined && "value" in d && d.value !== undefined) out[key] = d.value;
  }
  return out;
}

/** A resource of a validateResource call, as model/ reads it. */
export function fromArgs(args: ResourceValidationArgs): KubeResource {
  return { type: args.type, name: args.name, urn: args.urn, props: rawProps(args.props) };
}

/** A resource of a validateStack call, as model/ reads it. */
export function fromStackResource(r: PolicyResource): KubeResource {
  return { type: r.type, name: r.name, urn: r.urn, props: rawProps(r.props) };
}

/**
 * Reads `path` through the SDK's proxy, so that an unknown value on it raises the SDK's own
 * UnknownValueError (an advisory "can't run policy during preview"). Call after all checks ran.
 */
export function surfaceUnknown(props: unknown, paths: readonly (readonly string[])[]): void {
  for (const path of paths) {
    let node: unknown = props;
    for (const key of path) {
      if (node === null || typeof node !== "object") break;
      node = (node as Record<string, unknown>)[key];
    }
  }
}

/** The stack (environment) name, as the engine passes it to the policy pack's process. */
export function stackEnvironment(env: NodeJS.ProcessEnv = process.env): EnvName | undefined {
  const stack = env.PULUMI_STACK ?? env.PULUMI_NODEJS_STACK;
  if (stack === undefined) return undefined;
  // An organization-qualified name (org/project/stack) ends with the stack's own name.
  const name = stack.slice(stack.lastIndexOf("/") + 1);
  return isEnvName(name) ? name : undefined;
}

function higher(a: EnvName | undefined, b: EnvName | undefined): EnvName | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return ENVIRONMENTS.indexOf(a) >= ENVIRONMENTS.indexOf(b) ? a : b;
}

/**
 * The environment whose rules apply to a resource: its `env-progression/environment` label and
 * the stack's name, whichever is higher (a label cannot talk a prod resource into dev's rules);
 * without the stack's name, `fallback` (what the policy config implies); prod's when none says.
 */
export function environmentOf(props: Record<string, unknown>, fallback?: EnvName): EnvName {
  const label = labelsOf(props)[ENVIRONMENT_LABEL];
  const stack = stackEnvironment() ?? fallback;
  return higher(label !== undefined && isEnvName(label) ? label : undefined, stack) ?? "prod";
}

/** The environment of a whole stack: its Namespaces' labels and the stack name, the higher. */
export function environmentOfStack(resources: readonly KubeResource[]): EnvName {
  let env = stackEnvironment();
  for (const r of resources) {
    if (!r.type.endsWith(":Namespace")) continue;
    const label = labelsOf(r.props)[ENVIRONMENT_LABEL];
    if (label !== undefined && isEnvName(label)) env = higher(env, label);
  }
  return env ?? "prod";
}

/**
 * The stack's config as the engine hands it to the policy pack's process (PULUMI_CONFIG, JSON of
 * "namespace:key" -> value text; pulumi/pulumi sdk/go/common/resource/plugin/analyzer_plugin.go,
 * constructEnv). Undefined when the engine passed none.
 */
export function stackConfig(
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> | undefined {
  const text = env.PULUMI_CONFIG;
  if (text === undefined || text === "") return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isObject(parsed)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === "string") out[k] = v;
    return out;
  } catch {
    return undefined;
  }
}

/** The raw `env-progression:parityExceptions` of the stack being checked, if any. */
export function parityExceptionsConfig(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return stackConfig(env)?.[`env-progression:${PARITY_EXCEPTIONS_KEY}`];
}

/** A violation message: what is wrong, why it matters, how to fix it. Never a property's value. */
export function message(what: string, why: string, fix: string): string {
  return `${what}: ${why}. Fix: ${fix}.`;
}

/** Joins path segments for messages: spec.template.spec.containers[0].image. */
export function pathText(path: readonly string[]): string {
  return path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}
