/**
 * Which step of a `pulumi preview|up` failed, and why, from the engine events it emitted.
 *
 * The promotion reacts differently to each: a smoke failure means the release was rolled out and
 * then failed verification, so the environment is rolled back; a policy or deployment failure
 * stops the chain and leaves the environment to its owner.
 *
 * The smoke signal is the resource, not the wording of an error: the smoke test's resources have
 * their own type tokens (model/smoke.ts), and the URN of each carries them in its type chain
 * (`urn:pulumi:dev::env-progression::env-progression:smoke:SmokeTest$pulumi-nodejs:dynamic/env-progression:SmokeRun::dev-smoke-run`).
 * What failed is read back from the run's error with model/smoke.ts's `readSmokeFailure`, the
 * reader of the line the smoke provider writes: the names of the checks that failed, the count,
 * the URL. That line is also the signal when the engine reports the error without a URN.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import {
  describeSmokeFailure,
  isSmokeTypeChain,
  readSmokeFailure,
  type SmokeFailure,
} from "../../model/smoke";
import { urnName, urnTypeChain } from "../../model/urn";

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
  /** For a smoke step whose checks ran and failed: which, of how many, against what. */
  smoke?: SmokeFailure;
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
  return urn !== undefined && isSmokeTypeChain(urnTypeChain(urn));
}

/** A smoke step's failure: the checks it names when they ran, else the error's first line. */
function smokeStep(message: string): StepFailure {
  const smoke = readSmokeFailure(message.replace(DECORATION, ""));
  if (smoke) return { step: "smoke", reason: describeSmokeFailure(smoke), smoke };
  const first = cleanMessage(message).split(" | ")[0];
  return { step: "smoke", reason: first || "the smoke run failed" };
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
    (d) => isSmokeUrn(d!.urn) || readSmokeFailure(d!.message.replace(DECORATION, "")),
  );
  if (smoke) return smokeStep(smoke.message);

  const failedSmoke = events.find((e) => isSmokeUrn(e.resOpFailedEvent?.metadata.urn));
  if (failedSmoke) {
    return {
      step: "smoke",
      reason: `${urnName(failedSmoke.resOpFailedEvent!.metadata.urn)} failed`,
    };
  }

  const errorText = error instanceof Error ? error.message : String(error ?? "");
  if (readSmokeFailure(errorText.replace(DECORATION, ""))) return smokeStep(errorText);

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
