import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EnvName } from "../model/environment";
import { MIGRATION_RUNNER } from "../model/migrations";
import {
  commonLabels,
  containerSecurityContext,
  DATABASE_NAME,
  DATABASE_USER,
  MIGRATION_RESOURCES,
  podSecurityContext,
  POSTGRES_UID,
} from "../model/workload";

export interface MigrationArgs {
  namespace: pulumi.Input<string>;
  env: EnvName;
  appName: string;
  /** The postgres image: it has psql. */
  image: string;
  databaseHost: pulumi.Input<string>;
  databasePort: pulumi.Input<number>;
  databaseSecretName: pulumi.Input<string>;
  /** The numbered .sql files and migrate.sh, by file name (model/migrations.ts readMigrations). */
  files: Record<string, string>;
  lockTimeout: string;
  statementTimeout: string;
  /** What must be ready before the Job starts (the database); set on the Job itself. */
  runAfter?: pulumi.Resource[];
}

/**
 * The schema migration, as a Job that must complete before the Deployment rolls: Pulumi waits for
 * a Job's Complete condition and fails the update on Failed. Every statement runs with a
 * lock_timeout, so a migration that would queue behind a long transaction (and make every query
 * queue behind it: "Migration locked tables at scale") fails fast instead.
 */
export class Migration extends pulumi.ComponentResource {
  public readonly job: k8s.batch.v1.Job;
  /** The migration files, in the order they apply. */
  public readonly files: string[];

  constructor(name: string, args: MigrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("env-progression:migration:Migration", name, {}, opts);
    const labels = commonLabels(args.appName, args.env, "migration");
    const data = args.files;
    this.files = Object.keys(data).filter((f) => f.endsWith(".sql")).sort();

    // Auto-named: a change of any file gives a new ConfigMap name, which changes the Job's pod
    // template, which replaces the Job, which runs the migrations again (they are idempotent).
    const files = new k8s.core.v1.ConfigMap(
      `${name}-files`,
      { metadata: { namespace: args.namespace, labels }, data },
      { parent: this },
    );

    this.job = new k8s.batch.v1.Job(
      `${name}-job`,
      {
        metadata: { namespace: args.namespace, labels },
        spec: {
          // Two retries: a lock timeout is often transient; a third failure fails the deploy.
          backoffLimit: 2,
          // One copy at a time: migrate.sh takes no lock against a second copy of itself.
          parallelism: 1,
          completions: 1,
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: "Never",
              automountServiceAccountToken: false,
              securityContext: podSecurityContext(POSTGRES_UID),
              containers: [
                {
                  name: "migrate",
                  image: args.image,
                  command: ["sh", `/migrations/${MIGRATION_RUNNER}`],
                  env: [
                    { name: "PGHOST", value: args.databaseHost },
                    { name: "PGPORT", value: pulumi.output(args.databasePort).apply(String) },
                    { name: "PGUSER", value: DATABASE_USER },
                    { name: "PGDATABASE", value: DATABASE_NAME },
                    {
                      name: "PGPASSWORD",
                      valueFrom: { secretKeyRef: { name: args.databaseSecretName, key: "password" } },
                    },
                    { name: "MIGRATIONS_DIR", value: "/migrations" },
                    { name: "LOCK_TIMEOUT", value: args.lockTimeout },
                    { name: "STATEMENT_TIMEOUT", value: args.statementTimeout },
                    { name: "HOME", value: "/tmp" },
                  ],
                  resources: MIGRATION_RESOURCES,
                  securityContext: containerSecurityContext(POSTGRES_UID),
                  volumeMounts: [
                    { name: "migrations", mountPath: "/migrations", readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
              ],
              volumes: [
                { name: "migrations", configMap: { name: files.metadata.name } },
                { name: "tmp", emptyDir: {} },
              ],
            },
          },
        },
      },
      { parent: this, dependsOn: args.runAfter ?? [], customTimeouts: { create: "15m", update: "15m" } },
    );

    this.registerOutputs({ files: this.files });
  }
}
