/**
 * Which step of a `pulumi preview|up` failed, and why, from the engine events it emitted.
 *
 * The promotion reacts differently to each: a smoke failure means the release was rolled out and
 * then failed verification, so the environment is rolled back; a policy or deployment failure
 * stops the chain and leaves the environment to its owner.
 *
 * The smoke signal is the resource, not the wording of an error: the smoke test is a dynamic
 * resource parented to a component whose type token is `env-progression:smoke:<Type>`, so the
 * URN of every resource it owns carries that token in its type chain
 * (`urn:pulumi:dev::env-progression::env-progression:smoke:SmokeTest$pulumi-nodejs:dynamic:Resource::dev-smoke`).
 * The marker text `smoke tests failed` in the error message is the second signal, for a smoke
 * resource registered without that parent. Either one is enough.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { urnName, urnTypeChain } from "../../model/urn";

/** The type-token prefix of the smoke component and everything it owns. */
export const SMOKE_TYPE_PREFIX = "env-progression:smoke:";
/** The text the smoke resource's error message starts with when a check fails. */
export const SMOKE_FAILURE_MARKER = "smoke tests failed";

/** The steps of one environment's promotion, in the order they run. */
export type Step =
  | "baseline"
  | "promotion"
  | "preview"
  | "policy"
  | "approval"
  | "up"
  | "smoke"
  | "outputs"
  | "rollback";

/** The steps an engine operation can fail in. */
export type OperationStep = Extract<Step, "preview" | "policy" | "up" | "smoke">;

export interface StepFailure {
  step: OperationStep;
  reason: string;
}

/** Color directives (`<{%fg 1%}>`) and ANSI escapes, which the engine leaves in some messages. */
const DECORATION = /<\{%[^%]*%\}>|\u001b\[[0-9;]*m/g;

export function cleanMessage(message: string): string {
  return message
    .replace(DECORATION, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(" | ");
}

export function isSmokeUrn(urn: string | undefined): boolean {
  return (
    urn !== undefined &&
    urnTypeChain(urn)
      .split("$")
      .some((t) => t.startsWith(SMOKE_TYPE_PREFIX))
  );
}

/** The line of a smoke error that says what failed, without the stack trace that may follow. */
function smokeReason(message: string): string {
  const lines = message
    .replace(DECORATION, "")
    .split("\n")
    .map((l) => l.trim());
  const marked = lines.find((l) => l.toLowerCase().includes(SMOKE_FAILURE_MARKER));
  const line = marked ?? lines.find((l) => l.length > 0) ?? message;
  const at = line.toLowerCase().indexOf(SMOKE_FAILURE_MARKER);
  return at >= 0 ? line.slice(at) : line;
}

/**
 * Classify a failed operation. `operation` is what was running; `events` what the engine emitted;
 * `error` what the Automation API threw (its message carries the CLI's stderr).
 */
export function classifyFailure(
  operation: "preview" | "up",
  events: readonly EngineEvent[],
  error: unknown,
): StepFailure {
  const mandatory = events
    .map((e) => e.policyEvent)
    .filter((p) => p !== undefined && p.enforcementLevel === "mandatory");
  if (mandatory.length > 0) {
    const first = mandatory[0]!;
    const where = first.resourceUrn ? ` (${urnName(first.resourceUrn)})` : "";
    const more = mandatory.length > 1 ? ` (and ${mandatory.length - 1} more violation(s))` : "";
    return {
      step: "policy",
      reason: `${first.policyName}${where}: ${cleanMessage(first.message)}${more}`,
    };
  }

  const errors = events
    .map((e) => e.diagnosticEvent)
    .filter((d) => d !== undefined && d.severity === "error" && !d.ephemeral);

  const smoke = errors.find(
    (d) => isSmokeUrn(d!.urn) || d!.message.toLowerCase().includes(SMOKE_FAILURE_MARKER),
  );
  if (smoke) return { step: "smoke", reason: smokeReason(smoke.message) };

  const failedSmoke = events.find((e) => isSmokeUrn(e.resOpFailedEvent?.metadata.urn));
  if (failedSmoke) {
    return {
      step: "smoke",
      reason: `${urnName(failedSmoke.resOpFailedEvent!.metadata.urn)} failed`,
    };
  }

  const errorText = error instanceof Error ? error.message : String(error ?? "");
  if (errorText.toLowerCase().includes(SMOKE_FAILURE_MARKER)) {
    return { step: "smoke", reason: smokeReason(errorText) };
  }

  // A resource's own error says more than the engine's closing "update failed".
  const specific = errors.find((d) => d!.urn !== undefined) ?? errors[0];
  if (specific) {
    const where = specific.urn ? `${urnName(specific.urn)}: ` : "";
    return { step: operation, reason: `${where}${cleanMessage(specific.message)}` };
  }
  return { step: operation, reason: lastErrorLine(errorText) || `${operation} failed` };
}

/** The CLI's own `error:` line from a CommandError message, else its last non-empty line. */
export function lastErrorLine(text: string): string {
  const lines = text
    .replace(DECORATION, "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const errorLine = [...lines].reverse().find((l) => l.startsWith("error:"));
  return errorLine ?? lines[lines.length - 1] ?? "";
}
