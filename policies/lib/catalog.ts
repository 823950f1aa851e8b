/** Every policy of the pack, at its default enforcement level. */
import type { Policies } from "@pulumi/policy";
import { disallowAllNamespacesSelector } from "../disallow-all-namespaces-selector";
import { disallowCrossEnvironmentTraffic } from "../disallow-cross-environment-traffic";
import { disallowInternetEgressInProd } from "../disallow-internet-egress-in-prod";
import { disallowLowerEnvironmentSecrets } from "../disallow-lower-environment-secrets";
import { disallowMutableNamespaceSelector } from "../disallow-mutable-namespace-selector";
import { disallowPlaintextSecrets } from "../disallow-plaintext-secrets";
import { disallowUnmanagedSecretReferences } from "../disallow-unmanaged-secret-references";
import { enforceEnvironmentParity } from "../enforce-environment-parity";
import { enforceImageDigestPin } from "../enforce-image-digest-pin";
import { enforceMinimumReplicas } from "../enforce-minimum-replicas";
import { enforceRestrictedPodSecurity } from "../enforce-restricted-pod-security";
import { missingContainerResources } from "../missing-container-resources";
import { missingDefaultDenyNetworkPolicy } from "../missing-default-deny-network-policy";
import { missingHealthProbes } from "../missing-health-probes";
import { missingMigrationLockTimeout } from "../missing-migration-lock-timeout";
import { missingPodDisruptionBudget } from "../missing-pod-disruption-budget";

export const PACK_NAME = "env-progression";

export function allPolicies(): Policies {
  return [
    // Parity, against the environment below.
    enforceEnvironmentParity(),
    // Secret scoping.
    disallowLowerEnvironmentSecrets(),
    disallowPlaintextSecrets(),
    disallowUnmanagedSecretReferences(),
    // Isolation.
    missingDefaultDenyNetworkPolicy(),
    disallowAllNamespacesSelector(),
    disallowMutableNamespaceSelector(),
    disallowCrossEnvironmentTraffic(),
    disallowInternetEgressInProd(),
    // Workload safety.
    enforceRestrictedPodSecurity(),
    missingContainerResources(),
    missingHealthProbes(),
    enforceImageDigestPin(),
    enforceMinimumReplicas(),
    missingPodDisruptionBudget(),
    missingMigrationLockTimeout(),
  ];
}
