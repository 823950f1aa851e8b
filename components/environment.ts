import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { EnvironmentConfig } from "../model/config/environmentConfig";
import type { Release } from "../model/environment";
import { parityBaseline } from "../model/parity/fromConfig";
import { ParityDocument } from "../model/parity/document";
import { stableFingerprintParams } from "../model/secrets/fingerprints";
import { quotaFor } from "../model/workload";
import { Database } from "./database";
import { Migration } from "./migration";
import { EnvironmentNamespace } from "./namespace";
import { NetworkIsolation } from "./networkPolicies";
import { releaseCommit, versionFromCommit } from "./release";
import { SmokeTest } from "./smokeTest";
import { Workload } from "./workload";

export interface EnvironmentSecrets {
  dbPassword: pulumi.Output<string>;
  smokeToken?: pulumi.Output<string>;
}

/** The files the program deploys, read and checked with the config, before anything is created. */
export interface ProgramFiles {
  /** app/server.js, when appSource is "reference". */
  appCode: string | undefined;
  /** app/migrations/*.sql and app/migrate.sh, by file name. */
  migrations: Record<string, string>;
  /** The smoke tests' CA bundle, when smokeCaFile is set. */
  smokeCaPem: string | undefined;
}

export interface EnvironmentArgs {
  config: EnvironmentConfig;
  secrets: EnvironmentSecrets;
  files: ProgramFiles;
  /** The repository root: the git checkout whose commit is the release's provenance. */
  rootDir: string;
}

/**
 * One environment, whole: namespace, isolation, database, migration, workload. The order is the
 * deploy's: the migration runs to completion before the Deployment rolls.
 */
export class Environment extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  public readonly release: pulumi.Output<Release>;
  /** The release the smoke tests verified on this `up`: what a rollback returns to. */
  public readonly verifiedRelease: pulumi.Output<Release>;
  public readonly featureFlags: pulumi.Output<Record<string, boolean>>;
  /** This environment's side of parity, for the policy pack of the environment above. */
  public readonly parityBaseline: pulumi.Output<ParityDocument>;
  public readonly migrations: string[];

  constructor(name: string, args: EnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("env-progression:environment:Environment", name, {}, opts);
    const c = args.config;
    const child = { parent: this };

    const ns = new EnvironmentNamespace(
      `${name}-ns`,
      { name: c.namespace, env: c.env, appName: c.appName, quota: quotaFor(c), containerDefaults: c.resources },
      child,
    );
    // Where every child lives: the environment's namespace, labelled with its env and app.
    const placement = { namespace: ns.name, env: c.env, appName: c.appName };

    new NetworkIsolation(
      `${name}-network`,
      {
        ...placement,
        namespaceName: c.namespace,
        ingressNamespaces: c.ingressNamespaces,
        egressCidrs: c.egressCidrs,
      },
      child,
    );

    const db = new Database(
      `${name}-db`,
      {
        ...placement,
        image: c.postgresImage,
        storage: c.databaseStorage,
        password: args.secrets.dbPassword,
      },
      child,
    );

    const migration = new Migration(
      `${name}-migration`,
      {
        ...placement,
        image: c.postgresImage,
        databaseHost: db.host,
        databasePort: db.port,
        databaseSecretName: db.secretName,
        files: args.files.migrations,
        lockTimeout: c.lockTimeout,
        statementTimeout: c.statementTimeout,
        runAfter: [db.statefulSet],
      },
      child,
    );
    this.migrations = migration.files;

    const commit = releaseCommit(args.rootDir, this);
    const version = c.version !== undefined ? pulumi.output(c.version) : commit.apply(versionFromCommit);

    const workload = new Workload(
      `${name}-app`,
      {
        ...placement,
        appSource: c.appSource,
        appCode: args.files.appCode,
        image: c.image,
        containerPort: c.containerPort,
        replicas: c.replicas,
        maxReplicas: c.maxReplicas,
        disruptionBudget: c.env !== "dev",
        resources: c.resources,
        host: c.host,
        ingressClassName: c.ingressClassName,
        featureFlags: c.featureFlags,
        version,
        commit,
        databaseHost: db.host,
        databasePort: db.port,
        rolloutAfter: [migration.job],
      },
      child,
    );

    this.namespace = ns.name;
    this.url = c.smokeBaseUrl !== undefined ? pulumi.output(c.smokeBaseUrl) : workload.url;
    this.release = pulumi.all([version, commit]).apply(([v, sha]) => ({ version: v, commit: sha, image: c.image }));

    // After the rollout and the Ingress are ready; a failure fails `up`, and the next environment
    // is never deployed. It re-runs when the release, the checks or smokeTrigger change.
    const smoke = new SmokeTest(
      `${name}-smoke`,
      {
        baseUrl: this.url,
        expectVersion: version,
        headers: args.secrets.smokeToken?.apply((token) => ({ Authorization: `Bearer ${token}` })),
        caPem: args.files.smokeCaPem,
        requestTimeoutSeconds: c.smokeRequestTimeoutSeconds,
        deadlineSeconds: c.smokeDeadlineSeconds,
        trigger: c.smokeTrigger,
        // The release is version, commit and image: an image alone changes what runs without
        // changing the version the checks expect, and must be checked before it is "verified".
        rollout: workload.deployment.spec.template.apply(
          (t) => createHash("sha256").update(JSON.stringify(t)).digest("hex"),
        ),
      },
      { parent: this, dependsOn: [workload.deployment, workload.ingress] },
    );
    this.verifiedRelease = pulumi
      .all([smoke.verifiedVersion, commit])
      .apply(([v, sha]) => ({ version: v, commit: sha, image: c.image }));
    this.featureFlags = pulumi.output(c.featureFlags);
    // Computed from the secrets, so the SDK marks it secret; it holds only their slow, salted
    // fingerprints (model/secrets/fingerprints.ts), and the pipeline must read it in plaintext to
    // pass it on as the next environment's policy config.
    // The fingerprints' salt comes from the namespace's uid, so the output stays the same from one
    // `up` or preview to the next instead of changing with a fresh salt every time.
    this.parityBaseline = pulumi.unsecret(
      pulumi
        .all([args.secrets.dbPassword, args.secrets.smokeToken, ns.uid])
        .apply(([dbPassword, smokeToken, uid]) =>
          parityBaseline({
            config: c,
            migrations: args.files.migrations,
            secrets: { dbPassword, smokeToken },
            // The API server always sets a uid; without one, a fresh salt as before.
            ...(uid ? { fingerprint: stableFingerprintParams(uid) } : {}),
          }),
        ),
    );
    this.registerOutputs({
      namespace: this.namespace,
      url: this.url,
      release: this.release,
      verifiedRelease: this.verifiedRelease,
      featureFlags: this.featureFlags,
      parityBaseline: this.parityBaseline,
    });
  }
}
