/**
 * Everything the three stacks need to deploy for real on this machine, set up once for
 * `npm run local` and for the engine suites: the engine built here on PATH, the local control
 * plane and its kubeconfig (the only context these stacks may reach), a copy of the project with
 * its own state, passphrases and secrets, a real PostgreSQL, and one app host per environment that
 * the stack's smoke tests reach on loopback (./appHost.ts says what it stands in for).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { ENVIRONMENTS, type EnvName } from "../../model/environment";
import { engineBinDir, engineEnviron } from "../engine/environment";
import { runScript } from "../lib/scripts";
import { envSuffix } from "../promote/setup";
import { AppHost, type ImageStandIn } from "./appHost";
import { kubeApi, type KubeApi } from "./kube";
import { freePort, startPostgres, type PostgresServer } from "./postgres";
import { createProject, openProject, type E2eProject, type ProjectRecord } from "./workspace";

/** The one context the local stacks deploy to: the control plane `npm run cluster:up` starts. */
export const LOCAL_CONTEXT = "env-progression-local";
const APP_NAME = "app";

export interface LocalSession {
  project: E2eProject;
  kubeconfig: string;
  api: KubeApi;
  /** The variables every pulumi command and promote run with, on top of this process's. */
  environ: Record<string, string>;
  hosts: Record<EnvName, AppHost>;
  namespaces: Record<EnvName, string>;
  smokeUrls: Record<EnvName, string>;
  postgres: PostgresServer;
  /** Stops the app hosts and PostgreSQL; removes the copy unless `keep`. */
  stop(keep?: boolean): Promise<void>;
}

export interface LocalOptions {
  /** Where the project copy, its state and the app hosts' files live. */
  under: string;
  /** Images the app hosts know (what they add to a stock Node). */
  images?: Record<string, ImageStandIn>;
  /** A line of progress. */
  say?: (line: string) => void;
  /**
   * Keep the copy's record (passphrases included, mode 0600) in `under`, and reopen it on the next
   * run: npm run local. The suites make a fresh copy each time.
   */
  reuse?: boolean;
}

/** Runs one of the cluster scripts; returns its stdout, or throws ScriptFailed with its code. */
export function clusterScript(name: "up" | "down" | "kubeconfig", inherit = false): string {
  return runScript(`tools/cluster/${name}.sh`, `npm run cluster:${name}`, inherit);
}

export async function startLocal(options: LocalOptions): Promise<LocalSession> {
  const say = options.say ?? (() => undefined);
  const bin = engineBinDir();
  const kubeconfig = clusterScript("kubeconfig");
  const api = kubeApi(kubeconfig);
  if (api.context !== LOCAL_CONTEXT) {
    throw new Error(
      `${kubeconfig} selects context "${api.context}", not ${LOCAL_CONTEXT}: the local run deploys only to the control plane npm run cluster:up started`,
    );
  }
  mkdirSync(options.under, { recursive: true });
  const engine = engineEnviron(bin, path.join(options.under, "pulumi-home"));
  // The Automation API starts the `pulumi` it finds on this process's PATH.
  Object.assign(process.env, engine);
  const kube: Record<string, string> = { KUBECONFIG: kubeconfig };
  for (const env of ENVIRONMENTS) kube[`KUBECONFIG_${envSuffix(env)}`] = kubeconfig;
  Object.assign(process.env, kube);

  say("starting PostgreSQL for the app hosts");
  const postgres = await startPostgres();

  // A run that finds the record of an earlier one reopens its copy: the stacks it deployed to this
  // control plane are then updated, not created a second time next to themselves.
  const recordFile = path.join(options.under, "session.json");
  let project: E2eProject;
  let ports: Record<EnvName, number>;
  if (options.reuse && existsSync(recordFile)) {
    const record = JSON.parse(readFileSync(recordFile, "utf8")) as ProjectRecord & {
      ports: Record<EnvName, number>;
    };
    say(`reopening the project copy of the last run (${record.dir})`);
    project = openProject({ ...record, environ: { ...record.environ, ...engine, ...kube } });
    ports = record.ports;
  } else {
    say("copying the project with fresh secrets and its own state");
    project = await createProject({ under: options.under, environ: { ...engine, ...kube } });
    ports = {} as Record<EnvName, number>;
    for (const env of ENVIRONMENTS) {
      ports[env] = await freePort();
      await (
        await project.stack(env)
      ).setConfig("env-progression:smokeBaseUrl", {
        value: `http://127.0.0.1:${ports[env]}`,
        secret: false,
      });
    }
    if (options.reuse) {
      const record: ProjectRecord & { ports: typeof ports } = {
        root: project.root,
        dir: project.dir,
        environ: project.environ,
        secretValues: project.secretValues,
        ports,
      };
      writeFileSync(recordFile, JSON.stringify(record), { mode: 0o600 });
    }
  }

  const hosts = {} as Record<EnvName, AppHost>;
  const namespaces = {} as Record<EnvName, string>;
  const smokeUrls = {} as Record<EnvName, string>;
  for (const env of ENVIRONMENTS) {
    const port = ports[env];
    namespaces[env] = `${APP_NAME}-${env}`;
    smokeUrls[env] = `http://127.0.0.1:${port}`;
    hosts[env] = new AppHost({
      api,
      namespace: namespaces[env],
      deployment: APP_NAME,
      port,
      database: { host: postgres.host, port: postgres.port },
      dir: path.join(options.under, "app-hosts", env),
      images: options.images,
    });
    hosts[env].start();
  }

  return {
    project,
    kubeconfig,
    api,
    environ: { ...project.environ, ...engine, ...kube },
    hosts,
    namespaces,
    smokeUrls,
    postgres,
    async stop(keep = false) {
      for (const env of ENVIRONMENTS) await hosts[env].stop();
      await postgres.stop();
      if (!keep) project.remove();
    },
  };
}
