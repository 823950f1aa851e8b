import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EnvName } from "../model/environment";
import { networkPolicies } from "../model/network";
import { commonLabels } from "../model/workload";

export interface NetworkIsolationArgs {
  namespace: pulumi.Input<string>;
  /** The namespace's name as a plain string: the policies' rules are computed from it. */
  namespaceName: string;
  env: EnvName;
  appName: string;
  ingressNamespaces: string[];
  egressCidrs: string[];
}

/**
 * The namespace's NetworkPolicies, exactly as model/network.ts defines them: default deny both
 * ways, then the few allowances. The rules live in the model so the isolation matrix reads the same.
 */
export class NetworkIsolation extends pulumi.ComponentResource {
  public readonly policyNames: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkIsolationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("env-progression:network:NetworkIsolation", name, {}, opts);
    const labels = commonLabels(args.appName, args.env, "network");
    const policies = networkPolicies({
      namespace: args.namespaceName,
      ingressNamespaces: args.ingressNamespaces,
      egressCidrs: args.egressCidrs,
    }).map(
      (p) =>
        new k8s.networking.v1.NetworkPolicy(
          `${name}-${p.role}`,
          {
            metadata: { name: p.role, namespace: args.namespace, labels },
            // The model's arrays are readonly; the provider's input type is the same shape, mutable.
            spec: p.spec as k8s.types.input.networking.v1.NetworkPolicySpec,
          },
          { parent: this },
        ),
    );
    this.policyNames = pulumi.all(policies.map((p) => p.metadata.name));
    this.registerOutputs({ policyNames: this.policyNames });
  }
}
