/**
 * `npm run bench:verify [-- --baseline REF]`: the wall time of `npm run verify` for the three
 * stacks (a fresh process each run, as a developer or CI runs it), then AnalyzeStack over
 * synthetic stacks of 1,000 to 10,000 resources (bench/analyze.ts). Prints a Markdown summary for
 * docs/policies.md.
 *
 * With --baseline REF, the same as commit REF had it (its tools/, policies/, model/ and bench/,
 * from `git archive`, beside this checkout's node_modules), in the same run: verify's runs
 * alternate between the two, so that load from other work falls on both alike.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT as ROOT } from "../model/paths";
import { type AnalyzeSample, benchAnalyzeStack } from "./analyze";
import { unpackBaseline } from "./baseline";
import { npmScriptCommand } from "../tools/build/npmScript";

function timeVerify(root: string): Promise<{ ms: number; code: number | null }> {
  const [exe, ...args] = npmScriptCommand(root, "verify");
  const t = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(exe, [...args, "--json"], {
      cwd: root,
      stdio: ["ignore", "ignore", "ignore"],
    });
    child.on("close", (code) => resolve({ ms: Number(process.hrtime.bigint() - t) / 1e6, code }));
  });
}

/** The repository as commit `ref` had it, in a temporary folder beside this checkout's packages. */
function checkoutBaseline(ref: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-bench-"));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return unpackBaseline(ref, dir);
}

/** bench/analyze.ts of the baseline, in its own process: its samples as JSON. */
function baselineAnalyze(dir: string, sizes: readonly number[]): AnalyzeSample[] {
  const r = spawnSync(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      "-e",
      `require("./bench/analyze").benchAnalyzeStack(${JSON.stringify(sizes)}).then((s) => process.stdout.write(JSON.stringify(s)))`,
    ],
    { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 2 ** 20 },
  );
  if (r.status !== 0) throw new Error(`the baseline's bench/analyze.ts exited ${r.status}`);
  return JSON.parse(r.stdout) as AnalyzeSample[];
}

function parseArgs(argv: readonly string[]): { baseline?: string } {
  if (argv.length === 0) return {};
  if (argv[0] === "--baseline" && argv.length === 2 && argv[1] !== "") return { baseline: argv[1] };
  if (argv[0]?.startsWith("--baseline=") && argv.length === 1 && argv[0].length > 11)
    return { baseline: argv[0].slice(11) };
  throw new Error(`usage: npm run bench:verify [-- --baseline REF]; got ${argv.join(" ")}`);
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

function table(samples: readonly AnalyzeSample[]): string[] {
  const out = [
    "| resources | request | AnalyzeStack | per 1,000 | pack peak (VmHWM) | idle pack (VmRSS) | peak before the call | diagnostics | (harness encoding) | (the SDK's decode alone) |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const s of samples) {
    out.push(
      `| ${s.resources.toLocaleString("en")} | ${s.requestMiB.toFixed(1)} MiB | ${(s.ms / 1000).toFixed(2)} s | ${(s.ms / s.resources).toFixed(2)} s | ${s.peakMiB.toFixed(0)} MiB | ${s.idleMiB === undefined ? "–" : `${s.idleMiB.toFixed(0)} MiB`} | ${s.startPeakMiB.toFixed(0)} MiB | ${s.diagnostics} | ${(s.encodeMs / 1000).toFixed(2)} s | ${s.decodeMs === undefined ? "–" : `${(s.decodeMs / 1000).toFixed(2)} s`} |`,
    );
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const sides = [
    ...(args.baseline !== undefined
      ? [{ name: `before (${args.baseline})`, root: checkoutBaseline(args.baseline) }]
      : []),
    { name: args.baseline !== undefined ? "after (this checkout)" : "this checkout", root: ROOT },
  ];
  const times = new Map<string, number[]>(sides.map((s) => [s.name, []]));
  // One untimed run each: the build cache (tools/build/pack.ts) and the disk cache are warm for
  // both, as for a developer's second run.
  for (const side of sides) await timeVerify(side.root);
  for (let i = 0; i < runs; i++) {
    for (const side of sides) {
      const r = await timeVerify(side.root);
      if (r.code !== 0) throw new Error(`verify (${side.name}) exited ${r.code}`);
      times.get(side.name)?.push(r.ms);
      process.stderr.write(
        `bench: verify ${side.name} run ${i + 1}: ${(r.ms / 1000).toFixed(2)} s\n`,
      );
    }
  }
  const sizes = (process.env.BENCH_SIZES ?? "1000,2500,5000,10000").split(",").map(Number);
  const before =
    sides.length > 1 ? baselineAnalyze((sides[0] as { root: string }).root, sizes) : [];
  const samples = await benchAnalyzeStack(sizes);
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const out: string[] = [];
  out.push(
    `Machine: ${os.cpus().length} × ${cpu}, Node ${process.version}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  out.push("");
  for (const side of sides) {
    const t = times.get(side.name) ?? [];
    out.push(
      `verify, three stacks, ${side.name} (fresh process, ${runs} runs): min ${(Math.min(...t) / 1000).toFixed(2)} s, median ${(median(t) / 1000).toFixed(2)} s`,
    );
  }
  out.push("");
  if (before.length > 0) {
    out.push(`AnalyzeStack, before (${args.baseline}):`, "", ...table(before), "");
    out.push("AnalyzeStack, after (this checkout):", "");
  }
  out.push(...table(samples));
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first && last && first !== last) {
    const n = last.resources / first.resources;
    out.push("");
    out.push(
      `From ${first.resources.toLocaleString("en")} to ${last.resources.toLocaleString("en")} resources (×${n.toFixed(0)}): time ×${(last.ms / first.ms).toFixed(1)}, peak memory above the idle pack ×${((last.peakMiB - last.startPeakMiB) / Math.max(1, first.peakMiB - first.startPeakMiB)).toFixed(1)}.`,
    );
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exit(1);
});
