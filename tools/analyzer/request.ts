/**
 * What the engine sends an analyzer: resources and their options as the Analyzer protocol's
 * messages, properties marshalled as the engine marshals them (MarshalProperties with
 * SkipInternalKeys; secrets stay signature objects, unknowns sentinel strings).
 */
import * as structPb from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";

export interface AnalyzerProvider {
  urn: string;
  type: string;
  name: string;
  properties: Record<string, unknown>;
}

export interface AnalyzerOptions {
  protect?: boolean;
  ignoreChanges?: string[];
  deleteBeforeReplace?: boolean;
  additionalSecretOutputs?: string[];
  aliases?: string[];
  customTimeouts?: { create: number; update: number; delete: number };
  parent?: string;
}

/** One resource as the engine describes it to an analyzer. */
export interface AnalyzerResourceInput {
  urn: string;
  type: string;
  name: string;
  /** Wire-format properties: secrets as signature objects, unknowns as sentinel strings. */
  properties: Record<string, unknown>;
  options: AnalyzerOptions;
  provider?: AnalyzerProvider;
  /** AnalyzeStack only. */
  parent?: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
}

/** MarshalProperties(SkipInternalKeys): top-level keys starting with "__" are not sent. */
function wireStruct(props: Record<string, unknown>): structPb.Struct {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith("__") || v === undefined) continue;
    clean[k] = dropUndefined(v);
  }
  return structPb.Struct.fromJavaScript(clean as Record<string, structPb.JavaScriptValue>);
}

/** A protobuf Struct has no undefined: a missing key, and null in a list, as JSON would have it. */
export function dropUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : dropUndefined(x)));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = dropUndefined(x);
    return out;
  }
  return v;
}

function optionsPb(o: AnalyzerOptions): analyzerPb.AnalyzerResourceOptions {
  const opts = new analyzerPb.AnalyzerResourceOptions();
  opts.setProtect(o.protect ?? false);
  opts.setIgnorechangesList(o.ignoreChanges ?? []);
  opts.setDeletebeforereplace(o.deleteBeforeReplace ?? false);
  opts.setDeletebeforereplacedefined(o.deleteBeforeReplace !== undefined);
  opts.setAdditionalsecretoutputsList(o.additionalSecretOutputs ?? []);
  opts.setAliasesList(o.aliases ?? []);
  const t = new analyzerPb.AnalyzerResourceOptions.CustomTimeouts();
  t.setCreate(o.customTimeouts?.create ?? 0);
  t.setUpdate(o.customTimeouts?.update ?? 0);
  t.setDelete(o.customTimeouts?.delete ?? 0);
  opts.setCustomtimeouts(t);
  opts.setParent(o.parent ?? "");
  return opts;
}

function providerPb(p: AnalyzerProvider): analyzerPb.AnalyzerProviderResource {
  const out = new analyzerPb.AnalyzerProviderResource();
  out.setUrn(p.urn);
  out.setType(p.type);
  out.setName(p.name);
  out.setProperties(wireStruct(p.properties));
  return out;
}

/** What Analyze's request and AnalyzeStack's resources both carry, set from one resource. */
function withResource<M extends analyzerPb.AnalyzeRequest | analyzerPb.AnalyzerResource>(
  msg: M,
  r: AnalyzerResourceInput,
): M {
  msg.setUrn(r.urn);
  msg.setType(r.type);
  msg.setName(r.name);
  msg.setProperties(wireStruct(r.properties));
  msg.setOptions(optionsPb(r.options));
  if (r.provider) msg.setProvider(providerPb(r.provider));
  return msg;
}

export function analyzeRequest(r: AnalyzerResourceInput): analyzerPb.AnalyzeRequest {
  return withResource(new analyzerPb.AnalyzeRequest(), r);
}

export function stackResource(r: AnalyzerResourceInput): analyzerPb.AnalyzerResource {
  const out = withResource(new analyzerPb.AnalyzerResource(), r);
  out.setParent(r.parent ?? "");
  out.setDependenciesList(r.dependencies ?? []);
  const deps = out.getPropertydependenciesMap();
  for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
    if (urns.length === 0) continue;
    const d = new analyzerPb.AnalyzerPropertyDependencies();
    d.setUrnsList(urns);
    deps.set(k, d);
  }
  return out;
}

export function analyzeStackRequest(
  resources: readonly AnalyzerResourceInput[],
): analyzerPb.AnalyzeStackRequest {
  const req = new analyzerPb.AnalyzeStackRequest();
  req.setResourcesList(resources.map(stackResource));
  return req;
}
