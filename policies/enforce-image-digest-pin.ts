import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { isDigestPinned } from "../model/image";
import { containersOf, isUnknown, podSpecOf, UNKNOWN } from "../model/resources";
import { resourcePolicy, result } from "./lib/policy";
import { environmentOf, message } from "./lib/resources";
import { POD_TYPES } from "./lib/types";

export const NAME = "enforce-image-digest-pin";

export function enforceImageDigestPin(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return resourcePolicy({
    name: NAME,
    description: "Outside dev, every container image is pinned by digest (name@sha256:...).",
    enforcementLevel,
    types: POD_TYPES,
    check: (r) => {
      const out = result();
      const env = environmentOf(r.props);
      if (env === "dev") return out;
      const pod = podSpecOf(r);
      if (pod === undefined) return out;
      if (pod.spec === UNKNOWN) return (out.unknown.push(pod.path), out);
      for (const c of containersOf(pod.spec, pod.path, out.unknown)) {
        const image = c.container.image;
        if (isUnknown(image)) out.unknown.push([...c.path, "image"]);
        else if (typeof image !== "string" || !isDigestPinned(image)) {
          out.findings.push({
            message: message(
              `${r.name}: the image of container ${c.name} is not pinned by digest in ${env}`,
              "a tag can point at another image tomorrow, so what runs here would not be what the environment below verified",
              `pin it as name@sha256:<digest> in Pulumi.${env}.yaml (the digest the environment below runs); only dev may use a tag`,
            ),
          });
        }
      }
      return out;
    },
  });
}
