/**
 * What the pod policies' specs feed the pack: one compliant pod template of the real stack (its
 * own containers, plus an init container made from the first), held the way each kind that runs
 * pods holds it, and cases that each change one field of it. All the cases of a spec go to the
 * pack in one run, each as its own resource, so a case's diagnostics are those about its URN.
 */
import assert from "node:assert/strict";
import type { EnvName } from "../../../model/environment";
import { T } from "../../../policies/lib/types";
import { add, analyzeCase, closeAll, views } from "../support";

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Every kind that runs pods, and how it holds its pod template. */
const KINDS = {
  Pod: { type: T.pod, apiVersion: "v1", spec: (t: any) => t.spec },
  Deployment: { type: T.deployment, apiVersion: "apps/v1", spec: (t: any) => replicated(t) },
  StatefulSet: {
    type: T.statefulSet,
    apiVersion: "apps/v1",
    spec: (t: any) => ({ ...replicated(t), serviceName: "app" }),
  },
  DaemonSet: {
    type: T.daemonSet,
    apiVersion: "apps/v1",
    spec: (t: any) => ({ selector: selector(t), template: t }),
  },
  ReplicaSet: { type: T.replicaSet, apiVersion: "apps/v1", spec: (t: any) => replicated(t) },
  ReplicationController: {
    type: T.replicationController,
    apiVersion: "v1",
    spec: (t: any) => ({ replicas: 2, selector: t.metadata.labels, template: t }),
  },
  Job: { type: T.job, apiVersion: "batch/v1", spec: (t: any) => ({ template: t }) },
  CronJob: {
    type: T.cronJob,
    apiVersion: "batch/v1",
    spec: (t: any) => ({ schedule: "0 3 * * *", jobTemplate: { spec: { template: t } } }),
  },
} as const;

export type Kind = keyof typeof KINDS;
export const ALL_KINDS = Object.keys(KINDS) as Kind[];
const RUN_TO_COMPLETION = new Set<Kind>(["Job", "CronJob"]);

function selector(t: any) {
  return { matchLabels: t.metadata.labels };
}

function replicated(t: any) {
  return { replicas: 2, selector: selector(t), template: t };
}

/** One change from the compliant baseline, on the pod spec (and the template's metadata). */
export type Change = (spec: any, template: any) => void;

export interface PodCase {
  /** The resource's name (and metadata.name): what the policy's message starts with. */
  id: string;
  kind: Kind;
  /** The one change from the compliant baseline. */
  change?: Change;
  /** The stack whose pack checks it; prod by default. */
  stack?: EnvName;
}

/** The compliant baseline of each kind, and a case per kind made by one change. */
export function perKind(
  id: string,
  change?: PodCase["change"],
  kinds: readonly Kind[] = ALL_KINDS,
): PodCase[] {
  return kinds.map((kind) => ({ id: `${id}-${kind.toLowerCase()}`, kind, change }));
}

/**
 * Runs the cases through the pack (one run per stack), built from the pod template of the stack's
 * resource named `*source`; returns, for a case id, the messages `policy` gave about it.
 */
export async function analyzePodCases(
  policy: string,
  source: string,
  cases: readonly PodCase[],
): Promise<(id: string) => string[]> {
  const ids = new Set(cases.map((c) => c.id));
  if (ids.size !== cases.length) throw new Error(`two cases of ${policy} share an id`);
  const byUrn = new Map<string, string[]>();
  const urnOf = new Map<string, string>();
  const stacks = [...new Set(cases.map((c) => c.stack ?? "prod"))];
  await Promise.all(
    stacks.map(async (stack) => {
      const r = await analyzeCase({
        stack,
        // The pod policies read no policy config; without it the lower stacks need no evaluation.
        policyConfig: {},
        mutate: (run) => {
          const src = views(run, source)[0]?.properties as any;
          for (const c of cases.filter((x) => (x.stack ?? "prod") === stack)) {
            const props = workload(c, src);
            add(run, source, KINDS[c.kind].type, c.id, props);
            urnOf.set(c.id, `urn:pulumi:${stack}::env-progression::${KINDS[c.kind].type}::${c.id}`);
          }
        },
      });
      for (const d of r.diagnostics)
        if (d.policyName === policy) byUrn.set(d.urn, [...(byUrn.get(d.urn) ?? []), d.message]);
    }),
  );
  return (id) => {
    const urn = urnOf.get(id);
    if (urn === undefined) throw new Error(`no case ${id} of ${policy}`);
    return byUrn.get(urn) ?? [];
  };
}

/** A case's resource: the source's pod template with a compliant init container, then the change. */
function workload(c: PodCase, source: any): Record<string, unknown> {
  const template = JSON.parse(JSON.stringify(source.spec.template));
  const spec = template.spec;
  const init = { ...structuredClone(spec.containers[0]), name: "init" };
  // The API server refuses probes and ports on an init container that is not a sidecar.
  for (const k of ["readinessProbe", "livenessProbe", "startupProbe", "ports"]) delete init[k];
  spec.initContainers = [init];
  if (RUN_TO_COMPLETION.has(c.kind)) spec.restartPolicy = "Never";
  else delete spec.restartPolicy;
  c.change?.(spec, template);
  const kind = KINDS[c.kind];
  const metadata = { ...template.metadata, name: c.id, namespace: source.metadata.namespace };
  return { apiVersion: kind.apiVersion, kind: c.kind, metadata, spec: kind.spec(template) };
}

/**
 * A failing case: the findings expected and no other, each naming the resource and giving the
 * rule's reason and fix, none repeating `value` (what the change set) when it is given.
 */
export function assertFindings(
  messages: readonly string[],
  id: string,
  expected: readonly RegExp[],
  value?: string,
): void {
  const all = messages.join("\n");
  assert.equal(messages.length, expected.length, all || "no finding");
  for (const e of expected) assert.match(all, e);
  for (const m of messages) {
    // The SDK puts the policy's description on the line before the violation's own message.
    const own = m.slice(m.lastIndexOf("\n") + 1);
    assert.ok(own.startsWith(`${id}: `), m);
    assert.match(own, /^[^:]+: .+: .+\. Fix: .+\.$/);
    if (value !== undefined) assert.ok(!m.includes(value), `the message repeats a value: ${m}`);
  }
}

export interface RuleCase {
  title: string;
  case: PodCase;
  /** The findings it must give, and no other; none for a case the rule leaves alone. */
  expect: readonly RegExp[];
  /** What the change set, which no message may repeat. */
  value?: string;
}

/**
 * A failing case made by one change, on a Deployment unless another kind is named, and titled by
 * its id: `.finds(expect, value)` names the one finding it must give and what the change set,
 * which no message may repeat.
 */
export function failing(id: string, change: Change, kind: Kind = "Deployment") {
  return {
    finds: (expect: RegExp, value?: string): RuleCase => ({
      title: id.replace(/-/g, " "),
      case: { id, kind, change },
      expect: [expect],
      value,
    }),
  };
}

export interface PodPolicySpec {
  policy: string;
  /** The stack resource whose pod template is the compliant baseline (a name suffix). */
  source: string;
  /** The kinds the rule holds for; each of them fails with `eachKind`'s change. */
  kinds: readonly Kind[];
  eachKind: Omit<RuleCase, "case"> & { change: Change };
  /** One failing case per rule, in an init container and a CronJob's job template among them. */
  rules: readonly RuleCase[];
  /** What the rule leaves alone: kinds or containers it does not hold for, allowed values. */
  allowed: readonly Omit<RuleCase, "expect">[];
  /** What it cannot decide during a preview: only the SDK's "can't run policy" advisory. */
  waits?: readonly Omit<RuleCase, "expect">[];
}

/** The spec of one pod policy: every kind's baseline passes; each kind, and each rule, fails. */
export function describePodPolicy(s: PodPolicySpec): void {
  const baselines = perKind("baseline");
  const broken = perKind("broken", s.eachKind.change, s.kinds);
  const cases = [
    ...baselines,
    ...broken,
    ...s.rules.map((r) => r.case),
    ...s.allowed.map((a) => a.case),
    ...(s.waits ?? []).map((w) => w.case),
  ];
  describe(`${s.policy} (each case its own resource, in one run of the pack)`, function () {
    this.timeout(300_000);
    let messages: (id: string) => string[] = () => [];
    before(async () => {
      messages = await analyzePodCases(s.policy, s.source, cases);
    });
    after(closeAll);

    for (const [i, kind] of ALL_KINDS.entries()) {
      it(`${kind}: the compliant baseline passes`, () => {
        assert.deepEqual(messages((baselines[i] as PodCase).id), []);
      });
    }
    for (const c of broken) {
      it(`${c.kind}: ${s.eachKind.title}`, () => {
        assertFindings(messages(c.id), c.id, s.eachKind.expect, s.eachKind.value);
      });
    }
    for (const r of s.rules) {
      it(`fails: ${r.title}`, () =>
        assertFindings(messages(r.case.id), r.case.id, r.expect, r.value));
    }
    for (const a of s.allowed) {
      it(`passes: ${a.title}`, () => assert.deepEqual(messages(a.case.id), []));
    }
    for (const w of s.waits ?? []) {
      it(`waits during a preview: ${w.title}`, () => {
        const m = messages(w.case.id);
        assert.equal(m.length, 1, m.join("\n") || "no diagnostic");
        assert.match(
          m[0] as string,
          new RegExp(`can't run policy '${s.policy}' .* during preview`),
        );
      });
    }
  });
}
