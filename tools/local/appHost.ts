/**
 * STAND-IN for the app's container, on a control plane whose pods are simulated (kwok runs no
 * process). The smoke tests must reach a real process, so this follows one environment's
 * Deployment in the API server and runs what its pod template says, on loopback:
 *
 * - the reference app's code from the code ConfigMap the template mounts at /app, and the flags
 *   file from the flags ConfigMap it mounts at /etc/app;
 * - the template's environment, except where the pod would reach the cluster: PORT becomes this
 *   environment's loopback port, DB_HOST/DB_PORT the local PostgreSQL, FLAGS_FILE the file
 *   written here;
 * - the image is never pulled (nothing can be, here): the command runs on this machine's Node.
 *   `images` says what a known image adds to a stock Node (the e2e broken release adds a preload,
 *   as its Dockerfile does); an image it does not know runs as plain Node.
 *
 * A new pod template (a new release, new flags, new code) restarts the process before the
 * rollout completes, so the smoke tests that follow the rollout meet the new release. What it
 * cannot stand in for: an app whose code is not the reference app (appSource "image"), probes,
 * more than one replica, and the network between pods.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { APP_CONTAINER } from "../../model/workload";
import type { KubeApi } from "./kube";

/** What an image adds to the stock Node that runs the command: a preload, as NODE_OPTIONS. */
export interface ImageStandIn {
  /** CommonJS source required before the app (the image's NODE_OPTIONS=--require=…). */
  preload?: string;
}

export interface AppHostOptions {
  api: KubeApi;
  namespace: string;
  /** The Deployment's name (the stack's appName). */
  deployment: string;
  /** The loopback port the smoke tests reach this environment on. */
  port: number;
  database: { host: string; port: number };
  /** Scratch folder for the code, flags and log. */
  dir: string;
  images?: Record<string, ImageStandIn>;
  /** How often the Deployment is read. */
  pollMs?: number;
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Deployment {
  spec?: {
    template?: {
      spec?: {
        containers?: Container[];
        volumes?: { name: string; configMap?: { name: string } }[];
      };
    };
  };
}
interface ConfigMap {
  data?: Record<string, string>;
}

export class AppHost {
  private child: ChildProcess | undefined;
  private current = "";
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  private busy = false;
  private readonly log: WriteStream;
  /** Why the template could not be run, when it could not: shown once per template. */
  public problem: string | undefined;
  /** The pod template last run, for the suites to wait on. */
  public image: string | undefined;

  constructor(private readonly options: AppHostOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.log = createWriteStream(path.join(options.dir, "app.log"), { flags: "a" });
  }

  get logFile(): string {
    return path.join(this.options.dir, "app.log");
  }

  start(): void {
    const tick = async () => {
      if (this.busy) return;
      this.busy = true;
      try {
        await this.sync();
      } catch (err) {
        this.note(`cannot read the Deployment: ${(err as Error).message}`);
      } finally {
        this.busy = false;
      }
    };
    void tick();
    this.timer = setInterval(() => void tick(), this.options.pollMs ?? 100);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.kill();
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  private note(line: string): void {
    this.log.write(`[app-host ${new Date().toISOString()}] ${line}\n`);
  }

  private async sync(): Promise<void> {
    const { api, namespace, deployment } = this.options;
    const d = await api.get<Deployment>(
      `/apis/apps/v1/namespaces/${namespace}/deployments/${deployment}`,
    );
    const pod = d?.spec?.template?.spec;
    const container = pod?.containers?.find((c) => c.name === APP_CONTAINER);
    if (!pod || !container) {
      if (this.current !== "") {
        this.note(`Deployment ${namespace}/${deployment} is gone: stopping the app`);
        this.current = "";
        this.image = undefined;
        await this.kill();
      }
      return;
    }
    const mounted = (mountPath: string) => {
      const mount = container.volumeMounts?.find((m) => m.mountPath === mountPath);
      return pod.volumes?.find((v) => v.name === mount?.name)?.configMap?.name;
    };
    const codeMap = mounted("/app");
    const flagsMap = mounted("/etc/app");
    const key = JSON.stringify([container, codeMap, flagsMap]);
    if (key === this.current) return;
    this.current = key;

    if (!codeMap) {
      this.problem = `${namespace}/${deployment} runs its image's own entrypoint (appSource "image"), which cannot run here without the image`;
      this.note(this.problem);
      await this.kill();
      return;
    }
    const read = async (name: string, file: string) =>
      (await api.get<ConfigMap>(`/api/v1/namespaces/${namespace}/configmaps/${name}`))?.data?.[
        file
      ];
    const code = await read(codeMap, "server.js");
    const flags = flagsMap ? await read(flagsMap, "flags.json") : undefined;
    if (code === undefined) {
      // The ConfigMap is created before the Deployment that names it; try again next tick.
      this.current = "";
      return;
    }
    await this.run(container, code, flags);
  }

  private async run(container: Container, code: string, flags: string | undefined): Promise<void> {
    const { dir, port, database, images } = this.options;
    const gen = ++this.generation;
    const root = path.join(dir, `template-${gen}`);
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, "server.js"), code);
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    env.PORT = String(port);
    env.DB_HOST = database.host;
    env.DB_PORT = String(database.port);
    if (flags !== undefined) {
      writeFileSync(path.join(root, "flags.json"), flags);
      env.FLAGS_FILE = path.join(root, "flags.json");
    } else delete env.FLAGS_FILE;
    const standIn = images?.[container.image];
    if (standIn?.preload !== undefined) {
      writeFileSync(path.join(root, "preload.cjs"), standIn.preload);
      env.NODE_OPTIONS = `--require=${path.join(root, "preload.cjs")}`;
    }

    // The old template's process stops at once, without the app's graceful drain: a request on a
    // connection it kept alive must not meet the old release once the new one rolls. A moment
    // with no listener is harmless: the smoke tests retry a refused connection.
    await this.kill("SIGKILL");
    this.problem = undefined;
    this.image = container.image;
    this.note(
      `running template ${gen}: image ${container.image}, version ${env.APP_VERSION ?? "?"}`,
    );
    const child = spawn(process.execPath, [path.join(root, "server.js")], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    child.on("exit", (code, signal) => this.note(`template ${gen} exited (${signal ?? code})`));
    this.child = child;
    await waitForPort(port, 10_000);
  }

  private async kill(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Resolves once something accepts connections on 127.0.0.1:port, or after `ms` regardless. */
function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve) => {
    const attempt = () => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > until) resolve();
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}
