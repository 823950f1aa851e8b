/**
 * Kubernetes resource quantities, for the checks the API server would otherwise make too late
 * (after half an environment is created): a request above its limit, a malformed size.
 */

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** CPU in millicores, or undefined if it is not a CPU quantity ("250m", "1", "0.5"). */
export function parseCpu(value: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(m?)$/.exec(value);
  if (!m || m[1] === undefined) return undefined;
  const n = Number(m[1]);
  return m[2] === "m" ? n : n * 1000;
}

/** Memory in bytes, or undefined if it is not a memory quantity ("256Mi", "1G", "1000"). */
export function parseMemory(value: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(value);
  if (!m || m[1] === undefined) return undefined;
  const unit = MEMORY_UNITS[m[2] ?? ""];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/** Formats millicores the way Kubernetes prints them. */
export function formatCpu(millicores: number): string {
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${Math.ceil(millicores)}m`;
}

/** Formats bytes in Mi, rounded up. */
export function formatMemory(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)}Mi`;
}
