/**
 * `npm run bench:verify`: the wall time of `npm run verify` for the three stacks (a fresh process
 * each run, as a developer or CI runs it), then AnalyzeStack over synthetic stacks of 1,000 to
 * 10,000 resources (bench/analyze.ts). Prints a Markdown summary for docs/policies.md.
 */
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../tools/evaluate";
import { benchAnalyzeStack } from "./analyze";

function timeVerify(): Promise<{ ms: number; code: number | null }> {
  const tsNode = path.join(ROOT, "node_modules", "ts-node", "dist", "bin.js");
  const t = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [tsNode, "--transpile-only", "tools/verify.ts", "--json"],
      { cwd: ROOT, stdio: ["ignore", "ignore", "ignore"] },
    );
    child.on("close", (code) => resolve({ ms: Number(process.hrtime.bigint() - t) / 1e6, code }));
  });
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await timeVerify();
    if (r.code !== 0) throw new Error(`verify exited ${r.code}`);
    times.push(r.ms);
    process.stderr.write(`bench: verify run ${i + 1}: ${(r.ms / 1000).toFixed(2)} s\n`);
  }
  times.sort((a, b) => a - b);
  const sizes = (process.env.BENCH_SIZES ?? "1000,2500,5000,10000").split(",").map(Number);
  const samples = await benchAnalyzeStack(sizes);
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const out: string[] = [];
  out.push(
    `Machine: ${os.cpus().length} × ${cpu}, Node ${process.version}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  );
  out.push("");
  out.push(
    `verify, three stacks (fresh process, ${runs} runs): min ${((times[0] as number) / 1000).toFixed(2)} s, median ${((times[Math.floor(times.length / 2)] as number) / 1000).toFixed(2)} s`,
  );
  out.push("");
  out.push(
    "| resources | request | AnalyzeStack | per 1,000 | pack peak (VmHWM) | peak before the call | diagnostics | (harness encoding) |",
  );
  out.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const s of samples) {
    out.push(
      `| ${s.resources.toLocaleString("en")} | ${s.requestMiB.toFixed(1)} MiB | ${(s.ms / 1000).toFixed(2)} s | ${(s.ms / s.resources).toFixed(2)} s | ${s.peakMiB.toFixed(0)} MiB | ${s.startPeakMiB.toFixed(0)} MiB | ${s.diagnostics} | ${(s.encodeMs / 1000).toFixed(2)} s |`,
    );
  }
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
