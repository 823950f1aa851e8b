/**
 * Which key of this project a typo meant: an unknown key is an error (a typo in prod is exactly how
 * environments drift), and its message names the closest known key, or every known key.
 */
import { PROJECT } from "./environmentConfig";

/** The line for an unknown key of `file`, with the known key it most likely meant. */
export function unknownKey(file: string, key: string, known: string[]): string {
  const close = known
    .map((k) => ({ k, d: editDistance(k.toLowerCase(), key.toLowerCase()) }))
    .filter(({ d }) => d <= 2)
    .sort((a, b) => a.d - b.d)[0];
  const hint = close
    ? `did you mean ${PROJECT}:${close.k}?`
    : `expected one of ${known.sort().join(", ")}.`;
  return `${file}: ${PROJECT}:${key} is not a key of this project; ${hint}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
