/** How a promotion ended, in one line. */
import { EXIT } from "../../model/cli";
import type { EnvName } from "../../model/environment";
import { describeRelease } from "./release";
import type { PromoteResult } from "./ports";

/** One line that says how the run ended and what state each environment was left in. */
export function summarize(
  envs: readonly EnvName[],
  preview: boolean,
  result: PromoteResult,
): string {
  if (preview) {
    if (result.failures.length === 0)
      return `preview: ${envs.join(", ")} previewed cleanly; nothing was changed`;
    const failed = result.failures.map((f) => `${f.env} (${f.step})`).join(", ");
    return `preview: failed for ${failed}; nothing was changed`;
  }
  if (result.exitCode === EXIT.ok) return `promote: ${envs.join(" → ")} deployed and verified`;
  const first = result.failures[0];
  if (!first) return "promote: failed";
  const parts = [`promote: stopped at ${first.env} (${first.step}): ${first.reason}`];
  const rb = result.rollback;
  if (rb?.outcome === "done" && rb.release)
    parts.push(`${rb.env} rolled back to ${describeRelease(rb.release)}`);
  if (rb?.outcome === "failed")
    parts.push(
      `rollback of ${rb.env} FAILED (${rb.reason ?? "unknown"}): ${rb.env} needs attention`,
    );
  if (rb?.outcome === "unavailable")
    parts.push(`${rb.env} was not rolled back: no verified release to return to`);
  if (result.completed.length > 0) parts.push(`deployed: ${result.completed.join(", ")}`);
  const untouched = envs.slice(envs.indexOf(first.env) + 1);
  if (untouched.length > 0) parts.push(`not touched: ${untouched.join(", ")}`);
  return parts.join("; ");
}
