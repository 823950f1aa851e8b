import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { isDigestPinned } from "../model/image";
import { CONTAINER_GROUPS, isUnknown } from "../model/resources";
import { podPolicy } from "./lib/podPolicy";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.enforceImageDigestPin;

export function enforceImageDigestPin(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return podPolicy({
    name: NAME,
    description: "Outside dev, every container image is pinned by digest (name@sha256:...).",
    enforcementLevel,
    applies: (w) => w.env !== "dev",
    why: "a tag can point at another image tomorrow, so what runs here would not be what the environment below verified",
    fix: (env) =>
      `pin it as name@sha256:<digest> in Pulumi.${env}.yaml (the digest the environment below runs); only dev may use a tag`,
    // Every group: an init or debugging container's image runs in the environment as well.
    containers: {
      groups: CONTAINER_GROUPS,
      check: (c, pod, unknown) => {
        const image = c.container.image;
        if (isUnknown(image)) unknown.push([...c.path, "image"]);
        else if (typeof image !== "string" || !isDigestPinned(image))
          return `the image of container ${c.name} is not pinned by digest in ${pod.env}`;
        return undefined;
      },
    },
  });
}
