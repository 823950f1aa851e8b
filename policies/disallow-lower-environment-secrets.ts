import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { environmentBelow } from "../model/environment";
import { inputStringSites, plainTextSites } from "../model/secrets/sites";
import { secretCandidates } from "../model/secrets/sensitive";
import { secretValuesOf } from "../model/secrets/values";
import { kindOf, metadataField } from "../model/resources";
import { environmentAboveBaseline, matcherFor, readLowerBaselines } from "./lib/baseline";
import { LOWER_BASELINES_SCHEMA, resourcePolicy, result } from "./lib/policy";
import { environmentOf, message } from "./lib/resources";
import { PLAIN_TEXT_TYPES } from "./lib/types";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.disallowLowerEnvironmentSecrets;

/** A lower environment's secret that a value matched: the environment, and the baseline's source name. */
export interface Source {
  env: string;
  /** As the baseline names it: "config dbPassword" for a config key. Never a value. */
  source: string;
}

/** "dev's config smokeToken, staging's config smokeToken", each once. */
function labels(sources: readonly Source[]): string {
  return [...new Set(sources.map((s) => `${s.env}'s ${s.source}`))].join(", ");
}

/** `pulumi config set --secret <key> <new value> -s <env>` for each config key the sources name. */
function setCommands(env: string, sources: readonly Source[]): string {
  const keys = new Set<string>();
  for (const { source } of sources) {
    // A source that is not "config <key>" (another baseline's wording) never reaches a command.
    keys.add(/^config ([A-Za-z][A-Za-z0-9_-]{0,63})$/.exec(source)?.[1] ?? "<key>");
  }
  return [...keys].map((k) => `pulumi config set --secret ${k} <new value> -s ${env}`).join(" and ");
}

/**
 * The fix for a value in a Secret or a secret input: a new value for this environment, set with
 * the command that names the config key when the baseline names one ("config smokeToken").
 */
export function fixFor(env: string, sources: readonly Source[]): string {
  return (
    `generate a new value for ${env} and set it with ${setCommands(env, sources)}; ` +
    `rotate the lower environment's value if it was ever shown`
  );
}

/**
 * The fix for a lower secret copied into plain text: whatever put it there (a DB URL pasted into
 * an env var, a version key), it comes out; a secret the stack needs gets its own value through a
 * Secret; and the lower value, now in this stack's state in plain text, is rotated where it lives.
 */
export function plainTextFix(env: string, where: string, sources: readonly Source[]): string {
  const lowers = [...new Set(sources.map((s) => s.env))].map((e) =>
    setCommands(
      e,
      sources.filter((s) => s.env === e),
    ),
  );
  return (
    `take it out of ${where}; a secret that ${env} needs reaches it through a Secret of this stack, ` +
    `with a value of its own (${setCommands(env, sources)}); and rotate the lower value, which ` +
    `is exposed now (${lowers.join(" and ")})`
  );
}

export function disallowLowerEnvironmentSecrets(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return resourcePolicy({
    name: NAME,
    description:
      "No secret value of a lower environment is used here, in a Secret or copied into plain text.",
    enforcementLevel,
    // Kubernetes resources with plain text, and every resource of another provider (the smoke
    // test's dynamic resource carries the smoke token, for one).
    types: "all",
    configSchema: LOWER_BASELINES_SCHEMA,
    check: async (r, args) => {
      const out = result();
      const kubernetes = r.type.startsWith("kubernetes:");
      const other =
        !kubernetes && !r.type.startsWith("pulumi:") && !r.type.startsWith("env-progression:");
      if (kubernetes ? !PLAIN_TEXT_TYPES.includes(r.type) : !other) return out;
      const config = args.getConfig<{ baseline?: unknown; lowerBaselines?: unknown }>();
      const env = environmentOf(r.props, environmentAboveBaseline(config));
      const below = environmentBelow(env);
      if (below === undefined) return out;
      // A missing or unusable baseline is reported once, by enforce-environment-parity.
      const lower = readLowerBaselines(config, env);
      const matchers = lower.documents.flatMap((d) => {
        const m = matcherFor(d);
        return m ? [{ env: d.environment, m }] : [];
      });
      if (matchers.length === 0) return out;
      // Every candidate's fingerprints are computed side by side (scrypt on libuv's thread pool).
      const sourcesOf = async (value: string): Promise<Source[]> =>
        (
          await Promise.all(
            matchers.map(async ({ env: e, m }) =>
              (await m.sourcesOf(value)).map((source) => ({ env: e, source })),
            ),
          )
        ).flat();
      const shared = `a secret shared with a lower environment is known to everyone with access there, so ${env} is only as safe as ${below} or below ("The config used a dev secret")`;
      if (kindOf(r.type) === "Secret") {
        const secretName = metadataField(r.props, "name");
        const values = secretValuesOf(r, out.unknown);
        const found = await Promise.all(values.map((v) => sourcesOf(v.value)));
        for (const [i, v] of values.entries()) {
          const sources = found[i] ?? [];
          if (sources.length === 0) continue;
          out.findings.push({
            message: message(
              `${r.name}: Secret ${typeof secretName === "string" ? secretName : r.name} key ${v.key} holds a value that a lower environment already uses (${labels(sources)})`,
              shared,
              fixFor(env, sources),
            ),
          });
        }
        return out;
      }
      const sites = kubernetes ? plainTextSites(r, out.unknown) : inputStringSites(r, out.unknown);
      const found = await Promise.all(
        sites.map(async (site) =>
          (await Promise.all(secretCandidates(site.value, site.text).map(sourcesOf))).flat(),
        ),
      );
      for (const [i, site] of sites.entries()) {
        const sources = found[i] ?? [];
        if (sources.length === 0) continue;
        out.findings.push({
          message: kubernetes
            ? message(
                `${r.name}: ${site.where} contains a value that a lower environment uses as a secret (${labels(sources)})`,
                `a lower environment's secret, and in plain text at that: visible in state, diffs and logs`,
                plainTextFix(env, site.where, sources),
              )
            : // Another provider's input: the smoke test's dynamic provider keeps its header values
              // secret and stores only an HMAC of them, and no Kubernetes Secret can feed it, so
              // the only fault is the value itself.
              message(
                `${r.name}: ${site.where} holds a value equal to a lower environment's secret (${labels(sources)})`,
                shared,
                fixFor(env, sources),
              ),
        });
      }
      return out;
    },
  });
}
