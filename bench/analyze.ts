/**
 * AnalyzeStack over a synthetic stack of 1,000 to 10,000 resources: time and peak memory of the
 * policy pack process, and how both grow. Not a timed test: run it with `npm run bench:verify`.
 *
 * The synthetic stack is the real prod stack, with its database, migration, Secrets, ConfigMaps,
 * Services and NetworkPolicies copied (unique names, each copy's pods referring to its own
 * Secret) until the stack has the size asked for. It passes every policy, so what is measured is
 * the pack reading and checking everything, not reporting.
 */
import * as fs from "node:fs";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { ENVIRONMENTS } from "../model/environment";
import { type AnalyzerResourceInput, analyzeStackRequest } from "../tools/analyzer";
import { canarySecrets } from "../tools/evaluate";
import { packConfig, stackContext, startPack } from "../tools/verify/pack";
import { runStack, type StackRun } from "../tools/verify/stacks";

/* eslint-disable @typescript-eslint/no-explicit-any */

const COPIED =
  /:(Secret|ConfigMap|Service|NetworkPolicy|StatefulSet|Job|ResourceQuota|LimitRange)$/;

function rename(value: any, from: string, to: string): any {
  return JSON.parse(JSON.stringify(value).split(`"${from}"`).join(`"${to}"`));
}

/** The prod stack grown to `size` resources by copying its namespaced parts. */
export function syntheticStack(run: StackRun, size: number): AnalyzerResourceInput[] {
  const base = run.view.analyzeStack;
  const copyable = base.filter((r) => COPIED.test(r.type));
  const out = [...base];
  for (let i = 1; out.length < size; i++) {
    for (const r of copyable) {
      if (out.length >= size) break;
      let props = JSON.parse(JSON.stringify(r.properties));
      const name = props.metadata?.name;
      if (typeof name === "string") props.metadata.name = `${name}-${i}`;
      // Pods of a copy refer to the copy's own Secret.
      props = rename(props, "app-db-credentials", `app-db-credentials-${i}`);
      if (r.type.endsWith(":Secret")) props.metadata.name = `app-db-credentials-${i}`;
      out.push({ ...r, urn: `${r.urn}-${i}`, name: `${r.name}-${i}`, properties: props });
    }
  }
  return out;
}

/** The pack process's peak resident memory (VmHWM), in MiB. */
export function peakMiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The pack process's resident memory now (VmRSS), in MiB. */
export function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

export interface AnalyzeSample {
  resources: number;
  /** The harness's JavaScript protobuf encoding of the request (not the pack's time). */
  encodeMs: number;
  /**
   * The SDK's own decoding of the same bytes (`AnalyzeStackRequest.deserializeBinary`, the
   * google-protobuf code grpc-js runs in the pack before any policy), once, in the harness after
   * the timed call: an estimate of the part of `ms` that no policy code can change. (The pack's
   * decoder is cold, in a fresh process per size; the harness's is warm after the first size.)
   * Absent in a baseline from before it was measured.
   */
  decodeMs?: number;
  requestMiB: number;
  ms: number;
  diagnostics: number;
  peakMiB: number;
  startPeakMiB: number;
  /** Resident memory once the pack printed its port and was configured, before AnalyzeStack. */
  idleMiB?: number;
}

export async function benchAnalyzeStack(sizes: readonly number[]): Promise<AnalyzeSample[]> {
  const runs: StackRun[] = [];
  for (const env of ENVIRONMENTS) runs.push(await runStack(env, { secrets: canarySecrets(env) }));
  const prod = runs[2] as StackRun;
  const config = packConfig(
    runs[1]?.baseline,
    [runs[0]?.baseline].filter((b) => b !== undefined),
  );
  const samples: AnalyzeSample[] = [];
  for (const size of sizes) {
    // A fresh pack per size, as the engine starts one per run, so that its peak is this size's;
    // prebuilt, as verify runs it (the engine's host adds TypeScript's ~270 MiB and its type check).
    const pack = await startPack(prod, config, { typeCheck: false });
    try {
      await pack.configureStack(stackContext(prod));
      const startPeakMiB = peakMiB(pack.pid);
      const idleMiB = rssMiB(pack.pid);
      const resources = syntheticStack(prod, size);
      const requestMiB = Buffer.byteLength(JSON.stringify(resources)) / 2 ** 20;
      // Encode the request first: the engine encodes in Go; what is timed is the pack's work
      // (decoding, every stack policy, the answer) and the loopback transfer.
      const te = process.hrtime.bigint();
      const bytes = analyzeStackRequest(resources).serializeBinary();
      const encodeMs = Number(process.hrtime.bigint() - te) / 1e6;
      const t = process.hrtime.bigint();
      const res = await pack.sendEncoded(bytes);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      // After the timed call, so that the harness's work (and its garbage) never shares the cores
      // with the pack's.
      const td = process.hrtime.bigint();
      analyzerPb.AnalyzeStackRequest.deserializeBinary(bytes);
      const decodeMs = Number(process.hrtime.bigint() - td) / 1e6;
      samples.push({
        encodeMs,
        decodeMs,
        resources: resources.length,
        requestMiB,
        ms,
        diagnostics: res.diagnostics.length,
        peakMiB: peakMiB(pack.pid),
        startPeakMiB,
        idleMiB,
      });
      process.stderr.write(
        `bench: AnalyzeStack ${resources.length} resources: ${ms.toFixed(0)} ms (the SDK's decode alone ${decodeMs.toFixed(0)} ms), peak ${peakMiB(pack.pid).toFixed(0)} MiB\n`,
      );
    } finally {
      await pack.close();
    }
  }
  return samples;
}

if (require.main === module) {
  benchAnalyzeStack([1000, 2500, 5000, 10000]).then(
    (s) => process.stdout.write(`${JSON.stringify(s, null, 2)}\n`),
    (err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
