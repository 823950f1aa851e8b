/**
 * Are a stack's requests and limits well-formed? Checked before anything is created, because the
 * API server would refuse a request above its limit only after half an environment exists.
 */
import type { Resources } from "../environment";
import { parseCpu, parseMemory } from "../quantity";

/** `resources` of the stack file; each problem goes to `fail`, naming the key and what is right. */
export function parseResources(
  value: unknown,
  fail: (key: string, got: string, expected: string) => void,
  got: (value: unknown) => string,
): Resources | undefined {
  const example = "requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 256Mi}";
  if (value === undefined) {
    fail("resources", "is missing", `a map such as {${example}}`);
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("resources", got(value), `a map such as {${example}}`);
    return undefined;
  }
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    if (k !== "requests" && k !== "limits")
      fail(`resources.${k}`, "is not a known key", "only requests and limits");
  }
  const out: Partial<Resources> = {};
  for (const part of ["requests", "limits"] as const) {
    const spec = v[part];
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
      fail(
        `resources.${part}`,
        spec === undefined ? "is missing" : got(spec),
        "a map with cpu and memory",
      );
      continue;
    }
    const s = spec as Record<string, unknown>;
    for (const k of Object.keys(s)) {
      if (k !== "cpu" && k !== "memory")
        fail(`resources.${part}.${k}`, "is not a known key", "only cpu and memory");
    }
    // YAML writes `cpu: 1` or `memory: 268435456` as numbers; Kubernetes takes them as quantities.
    const cpu = quantityText(s.cpu);
    const memory = quantityText(s.memory);
    if (typeof cpu !== "string" || parseCpu(cpu) === undefined) {
      fail(
        `resources.${part}.cpu`,
        cpu === undefined ? "is missing" : got(s.cpu),
        "a CPU quantity such as 250m or 1",
      );
    }
    if (typeof memory !== "string" || parseMemory(memory) === undefined) {
      fail(
        `resources.${part}.memory`,
        memory === undefined ? "is missing" : got(s.memory),
        "a memory quantity such as 256Mi",
      );
    }
    out[part] = { cpu: String(cpu), memory: String(memory) };
  }
  if (out.requests && out.limits) {
    for (const r of ["cpu", "memory"] as const) {
      const parse = r === "cpu" ? parseCpu : parseMemory;
      const req = parse(out.requests[r]);
      const lim = parse(out.limits[r]);
      if (req !== undefined && lim !== undefined && req > lim) {
        fail(
          `resources.requests.${r}`,
          `is ${out.requests[r]}, above its limit ${out.limits[r]}`,
          "a request at most the limit",
        );
      }
    }
  }
  return out.requests && out.limits ? (out as Resources) : undefined;
}

/** A quantity as text: a number written in YAML becomes its decimal text, anything else is kept. */
function quantityText(value: unknown): unknown {
  return typeof value === "number" && Number.isFinite(value) ? String(value) : value;
}
