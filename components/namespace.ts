import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EnvName, Resources } from "../model/environment";
import { commonLabels, podSecurityLabels, Quota } from "../model/workload";

export interface EnvironmentNamespaceArgs {
  name: string;
  env: EnvName;
  appName: string;
  quota: Quota;
  /** Defaults for any container that does not set its own requests and limits. */
  containerDefaults: Resources;
}

/** The environment's namespace: Pod Security "restricted", a quota and default container limits. */
export class EnvironmentNamespace extends pulumi.ComponentResource {
  public readonly name: pulumi.Output<string>;
  /** The API server's uid of the namespace: random, and stable for as long as the namespace lives. */
  public readonly uid: pulumi.Output<string>;

  constructor(name: string, args: EnvironmentNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("env-progression:namespace:EnvironmentNamespace", name, {}, opts);

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          // An explicit name: NetworkPolicies select namespaces by kubernetes.io/metadata.name,
          // which Kubernetes sets to exactly this.
          name: args.name,
          labels: { ...commonLabels(args.appName, args.env, "namespace"), ...podSecurityLabels() },
        },
      },
      { parent: this },
    );
    this.name = namespace.metadata.name;
    this.uid = namespace.metadata.uid;

    const labels = commonLabels(args.appName, args.env, "namespace");
    new k8s.core.v1.ResourceQuota(
      `${name}-quota`,
      {
        metadata: { name: "environment-quota", namespace: this.name, labels },
        spec: {
          hard: {
            pods: String(args.quota.pods),
            "requests.cpu": args.quota.requestsCpu,
            "requests.memory": args.quota.requestsMemory,
            "limits.cpu": args.quota.limitsCpu,
            "limits.memory": args.quota.limitsMemory,
          },
        },
      },
      { parent: this },
    );

    new k8s.core.v1.LimitRange(
      `${name}-limits`,
      {
        metadata: { name: "container-defaults", namespace: this.name, labels },
        spec: {
          limits: [
            {
              type: "Container",
              defaultRequest: { cpu: args.containerDefaults.requests.cpu, memory: args.containerDefaults.requests.memory },
              default: { cpu: args.containerDefaults.limits.cpu, memory: args.containerDefaults.limits.memory },
            },
          ],
        },
      },
      { parent: this },
    );

    this.registerOutputs({ name: this.name });
  }
}
