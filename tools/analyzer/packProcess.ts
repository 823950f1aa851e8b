/**
 * The pack's process and its lifecycle, as the engine runs it: started in the pack's directory
 * with the engine's environment, its port read from stdout, every later line captured, then
 * Handshake, ConfigureStack, GetAnalyzerInfo, GetPluginInfo and Configure; killed when closed.
 */
import * as grpc from "@grpc/grpc-js";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as emptyPb from "google-protobuf/google/protobuf/empty_pb";
import * as structPb from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { ensurePackBuild, packSources } from "../build/pack";
import { EngineServer } from "./engineServer";
import { type PolicyPackConfigFile, reconcilePolicyConfig } from "./policyConfig";
import {
  analyzeRequest,
  analyzeStackRequest,
  type AnalyzerResourceInput,
  dropUndefined,
} from "./request";
import { type AnalyzeResult, decode, LEVEL_PB, LEVELS, type PackInfo } from "./response";

export const PACK_DIR = path.resolve(__dirname, "..", "..", "policies");
export const MAX_MESSAGE = 1024 * 1024 * 400;

export interface StackContext {
  stack: string;
  project: string;
  organization?: string;
  dryRun: boolean;
  /** The stack's config, "namespace:key" -> value text, as the engine decrypted it. */
  config: Record<string, string>;
  configSecretKeys: string[];
  /** The stack's tags (pulumi:project, pulumi:runtime, pulumi:description, and the user's). */
  tags: Record<string, string>;
}

export interface StartOptions extends StackContext {
  packDir?: string;
  /** The --policy-pack-config document. */
  policyConfig?: PolicyPackConfigFile;
  /** Extra environment for the pack process. */
  env?: Record<string, string>;
  /** Timeout for the pack to print its port. */
  startTimeoutMs?: number;
  /**
   * false: run the pack prebuilt as JavaScript (tools/build/pack.ts, built or found by the hash of
   * its sources; tools/packHost.cjs), with no TypeScript in its process and no type check: about
   * 120 MiB idle and well under a second to answer, against 390 MiB and 2.8 s. Default true: the
   * engine's own host, run-policy-pack, which type-checks and compiles the sources at every start.
   */
  typeCheck?: boolean;
}

function call<Req, Res>(
  client: analyzerGrpc.AnalyzerClient,
  method: (
    req: Req,
    md: grpc.Metadata,
    opts: Partial<grpc.CallOptions>,
    cb: (err: grpc.ServiceError | null, res: Res) => void,
  ) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, new grpc.Metadata(), { deadline: Date.now() + 600_000 }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** The resolved `run-policy-pack` module, as the `pulumi-analyzer-policy` script resolves it from the pack's directory. */
export function runPolicyPackScript(packDir: string): string {
  return require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
}

/** PulumiPolicy.yaml's runtime options, which the engine passes as `-key=value` arguments. */
function runtimeOptionArgs(packDir: string): string[] {
  const file = path.join(packDir, "PulumiPolicy.yaml");
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new Error(`${file} cannot be read; a policy pack directory needs PulumiPolicy.yaml`);
  }
  const doc = require("yaml").parse(text) as {
    runtime?: string | { name?: string; options?: Record<string, unknown> };
  };
  const runtime = typeof doc.runtime === "string" ? { name: doc.runtime } : (doc.runtime ?? {});
  if (runtime.name !== "nodejs")
    throw new Error(`${file}: runtime must be nodejs for this harness`);
  return Object.entries(("options" in runtime ? runtime.options : undefined) ?? {})
    .map(([k, v]) => `-${k}=${String(v)}`)
    .filter((a) => !a.endsWith("="));
}

export class PolicyPackProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  info!: PackInfo;
  pluginVersion = "";
  configErrors: string[] = [];
  private exitCode: number | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly client: analyzerGrpc.AnalyzerClient,
    readonly engine: EngineServer,
    private readonly ownEngine: boolean,
  ) {
    child.on("exit", (code) => (this.exitCode = code));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Every line the pack wrote (stdout after the port, stderr) and every Engine.Log message. */
  output(): string[] {
    return [...this.stdout, ...this.stderr, ...this.engine.logs.map((l) => l.message)];
  }

  static async start(opts: StartOptions, engine?: EngineServer): Promise<PolicyPackProcess> {
    const packDir = opts.packDir ?? PACK_DIR;
    const ownEngine = engine === undefined;
    const eng = engine ?? new EngineServer();
    await eng.start();
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    // constructEnv: config, then the PULUMI_NODEJS_* and PULUMI_* run variables.
    if (Object.keys(opts.config).length > 0) env.PULUMI_CONFIG = JSON.stringify(opts.config);
    const run: Record<string, string | undefined> = {
      ORGANIZATION: opts.organization,
      PROJECT: opts.project,
      STACK: opts.stack,
      DRY_RUN: String(opts.dryRun),
    };
    for (const [k, v] of Object.entries(run)) {
      if (v === undefined || v === "") continue;
      env[`PULUMI_NODEJS_${k}`] = v;
      env[`PULUMI_${k}`] = v;
    }
    Object.assign(env, opts.env ?? {});
    const host =
      opts.typeCheck === false
        ? [
            path.join(__dirname, "..", "packHost.cjs"),
            `--built=${ensurePackBuild(packDir, packSources(packDir)).dir}`,
          ]
        : [runPolicyPackScript(packDir)];
    const child = spawn(
      process.execPath,
      [...host, eng.address, ".", ...runtimeOptionArgs(packDir)],
      {
        cwd: packDir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const stdout: string[] = [];
    const stderr: string[] = [];
    const port = await new Promise<number>((resolve, reject) => {
      let buf = "";
      let got = false;
      const timer = setTimeout(() => {
        child.kill();
        reject(
          new Error(
            `the policy pack in ${packDir} did not print its port within ${opts.startTimeoutMs ?? 120_000} ms:\n${stderr.join("\n")}`,
          ),
        );
      }, opts.startTimeoutMs ?? 120_000);
      const lines = (chunk: Buffer, into: string[], first: boolean) => {
        buf += chunk.toString("utf8");
        const parts = buf.split("\n");
        buf = parts.pop() ?? "";
        for (const line of parts) {
          if (first && !got) {
            const n = Number(line.trim());
            if (Number.isInteger(n) && n > 0) {
              got = true;
              clearTimeout(timer);
              resolve(n);
              continue;
            }
          }
          into.push(line);
        }
      };
      child.stdout?.on("data", (c: Buffer) => lines(c, stdout, true));
      let errBuf = "";
      child.stderr?.on("data", (c: Buffer) => {
        errBuf += c.toString("utf8");
        const parts = errBuf.split("\n");
        errBuf = parts.pop() ?? "";
        stderr.push(...parts);
      });
      child.on("exit", (code) => {
        if (!got) {
          clearTimeout(timer);
          reject(
            new Error(
              `the policy pack in ${packDir} exited (${code}) before printing its port:\n${[...stdout, ...stderr].join("\n")}`,
            ),
          );
        }
      });
    }).catch(async (err: unknown) => {
      // The engine this call started must not outlive a pack that never came up.
      if (ownEngine) await eng.close();
      throw err;
    });
    const client = new analyzerGrpc.AnalyzerClient(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
      {
        "grpc.max_receive_message_length": MAX_MESSAGE,
        "grpc.max_send_message_length": MAX_MESSAGE,
      },
    );
    const pack = new PolicyPackProcess(child, client, eng, ownEngine);
    pack.stdout.push(...stdout);
    pack.stderr.push(...stderr);
    child.stdout?.removeAllListeners("data");
    child.stderr?.removeAllListeners("data");
    const collect = (into: string[]) => {
      let buf = "";
      return (c: Buffer) => {
        buf += c.toString("utf8");
        const parts = buf.split("\n");
        buf = parts.pop() ?? "";
        into.push(...parts);
      };
    };
    child.stdout?.on("data", collect(pack.stdout));
    child.stderr?.on("data", collect(pack.stderr));
    try {
      await pack.handshake(packDir, eng.address);
      await pack.configureStack(opts);
      await pack.loadInfo();
      await pack.configure(opts.policyConfig ?? {});
    } catch (err) {
      await pack.close();
      throw err;
    }
    return pack;
  }

  private async handshake(packDir: string, engineAddress: string): Promise<void> {
    const req = new analyzerPb.AnalyzerHandshakeRequest();
    req.setEngineAddress(engineAddress);
    req.setRootDirectory(packDir);
    req.setProgramDirectory(packDir);
    try {
      await call(this.client, this.client.handshake, req);
    } catch (err) {
      // As the engine: a pack without Handshake keeps the legacy behaviour.
      if ((err as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) throw err;
    }
  }

  /** ConfigureStack: may be called again to re-run the pack for another context. */
  async configureStack(ctx: StackContext): Promise<void> {
    const req = new analyzerPb.AnalyzerStackConfigureRequest();
    req.setStack(ctx.stack);
    req.setProject(ctx.project);
    req.setOrganization(ctx.organization ?? "");
    req.setDryRun(ctx.dryRun);
    req.setConfigSecretKeysList(ctx.configSecretKeys);
    const config = req.getConfigMap();
    for (const [k, v] of Object.entries(ctx.config)) config.set(k, v);
    const tags = req.getTagsMap();
    for (const [k, v] of Object.entries(ctx.tags)) tags.set(k, v);
    await call(this.client, this.client.configureStack, req);
  }

  private async loadInfo(): Promise<void> {
    const info = await call(this.client, this.client.getAnalyzerInfo, new emptyPb.Empty());
    this.info = {
      name: info.getName(),
      version: info.getVersion(),
      supportsConfig: info.getSupportsconfig(),
      policies: info.getPoliciesList().map((p) => {
        const schema = p.getConfigschema();
        const type = p.getPolicyType();
        return {
          name: p.getName(),
          description: p.getDescription(),
          enforcementLevel: LEVELS[p.getEnforcementlevel()] ?? "advisory",
          type:
            type === analyzerPb.PolicyType.POLICY_TYPE_RESOURCE
              ? "resource"
              : type === analyzerPb.PolicyType.POLICY_TYPE_STACK
                ? "stack"
                : "unknown",
          ...(schema
            ? {
                configSchema: {
                  properties: (schema.getProperties()?.toJavaScript() ?? {}) as Record<
                    string,
                    Record<string, unknown>
                  >,
                  required: schema.getRequiredList(),
                },
              }
            : {}),
        };
      }),
    };
    this.pluginVersion = (
      await call(this.client, this.client.getPluginInfo, new emptyPb.Empty())
    ).getVersion();
  }

  /** Configure with the reconciled policy config; throws on a config the CLI would refuse. */
  async configure(file: PolicyPackConfigFile): Promise<void> {
    const { config, errors } = reconcilePolicyConfig(this.info, file);
    this.configErrors = errors;
    if (errors.length > 0) throw new Error(errors.join("\n"));
    const req = new analyzerPb.ConfigureAnalyzerRequest();
    const map = req.getPolicyconfigMap();
    for (const [name, c] of Object.entries(config)) {
      const pc = new analyzerPb.PolicyConfig();
      pc.setEnforcementlevel(LEVEL_PB[c.enforcementLevel]);
      pc.setProperties(
        structPb.Struct.fromJavaScript(
          dropUndefined(c.properties) as Record<string, structPb.JavaScriptValue>,
        ),
      );
      map.set(name, pc);
    }
    await call(this.client, this.client.configure, req);
  }

  async analyze(r: AnalyzerResourceInput): Promise<AnalyzeResult> {
    return decode(await call(this.client, this.client.analyze, analyzeRequest(r)));
  }

  async analyzeStack(resources: readonly AnalyzerResourceInput[]): Promise<AnalyzeResult> {
    return decode(
      await call(this.client, this.client.analyzeStack, analyzeStackRequest(resources)),
    );
  }

  /**
   * AnalyzeStack with a request already encoded, so that a benchmark times the pack and not the
   * JavaScript protobuf encoder (the engine encodes in Go).
   */
  sendEncoded(bytes: Uint8Array): Promise<AnalyzeResult> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        "/pulumirpc.Analyzer/AnalyzeStack",
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => analyzerPb.AnalyzeResponse.deserializeBinary(new Uint8Array(b)),
        bytes,
        new grpc.Metadata(),
        { deadline: Date.now() + 600_000 },
        (err, res) => (err || res === undefined ? reject(err) : resolve(decode(res))),
      );
    });
  }

  /** Stops the pack as the engine does when it closes the plugin (kill), and the engine server if ours. */
  async close(): Promise<void> {
    this.client.close();
    if (this.exitCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
      this.child.kill("SIGKILL");
      await exited;
    }
    if (this.ownEngine) await this.engine.close();
  }
}
