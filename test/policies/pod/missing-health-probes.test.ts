/**
 * missing-health-probes: every container and every sidecar (an init container with restartPolicy:
 * Always) of a long-running workload has a readiness and a liveness probe. A plain init container
 * runs to completion and the API server refuses probes on it (the baseline's init container has
 * none, so every long-running baseline would fail if it were read); Jobs and CronJobs run to an
 * end; a bare Pod is read unless its restartPolicy is Never or OnFailure (it runs to an end too).
 */
import { NAME } from "../../../policies/missing-health-probes";
import { UNKNOWN_STRING } from "../support";
import { describePodPolicy, failing, type Kind } from "./workloads";

/* eslint-disable @typescript-eslint/no-explicit-any */
const app = (s: any) => s.containers[0];
const noProbes = (s: any) => {
  delete app(s).readinessProbe;
  delete app(s).livenessProbe;
};
const init = (s: any) => s.initContainers[0];
const sidecar = (s: any) => (init(s).restartPolicy = "Always");
const probe = { exec: { command: ["true"] } };
const LONG_RUNNING: Kind[] = [
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
];

describePodPolicy({
  policy: NAME,
  source: "-app-deployment",
  kinds: LONG_RUNNING,
  eachKind: {
    title: "a container without a liveness probe fails",
    change: (s) => delete app(s).livenessProbe,
    expect: [
      /container app has no livenessProbe: .*a wedged process is never restarted\. Fix: add readinessProbe and livenessProbe/,
    ],
  },
  rules: [
    {
      title: "no readiness probe",
      case: { id: "no-readiness", kind: "Deployment", change: (s) => delete app(s).readinessProbe },
      expect: [/container app has no readinessProbe:/],
    },
    {
      title: "no probe at all, on a second container",
      case: {
        id: "sidecar-no-probes",
        kind: "StatefulSet",
        change: (s) => {
          const sidecar = { ...app(s), name: "sidecar" };
          delete sidecar.readinessProbe;
          delete sidecar.livenessProbe;
          s.containers.push(sidecar);
        },
      },
      expect: [/container sidecar has no readinessProbe and no livenessProbe:/],
    },
    failing(
      "pod-always-no-readiness",
      (s) => ((s.restartPolicy = "Always"), delete app(s).readinessProbe),
      "Pod",
    ).finds(/container app has no readinessProbe:/),
    failing("native-sidecar-no-probes", sidecar).finds(
      /sidecar init has no readinessProbe and no livenessProbe:/,
    ),
    failing(
      "native-sidecar-no-liveness",
      (s) => (sidecar(s), (init(s).readinessProbe = probe)),
      "DaemonSet",
    ).finds(/sidecar init has no livenessProbe:/),
    failing(
      "native-sidecar-no-readiness",
      (s) => (sidecar(s), (init(s).livenessProbe = probe)),
      "StatefulSet",
    ).finds(/sidecar init has no readinessProbe:/),
  ],
  allowed: [
    ...(["Job", "CronJob"] as Kind[]).map((kind) => ({
      title: `a ${kind} without probes: it runs to an end`,
      case: { id: `no-probes-${kind.toLowerCase()}`, kind, change: noProbes },
    })),
    ...["Never", "OnFailure"].map((restartPolicy) => ({
      title: `a bare Pod without probes whose restartPolicy is ${restartPolicy}: it runs to an end`,
      case: {
        id: `no-probes-pod-${restartPolicy.toLowerCase()}`,
        kind: "Pod" as Kind,
        change: (s: any) => (noProbes(s), (s.restartPolicy = restartPolicy)),
      },
    })),
    {
      title: "a sidecar with both probes",
      case: {
        id: "native-sidecar-probes",
        kind: "ReplicaSet",
        change: (s) => (
          sidecar(s),
          (init(s).readinessProbe = probe),
          (init(s).livenessProbe = probe)
        ),
      },
    },
    ...(["Job", "CronJob"] as Kind[]).map((kind) => ({
      title: `a sidecar without probes in a ${kind}: it runs to an end`,
      case: { id: `native-sidecar-no-probes-${kind.toLowerCase()}`, kind, change: sidecar },
    })),
  ],
  waits: [
    {
      title: "a bare Pod's restartPolicy unknown (it may run to an end)",
      case: {
        id: "pod-restart-policy-unknown",
        kind: "Pod",
        change: (s) => (noProbes(s), (s.restartPolicy = UNKNOWN_STRING)),
      },
    },
    {
      title: "an init container's restartPolicy unknown (it may be a sidecar)",
      case: {
        id: "init-restart-policy-unknown",
        kind: "Deployment",
        change: (s) => (init(s).restartPolicy = UNKNOWN_STRING),
      },
    },
    {
      title: "the init containers unknown (one may be a sidecar)",
      case: {
        id: "init-unknown",
        kind: "ReplicationController",
        change: (s) => (s.initContainers = UNKNOWN_STRING),
      },
    },
  ],
});
