import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AppSource, FeatureFlags } from "../model/config/environmentConfig";
import type { EnvName, Resources } from "../model/environment";
import {
  APP_CONTAINER,
  APP_PORT_NAME,
  APP_UID,
  commonLabels,
  containerSecurityContext,
  httpProbes,
  podSecurityContext,
  RELEASE_COMMIT_ANNOTATION,
  RELEASE_VERSION_ANNOTATION,
} from "../model/workload";

export interface WorkloadArgs {
  namespace: pulumi.Input<string>;
  env: EnvName;
  appName: string;
  /** "reference": run `node /app/server.js` from a ConfigMap on a stock node image. */
  appSource: AppSource;
  /** The reference app's code; required when appSource is "reference". */
  appCode?: string;
  image: string;
  containerPort: number;
  replicas: number;
  /** Set: a HorizontalPodAutoscaler between replicas and maxReplicas. */
  maxReplicas?: number;
  /** Create a PodDisruptionBudget (staging and prod). */
  disruptionBudget: boolean;
  resources: Resources;
  host: string;
  ingressClassName: string;
  featureFlags: FeatureFlags;
  version: pulumi.Input<string>;
  commit: pulumi.Input<string>;
  databaseHost: pulumi.Input<string>;
  databasePort: pulumi.Input<number>;
  /**
   * What must finish before the Deployment rolls (the migration Job). On the Deployment itself:
   * a component's own dependsOn is not inherited by its children.
   */
  rolloutAfter?: pulumi.Resource[];
}

/** The app: Deployment, Service, Ingress, its flags, and its disruption and scaling rules. */
export class Workload extends pulumi.ComponentResource {
  public readonly deployment: k8s.apps.v1.Deployment;
  public readonly service: k8s.core.v1.Service;
  public readonly ingress: k8s.networking.v1.Ingress;
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("env-progression:workload:Workload", name, {}, opts);
    if (args.appSource === "reference" && args.appCode === undefined) {
      throw new Error(`Workload ${name}: appSource "reference" needs appCode (app/server.js)`);
    }
    const labels = commonLabels(args.appName, args.env, "web");
    const selector = { "app.kubernetes.io/name": args.appName, "app.kubernetes.io/component": "web" };
    const child = { parent: this };

    // Auto-named ConfigMaps: new content, new name, so the Deployment rolls on a flag or code change.
    const flags = new k8s.core.v1.ConfigMap(
      `${name}-flags`,
      { metadata: { namespace: args.namespace, labels }, data: { "flags.json": JSON.stringify(args.featureFlags) } },
      child,
    );
    const code =
      args.appSource === "reference"
        ? new k8s.core.v1.ConfigMap(
            `${name}-code`,
            { metadata: { namespace: args.namespace, labels }, data: { "server.js": args.appCode ?? "" } },
            child,
          )
        : undefined;

    const annotations = { [RELEASE_COMMIT_ANNOTATION]: args.commit, [RELEASE_VERSION_ANNOTATION]: args.version };
    const volumes: k8s.types.input.core.v1.Volume[] = [
      { name: "flags", configMap: { name: flags.metadata.name } },
      { name: "tmp", emptyDir: {} },
    ];
    const mounts: k8s.types.input.core.v1.VolumeMount[] = [
      { name: "flags", mountPath: "/etc/app", readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ];
    if (code) {
      volumes.push({ name: "code", configMap: { name: code.metadata.name } });
      mounts.push({ name: "code", mountPath: "/app", readOnly: true });
    }

    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: args.appName, namespace: args.namespace, labels, annotations },
        spec: {
          // With an HPA the autoscaler owns the count; the Deployment sets only the starting point.
          replicas: args.replicas,
          selector: { matchLabels: selector },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
          template: {
            metadata: { labels, annotations },
            spec: {
              automountServiceAccountToken: false,
              // The app drains in-flight requests for up to 20 s after SIGTERM.
              terminationGracePeriodSeconds: 30,
              securityContext: podSecurityContext(APP_UID),
              containers: [
                {
                  name: APP_CONTAINER,
                  image: args.image,
                  ...(code ? { command: ["node", "/app/server.js"] } : {}),
                  ports: [{ name: APP_PORT_NAME, containerPort: args.containerPort }],
                  env: [
                    { name: "PORT", value: String(args.containerPort) },
                    { name: "APP_ENV", value: args.env },
                    { name: "APP_VERSION", value: args.version },
                    { name: "RELEASE_COMMIT", value: args.commit },
                    { name: "DB_HOST", value: args.databaseHost },
                    { name: "DB_PORT", value: pulumi.output(args.databasePort).apply(String) },
                    { name: "FLAGS_FILE", value: "/etc/app/flags.json" },
                  ],
                  resources: args.resources,
                  securityContext: containerSecurityContext(APP_UID),
                  ...httpProbes(APP_PORT_NAME),
                  volumeMounts: mounts,
                },
              ],
              volumes,
            },
          },
        },
      },
      { ...child, dependsOn: args.rolloutAfter ?? [] },
    );

    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: args.appName, namespace: args.namespace, labels },
        spec: { selector, ports: [{ name: "http", port: 80, targetPort: "http" }] },
      },
      child,
    );

    this.ingress = new k8s.networking.v1.Ingress(
      `${name}-ingress`,
      {
        metadata: { name: args.appName, namespace: args.namespace, labels },
        spec: {
          ingressClassName: args.ingressClassName,
          rules: [
            {
              host: args.host,
              http: {
                paths: [
                  {
                    path: "/",
                    pathType: "Prefix",
                    backend: { service: { name: this.service.metadata.name, port: { name: "http" } } },
                  },
                ],
              },
            },
          ],
        },
      },
      { ...child, dependsOn: [this.deployment] },
    );

    if (args.disruptionBudget) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        {
          metadata: { name: args.appName, namespace: args.namespace, labels },
          spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
        },
        child,
      );
    }

    if (args.maxReplicas !== undefined) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        `${name}-hpa`,
        {
          metadata: { name: args.appName, namespace: args.namespace, labels },
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: this.deployment.metadata.name },
            minReplicas: Math.max(1, args.replicas),
            maxReplicas: args.maxReplicas,
            metrics: [
              { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
            ],
          },
        },
        child,
      );
    }

    this.url = pulumi.output(`http://${args.host}`);
    this.registerOutputs({ url: this.url });
  }
}
