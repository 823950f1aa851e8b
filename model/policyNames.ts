/**
 * The pack's policy names, written once: the policies name themselves from this table, and
 * verify, promote and the baseline config refer to a policy through it, so a rename is one edit
 * and a typo is a type error rather than a policy that silently never matches.
 */
export const POLICY = {
  disallowAllNamespacesSelector: "disallow-all-namespaces-selector",
  disallowCrossEnvironmentTraffic: "disallow-cross-environment-traffic",
  disallowInternetEgressInProd: "disallow-internet-egress-in-prod",
  disallowLowerEnvironmentSecrets: "disallow-lower-environment-secrets",
  disallowMutableNamespaceSelector: "disallow-mutable-namespace-selector",
  disallowPlaintextSecrets: "disallow-plaintext-secrets",
  disallowUnmanagedSecretReferences: "disallow-unmanaged-secret-references",
  enforceEnvironmentParity: "enforce-environment-parity",
  enforceImageDigestPin: "enforce-image-digest-pin",
  enforceMinimumReplicas: "enforce-minimum-replicas",
  enforceRestrictedPodSecurity: "enforce-restricted-pod-security",
  missingContainerResources: "missing-container-resources",
  missingDefaultDenyNetworkPolicy: "missing-default-deny-network-policy",
  missingHealthProbes: "missing-health-probes",
  missingMigrationLockTimeout: "missing-migration-lock-timeout",
  missingPodDisruptionBudget: "missing-pod-disruption-budget",
} as const;

export type PolicyName = (typeof POLICY)[keyof typeof POLICY];
