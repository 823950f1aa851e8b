/** The Kubernetes type tokens the policies read (@pulumi/kubernetes 4.x). */
export const T = {
  namespace: "kubernetes:core/v1:Namespace",
  pod: "kubernetes:core/v1:Pod",
  secret: "kubernetes:core/v1:Secret",
  configMap: "kubernetes:core/v1:ConfigMap",
  replicationController: "kubernetes:core/v1:ReplicationController",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  replicaSet: "kubernetes:apps/v1:ReplicaSet",
  job: "kubernetes:batch/v1:Job",
  cronJob: "kubernetes:batch/v1:CronJob",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  ingress: "kubernetes:networking.k8s.io/v1:Ingress",
  podDisruptionBudget: "kubernetes:policy/v1:PodDisruptionBudget",
  hpaV2: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  hpaV1: "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
} as const;

/** Every type that runs pods: its pod spec is what the workload policies check. */
export const POD_TYPES: readonly string[] = [
  T.pod,
  T.deployment,
  T.statefulSet,
  T.daemonSet,
  T.replicaSet,
  T.replicationController,
  T.job,
  T.cronJob,
];

/**
 * The kinds that run pods for good: they serve traffic, so they need probes. A bare Pod may too:
 * missing-health-probes goes by its restartPolicy.
 */
export const LONG_RUNNING_TYPES: readonly string[] = [
  T.deployment,
  T.statefulSet,
  T.daemonSet,
  T.replicaSet,
  T.replicationController,
];

/** Types whose plain text (env, commands, annotations, data) may hide a copied secret. */
export const PLAIN_TEXT_TYPES: readonly string[] = [
  ...POD_TYPES,
  T.configMap,
  T.secret,
  T.namespace,
  T.ingress,
  T.networkPolicy,
];
