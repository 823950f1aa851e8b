/**
 * What the program registered, as the engine would describe it to an analyzer: every
 * RegisterResource the SDK sends while the program runs under its in-process engine, captured at
 * the mock monitor, then given engine URNs, the Stack resource, default providers, parents,
 * dependencies and options. `verify` (./stacks.ts) hands the result to the policy pack.
 */
import type * as resourcePb from "@pulumi/pulumi/proto/resource_pb";
import type { AnalyzerOptions, AnalyzerProvider, AnalyzerResourceInput } from "../analyzer";

/** One RegisterResource call as the SDK sent it (captured at the mock monitor). */
export interface Registration {
  type: string;
  name: string;
  custom: boolean;
  /** The mock monitor's URN of the parent; "" for a top-level resource. */
  parentMockUrn: string;
  mockUrn: string;
  /** Wire-format inputs, exactly as sent. */
  inputs: Record<string, unknown>;
  /** Wire-format state the mock returned (outputs). */
  outputs: Record<string, unknown>;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  protect: boolean;
  ignoreChanges: string[];
  deleteBeforeReplace?: boolean;
  additionalSecretOutputs: string[];
  customTimeouts?: { create: number; update: number; delete: number };
  provider: string;
}

/** A Go duration ("15m", "1h30m", "90s") in seconds, as the engine converts custom timeouts. */
export function goDurationSeconds(text: string): number {
  if (text === "") return 0;
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g;
  let m: RegExpExecArray | null;
  const unit: Record<string, number> = {
    h: 3600,
    m: 60,
    s: 1,
    ms: 1e-3,
    us: 1e-6,
    µs: 1e-6,
    ns: 1e-9,
  };
  while ((m = re.exec(text)) !== null) total += Number(m[1]) * (unit[m[2] as string] as number);
  return total;
}

/**
 * Records every RegisterResource the SDK sends while `fn` runs (the program under
 * `pulumi.runtime.setMocks`), with its parent, options and the state the mock returned. It wraps
 * the SDK's MockMonitor.prototype.registerResource, which tools/evaluate.ts's own hook calls.
 */
export async function captureRegistrations<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; registrations: Registration[] }> {
  const mocks = require("@pulumi/pulumi/runtime/mocks") as {
    MockMonitor: { prototype: Record<string, unknown> };
  };
  const proto = mocks.MockMonitor.prototype;
  if ((proto.registerResource as { capturing?: boolean }).capturing) {
    throw new Error(
      "captureRegistrations: another capture is running; the SDK's mocks are process-wide, evaluate one stack at a time",
    );
  }
  const original = proto.registerResource as (
    this: unknown,
    req: resourcePb.RegisterResourceRequest,
    cb: (err: unknown, res?: resourcePb.RegisterResourceResponse) => void,
  ) => Promise<void>;
  const registrations: Registration[] = [];
  const patched = function (
    this: unknown,
    req: resourcePb.RegisterResourceRequest,
    cb: (err: unknown, res?: resourcePb.RegisterResourceResponse) => void,
  ) {
    return original.call(this, req, (err, res) => {
      if (!err && res) {
        const timeouts = req.getCustomtimeouts();
        const propDeps: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((v, k) => (propDeps[k] = v.getUrnsList()));
        registrations.push({
          type: req.getType(),
          name: req.getName(),
          custom: req.getCustom(),
          parentMockUrn: req.getParent(),
          mockUrn: res.getUrn(),
          inputs: (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
          outputs: (res.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
          dependencies: req.getDependenciesList(),
          propertyDependencies: propDeps,
          protect: req.getProtect() ?? false,
          ignoreChanges: req.getIgnorechangesList(),
          ...(req.getDeletebeforereplacedefined()
            ? { deleteBeforeReplace: req.getDeletebeforereplace() }
            : {}),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          ...(timeouts
            ? {
                customTimeouts: {
                  create: goDurationSeconds(timeouts.getCreate()),
                  update: goDurationSeconds(timeouts.getUpdate()),
                  delete: goDurationSeconds(timeouts.getDelete()),
                },
              }
            : {}),
          provider: req.getProvider(),
        });
      }
      cb(err, res);
    });
  };
  (patched as { capturing?: boolean }).capturing = true;
  proto.registerResource = patched;
  try {
    const value = await fn();
    return { value, registrations };
  } finally {
    proto.registerResource = original;
  }
}

export interface EngineView {
  /** The root Stack resource the engine registers for every program. */
  stack: AnalyzerResourceInput;
  /** The default provider the engine creates for the kubernetes package. */
  provider: AnalyzerProvider;
  /** For Analyze: each registration with its inputs. */
  analyze: AnalyzerResourceInput[];
  /** For AnalyzeStack: the stack, the provider and every resource with its outputs. */
  analyzeStack: AnalyzerResourceInput[];
}

function packageVersion(pkg: string): string | undefined {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version.replace(/^v/, "");
  } catch {
    return undefined;
  }
}

/**
 * The resources as the engine describes them to an analyzer: engine URNs (the parent chain's
 * qualified type, the root Stack left out), the Stack resource, the default provider of each
 * package, parents, dependencies and options.
 */
export function engineView(
  registrations: readonly Registration[],
  ctx: { stack: string; project: string; stackOutputs?: Record<string, unknown> },
): EngineView {
  const prefix = `urn:pulumi:${ctx.stack}::${ctx.project}::`;
  const stackUrn = `${prefix}pulumi:pulumi:Stack::${ctx.project}-${ctx.stack}`;
  const byMock = new Map(registrations.map((r) => [r.mockUrn, r]));
  const qualified = new Map<string, string>();
  const qualify = (r: Registration): string => {
    const known = qualified.get(r.mockUrn);
    if (known !== undefined) return known;
    const parent = byMock.get(r.parentMockUrn);
    const q = parent === undefined ? r.type : `${qualify(parent)}$${r.type}`;
    qualified.set(r.mockUrn, q);
    return q;
  };
  const urnOf = (r: Registration) => `${prefix}${qualify(r)}::${r.name}`;
  const mapUrn = (mock: string) => {
    const r = byMock.get(mock);
    return r ? urnOf(r) : mock;
  };
  const providers = new Map<string, AnalyzerProvider>();
  const providerFor = (type: string): AnalyzerProvider | undefined => {
    const pkg = type.split(":")[0] as string;
    if (pkg === ctx.project || pkg === "pulumi") return undefined;
    let p = providers.get(pkg);
    if (p === undefined) {
      // A package's default provider is named for its version; the dynamic provider has none.
      const version = pkg === "pulumi-nodejs" ? undefined : packageVersion(`@pulumi/${pkg}`);
      const name = version === undefined ? "default" : `default_${version.replace(/[.-]/g, "_")}`;
      p = {
        urn: `${prefix}pulumi:providers:${pkg}::${name}`,
        type: `pulumi:providers:${pkg}`,
        name,
        properties: version === undefined ? {} : { version },
      };
      providers.set(pkg, p);
    }
    return p;
  };
  const stack: AnalyzerResourceInput = {
    urn: stackUrn,
    type: "pulumi:pulumi:Stack",
    name: `${ctx.project}-${ctx.stack}`,
    properties: {},
    options: {},
  };
  const analyze: AnalyzerResourceInput[] = [stack];
  const analyzeStack: AnalyzerResourceInput[] = [{ ...stack, properties: ctx.stackOutputs ?? {} }];
  for (const r of registrations) {
    const urn = urnOf(r);
    const parent = byMock.has(r.parentMockUrn) ? mapUrn(r.parentMockUrn) : stackUrn;
    const provider = r.custom ? providerFor(r.type) : undefined;
    const options: AnalyzerOptions = {
      protect: r.protect,
      ignoreChanges: r.ignoreChanges,
      ...(r.deleteBeforeReplace !== undefined
        ? { deleteBeforeReplace: r.deleteBeforeReplace }
        : {}),
      additionalSecretOutputs: r.additionalSecretOutputs,
      aliases: [],
      ...(r.customTimeouts ? { customTimeouts: r.customTimeouts } : {}),
      parent,
    };
    const base = { urn, type: r.type, name: r.name, options, ...(provider ? { provider } : {}) };
    analyze.push({ ...base, properties: r.inputs });
    const propertyDependencies: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(r.propertyDependencies))
      propertyDependencies[k] = v.map(mapUrn);
    analyzeStack.push({
      ...base,
      properties: r.outputs,
      parent,
      dependencies: r.dependencies.map(mapUrn),
      propertyDependencies,
    });
  }
  for (const p of providers.values()) {
    const asResource: AnalyzerResourceInput = {
      urn: p.urn,
      type: p.type,
      name: p.name,
      properties: p.properties,
      options: { parent: stackUrn },
      parent: stackUrn,
    };
    analyzeStack.splice(1, 0, asResource);
  }
  return {
    stack,
    provider: providers.values().next().value ?? { urn: "", type: "", name: "", properties: {} },
    analyze,
    analyzeStack,
  };
}

/** The stack tags the engine sets for a project (GetEnvironmentTagsForCurrentStack), plus extra ones. */
export function engineStackTags(
  project: { name: string; runtime: string; description?: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    "pulumi:project": project.name,
    "pulumi:runtime": project.runtime,
    ...(project.description !== undefined ? { "pulumi:description": project.description } : {}),
    ...extra,
  };
}
