/**
 * Benchmark: the smoke CLI against the seed script (bench/seed/smoke-test.sh, the article's script kept verbatim), both against
 * the reference app (app/server.js), as processes, wall-clock from spawn to exit. Medians.
 *
 *   npm run bench:smoke [-- --runs 15 --delay 20 --hang-deadline 5 --seed-cap 15 --baseline REF]
 *
 * 1. Start-up on plain loopback, 4 checks: the CLI as `npm run smoke` runs it, the ways it is not
 *    run (to show what each choice costs), the seed script, bare Node, a minimal undici client;
 *    with --baseline, also the CLI as commit REF had it (its smoke/ and its `smoke` script), in
 *    the same interleaved rounds: a before/after that one machine's load does not skew.
 * 2. Through a proxy adding --delay ms each way, over TLS: the CLI against the seed script.
 * 3. Growth with the number of checks (4, 16, 64), on loopback and through the proxy. The seed
 *    script has four checks: N checks are the script run N/4 times in a row.
 * 4. A target that accepts and never answers: time to a verdict. The seed script never gives one;
 *    it is killed at --seed-cap seconds.
 *
 * Needs curl, jq (the seed script) and openssl (certificates). Traffic stays on 127.0.0.1.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { CONTRACT_CHECKS, repeatChecks } from "../smoke/contract";
import { REPO_ROOT as ROOT } from "../model/paths";
import { makeCertificates } from "../test/smoke/certificates";
import { unpackBaseline } from "./baseline";

const SEED = path.join(ROOT, "bench", "seed", "smoke-test.sh");
const NODE = process.execPath;

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    delay: { type: "string", default: "20" },
    "hang-deadline": { type: "string", default: "5" },
    "seed-cap": { type: "string", default: "15" },
    baseline: { type: "string" },
  },
});
const RUNS = Number(values.runs);
const DELAY_MS = Number(values.delay);
const HANG_DEADLINE_S = Number(values["hang-deadline"]);
const SEED_CAP_S = Number(values["seed-cap"]);
const BASELINE = values.baseline;

interface Timed {
  ms: number;
  code: number | null;
  killed: boolean;
  output: string;
}

interface Variant {
  name: string;
  cmd: string[];
  env?: Record<string, string>;
  /** Exit code that counts as the expected verdict. */
  expect?: number;
}

function run(cmd: string[], env: Record<string, string> = {}, capMs = 120_000): Promise<Timed> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd[0] as string, cmd.slice(1), {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (chunk: Buffer): void => {
      if (output.length < 4096) output += chunk.toString();
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let killed = false;
    // The seed script waits for ever on a silent target: the cap is the only way it ends.
    const cap = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, capMs);
    child.on("exit", (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      clearTimeout(cap);
      resolve({ ms, code, killed, output });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Runs every variant `runs` times, interleaved (rotating the order each round), after a warm-up. */
async function compare(variants: Variant[], runs: number): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (const v of variants) {
    const t = await run(v.cmd, v.env);
    if (t.code !== (v.expect ?? 0))
      throw new Error(`${v.name}: exit ${t.code}, expected ${v.expect ?? 0}\n${t.output}`);
  }
  for (let round = 0; round < runs; round++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + round) % variants.length] as Variant;
      const t = await run(v.cmd, v.env);
      if (t.code !== (v.expect ?? 0))
        throw new Error(`${v.name}: exit ${t.code}, expected ${v.expect ?? 0}\n${t.output}`);
      times.get(v.name)?.push(t.ms);
    }
  }
  return times;
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

function need(tool: string, install: string): void {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
    process.stderr.write(`bench:smoke needs ${tool}: ${install}\n`);
    process.exit(1);
  }
}

async function startTargets(
  certDir: string,
): Promise<{ app: number; proxy: number; hang: number; stop(): void }> {
  const child = spawn(
    NODE,
    [
      "-r",
      "ts-node/register/transpile-only",
      path.join(__dirname, "smokeTargets.ts"),
      certDir,
      String(DELAY_MS),
    ],
    {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const ports = await new Promise<{ app: number; proxy: number; hang: number }>(
    (resolve, reject) => {
      let text = "";
      child.once("exit", (code) => reject(new Error(`bench/smokeTargets.ts exited with ${code}`)));
      child.stdout.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes("\n"))
          resolve(
            JSON.parse(text.split("\n")[0] as string) as {
              app: number;
              proxy: number;
              hang: number;
            },
          );
      });
    },
  );
  return { ...ports, stop: () => child.stdin.end() };
}

/** The command `npm run smoke` runs in the checkout at `dir`, with this Node and its script's path. */
function smokeCli(dir: string): { cmd: string[]; script: string } {
  const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
    scripts?: Record<string, string>;
  };
  const script = pkg.scripts?.smoke ?? "";
  const words = script.split(/\s+/).filter((w) => w !== "");
  if (words[0] !== "node")
    throw new Error(`${dir}/package.json: scripts.smoke must start with node, got "${script}"`);
  const cmd = words.slice(1).map((w) => (w.startsWith("-") ? w : path.join(dir, w)));
  return { cmd: [NODE, ...cmd], script };
}

/** smoke/ and package.json as commit `ref` had them, in `work`, beside this checkout's packages. */
function checkoutBaseline(ref: string, work: string): string {
  const dir = path.join(work, "baseline");
  mkdirSync(dir);
  return unpackBaseline(ref, dir, ["smoke", "package.json"]);
}

async function main(): Promise<void> {
  need("curl", "apt-get install -y curl");
  need("jq", "apt-get install -y jq");
  need("openssl", "apt-get install -y openssl");

  const work = mkdtempSync(path.join(tmpdir(), "smoke-bench-"));
  const certs = makeCertificates(work);
  const targets = await startTargets(work);
  process.on("exit", () => rmSync(work, { recursive: true, force: true }));
  const loop = `http://127.0.0.1:${targets.app}`;
  const proxied = `https://127.0.0.1:${targets.proxy}`;
  const silent = `http://127.0.0.1:${targets.hang}`;
  const cli = smokeCli(ROOT).cmd;
  const baseline =
    BASELINE === undefined
      ? undefined
      : { ref: BASELINE, ...smokeCli(checkoutBaseline(BASELINE, work)) };
  const seed = (url: string, times = 1): string[] =>
    times === 1
      ? ["bash", SEED, url]
      : ["bash", "-c", `for i in $(seq ${times}); do bash "$0" "$1" || exit 1; done`, SEED, url];
  const seedTls = { CURL_CA_BUNDLE: certs.ca };

  const curl = spawnSync("curl", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0] ?? "";
  process.stdout.write(
    `# smoke benchmark\n\nNode ${process.version}, ${cpus().length} CPUs, ${curl.split(" ").slice(0, 2).join(" ")}; ` +
      `${RUNS} runs per figure (interleaved, after a warm-up), medians; proxy delay ${DELAY_MS} ms each way over TLS.\n\n`,
  );

  // 1. Start-up on loopback.
  const startup: Variant[] = [
    { name: "bare Node (`node -e 0`)", cmd: [NODE, "-e", "0"] },
    { name: "seed script (4 × curl + jq)", cmd: seed(loop) },
    {
      name: 'minimal undici client (4 requests, `import "undici"`)',
      cmd: [NODE, "bench/smokeMinimal.mjs", loop],
    },
    { name: "**smoke CLI, as `npm run smoke` runs it**", cmd: [...cli, loop] },
    ...(baseline === undefined
      ? []
      : [
          {
            name: `… as ${baseline.ref} had it (\`${baseline.script}\`)`,
            cmd: [...baseline.cmd, loop],
          },
        ]),
    {
      name: "… with Node stripping types on every start",
      cmd: [NODE, "bench/smokeVariant.mjs", "native-strip", loop],
    },
    {
      name: "… under ts-node transpile-only",
      cmd: [NODE, "-r", "ts-node/register/transpile-only", "bench/smokeTsNode.ts", loop],
    },
  ];
  const t1 = await compare(startup, RUNS);
  const seedMs = median(t1.get(startup[1]?.name ?? "") ?? []);
  process.stdout.write(`## Start-up: healthy target on plain loopback, 4 checks\n\n`);
  process.stdout.write(
    `${table(
      ["command", "median", "vs seed script"],
      startup.map((v) => {
        const m = median(t1.get(v.name) ?? []);
        return [v.name, ms(m), `${(m / seedMs).toFixed(2)}×`];
      }),
    )}\n\n`,
  );

  // 2 and 3. Loopback and proxy, 4/16/64 checks.
  const rows: string[][] = [];
  for (const count of [4, 16, 64]) {
    const file = path.join(work, `checks-${count}.json`);
    writeFileSync(file, JSON.stringify(repeatChecks(CONTRACT_CHECKS, count)));
    const runs =
      count === 64
        ? Math.max(3, Math.ceil(RUNS / 3))
        : count === 16
          ? Math.max(3, Math.ceil(RUNS / 2))
          : RUNS;
    for (const [where, url] of [
      ["loopback", loop],
      [`TLS proxy, ${DELAY_MS} ms each way`, proxied],
    ] as const) {
      const tls = url === proxied;
      const variants: Variant[] = [
        { name: "cli", cmd: [...cli, url, "--checks", file, ...(tls ? ["--ca", certs.ca] : [])] },
        { name: "seed", cmd: seed(url, count / 4), ...(tls ? { env: seedTls } : {}) },
      ];
      const t = await compare(variants, runs);
      const c = median(t.get("cli") ?? []);
      const s = median(t.get("seed") ?? []);
      rows.push([where, String(count), ms(c), ms(s), `${(c / s).toFixed(2)}×`, String(runs)]);
    }
  }
  process.stdout.write(
    `## Healthy target: loopback and through the latency proxy, by number of checks\n\n`,
  );
  process.stdout.write(
    `${table(["target", "checks", "smoke CLI", `seed script${" (× N/4 for N > 4)"}`, "CLI / seed", "runs"], rows)}\n\n`,
  );

  // 4. A target that never answers.
  const hang: number[] = [];
  let hangOutput = "";
  for (let i = 0; i < 3; i++) {
    const t = await run([...cli, silent, "--deadline", String(HANG_DEADLINE_S), "--timeout", "1"]);
    if (t.code !== 1) throw new Error(`CLI against a silent target: exit ${t.code}\n${t.output}`);
    hang.push(t.ms);
    hangOutput = t.output;
  }
  const seedHang = await run(seed(silent), {}, SEED_CAP_S * 1000);
  process.stdout.write(`## A target that accepts connections and never answers\n\n`);
  process.stdout.write(
    `${table(
      ["command", "time to verdict", "verdict"],
      [
        [
          `smoke CLI \`--deadline ${HANG_DEADLINE_S} --timeout 1\` (3 runs)`,
          ms(median(hang)),
          "exit 1, every check failed at the deadline",
        ],
        [
          "seed script",
          seedHang.killed ? `none: killed at the ${SEED_CAP_S} s cap` : ms(seedHang.ms),
          seedHang.killed ? "none (curl has no timeout)" : `exit ${seedHang.code}`,
        ],
      ],
    )}\n\nThe CLI's report:\n\n\`\`\`\n${hangOutput.trim()}\n\`\`\`\n`,
  );
  targets.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:smoke: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
