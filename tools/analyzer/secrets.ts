/**
 * How a secret looks on the wire, `{ [specialSigKey]: specialSecretSig, value }`, and the
 * properties as a policy sees them. The markers are the SDK's own exports (pulumi.runtime), the
 * one definition that tools/analyzer and tools/evaluate.ts read.
 */
import type * as runtime from "@pulumi/pulumi/runtime";

let markers: { sigKey: string; secretSig: string } | undefined;

/**
 * The SDK's signature key and secret signature. Loaded on first use: @pulumi/pulumi/runtime costs
 * about 0.3 s to load, and verify starts the pack before it loads the SDK.
 */
export function wireMarkers(): { sigKey: string; secretSig: string } {
  if (markers === undefined) {
    const rt = require("@pulumi/pulumi/runtime") as typeof runtime;
    markers = { sigKey: rt.specialSigKey, secretSig: rt.specialSecretSig };
  }
  return markers;
}

/** Whether a wire value is a secret the SDK sent. */
export function isWireSecret(value: unknown): value is { value: unknown } {
  const { sigKey, secretSig } = wireMarkers();
  return (
    value !== null &&
    typeof value === "object" &&
    (value as Record<string, unknown>)[sigKey] === secretSig
  );
}

/** Properties as a policy sees them: secrets unwrapped (deserializeProperties), unknowns left as sentinels. */
export function policyView(props: unknown): unknown {
  if (Array.isArray(props)) return props.map(policyView);
  if (props !== null && typeof props === "object") {
    if (isWireSecret(props)) return policyView(props.value);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(props)) if (v !== undefined) out[k] = policyView(v);
    return out;
  }
  return props;
}
