import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EnvName } from "../model/environment";
import {
  commonLabels,
  containerSecurityContext,
  DATABASE_NAME,
  DATABASE_PORT,
  DATABASE_RESOURCES,
  DATABASE_USER,
  podSecurityContext,
  POSTGRES_UID,
} from "../model/workload";

export interface DatabaseArgs {
  namespace: pulumi.Input<string>;
  env: EnvName;
  appName: string;
  image: string;
  storage: string;
  /** The environment's own password, from its encrypted stack config. */
  password: pulumi.Input<string>;
}

/** PostgreSQL for one environment, its password in a Secret of the environment's own namespace. */
export class Database extends pulumi.ComponentResource {
  /** The Service name the app and the migration connect to. */
  public readonly host: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** The Secret holding the password, key `password`; referenced, never copied. */
  public readonly secretName: pulumi.Output<string>;
  public readonly statefulSet: k8s.apps.v1.StatefulSet;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("env-progression:database:Database", name, {}, opts);
    const labels = commonLabels(args.appName, args.env, "database");
    const selector = { "app.kubernetes.io/name": args.appName, "app.kubernetes.io/component": "database" };

    const secret = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: `${args.appName}-db-credentials`, namespace: args.namespace, labels },
        type: "Opaque",
        stringData: { password: pulumi.secret(args.password) },
      },
      { parent: this },
    );
    this.secretName = secret.metadata.name;

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: `${args.appName}-db`, namespace: args.namespace, labels },
        spec: {
          selector,
          ports: [{ name: "postgres", port: DATABASE_PORT, targetPort: "postgres" }],
        },
      },
      { parent: this },
    );

    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-postgres`,
      {
        metadata: { name: `${args.appName}-db`, namespace: args.namespace, labels },
        spec: {
          serviceName: service.metadata.name,
          replicas: 1,
          selector: { matchLabels: selector },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              securityContext: podSecurityContext(POSTGRES_UID),
              containers: [
                {
                  name: "postgres",
                  image: args.image,
                  ports: [{ name: "postgres", containerPort: DATABASE_PORT }],
                  env: [
                    { name: "POSTGRES_USER", value: DATABASE_USER },
                    { name: "POSTGRES_DB", value: DATABASE_NAME },
                    // A subdirectory: initdb refuses a mount point that holds lost+found.
                    { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
                    {
                      name: "POSTGRES_PASSWORD",
                      valueFrom: { secretKeyRef: { name: secret.metadata.name, key: "password" } },
                    },
                  ],
                  resources: DATABASE_RESOURCES,
                  securityContext: containerSecurityContext(POSTGRES_UID),
                  readinessProbe: {
                    exec: { command: ["pg_isready", "-U", DATABASE_USER, "-d", DATABASE_NAME, "-h", "127.0.0.1"] },
                    periodSeconds: 5,
                    timeoutSeconds: 3,
                  },
                  livenessProbe: {
                    exec: { command: ["pg_isready", "-U", DATABASE_USER, "-d", DATABASE_NAME, "-h", "127.0.0.1"] },
                    initialDelaySeconds: 30,
                    periodSeconds: 10,
                    timeoutSeconds: 3,
                  },
                  volumeMounts: [
                    { name: "data", mountPath: "/var/lib/postgresql/data" },
                    // The root filesystem is read-only; PostgreSQL writes its socket and temp files here.
                    { name: "run", mountPath: "/var/run/postgresql" },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
              ],
              volumes: [
                { name: "run", emptyDir: {} },
                { name: "tmp", emptyDir: {} },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data", labels },
              spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: args.storage } } },
            },
          ],
        },
      },
      { parent: this },
    );

    this.host = service.metadata.name;
    this.port = pulumi.output(DATABASE_PORT);
    this.registerOutputs({ host: this.host, port: this.port, secretName: this.secretName });
  }
}
