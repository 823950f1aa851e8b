/**
 * The retry schedule, as a pure function. Both retry layers use it: undici's retry interceptor
 * (transport errors and 502/503/504 before a response is delivered) and the check's own loop
 * (an older release still answering, a body that failed half-way). One schedule, one deadline.
 */

export interface BackoffPolicy {
  /** Wait before the first retry. */
  initialMs: number;
  /** Growth per retry. */
  factor: number;
  /** Longest wait between two attempts. */
  maxMs: number;
  /** A retry is only worth starting if at least this long remains before the deadline. */
  minAttemptMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 250,
  factor: 2,
  maxMs: 5000,
  minAttemptMs: 100,
};

/**
 * How long to wait before retry number `retry` (1 for the first retry), or `undefined` when the
 * deadline leaves no room for another attempt. The wait grows exponentially up to `maxMs` and is
 * shortened so that the attempt after it still starts `minAttemptMs` before the deadline.
 */
export function nextDelay(
  retry: number,
  nowMs: number,
  deadlineAtMs: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number | undefined {
  const remaining = deadlineAtMs - nowMs;
  if (!(remaining > policy.minAttemptMs)) return undefined;
  const exponent = Math.max(0, Math.floor(retry) - 1);
  const wanted = Math.min(policy.initialMs * policy.factor ** exponent, policy.maxMs);
  return Math.max(0, Math.min(wanted, remaining - policy.minAttemptMs));
}
