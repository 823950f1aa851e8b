import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { environmentBelow } from "../model/environment";
import {
  inputStringSites,
  plainTextSites,
  secretCandidates,
  secretValuesOf,
} from "../model/secrets";
import { kindOf, metadataField } from "../model/resources";
import { environmentAboveBaseline, matcherFor, readLowerBaselines } from "./lib/baseline";
import { LOWER_BASELINES_SCHEMA, resourcePolicy, result } from "./lib/policy";
import { environmentOf, message } from "./lib/resources";
import { PLAIN_TEXT_TYPES } from "./lib/types";

export const NAME = "disallow-lower-environment-secrets";

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
      const sourcesOf = async (value: string): Promise<string[]> =>
        (
          await Promise.all(
            matchers.map(async ({ env: e, m }) =>
              (await m.sourcesOf(value)).map((s) => `${e}'s ${s}`),
            ),
          )
        ).flat();
      const fix = `generate a new value for ${env} and set it with pulumi config set --secret <key> -s ${env}; rotate the lower environment's value if it was ever shown`;
      if (kindOf(r.type) === "Secret") {
        const secretName = metadataField(r.props, "name");
        const values = secretValuesOf(r, out.unknown);
        const found = await Promise.all(values.map((v) => sourcesOf(v.value)));
        for (const [i, v] of values.entries()) {
          const sources = found[i] ?? [];
          if (sources.length === 0) continue;
          out.findings.push({
            message: message(
              `${r.name}: Secret ${typeof secretName === "string" ? secretName : r.name} key ${v.key} holds a value that a lower environment already uses (${sources.join(", ")})`,
              `a secret shared with a lower environment is known to everyone with access there, so ${env} is only as safe as ${below} or below ("The config used a dev secret")`,
              fix,
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
        const sources = new Set(found[i]);
        if (sources.size === 0) continue;
        out.findings.push({
          message: message(
            `${r.name}: ${site.where} contains a value that a lower environment uses as a secret (${[...sources].join(", ")})`,
            `a lower environment's secret, and in plain text at that: visible in state, diffs and logs`,
            `${fix}, and pass it through a Secret of this stack`,
          ),
        });
      }
      return out;
    },
  });
}
