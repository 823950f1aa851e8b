/**
 * missing-health-probes: every container of a long-running workload has a readiness and a
 * liveness probe; init containers, Jobs, CronJobs and bare Pods run to an end and need none (the
 * baseline's init container has no probe, so every long-running baseline fails if it were read).
 */
import { NAME } from "../../../policies/missing-health-probes";
import { describePodPolicy, type Kind } from "./workloads";

/* eslint-disable @typescript-eslint/no-explicit-any */
const app = (s: any) => s.containers[0];
const noProbes = (s: any) => {
  delete app(s).readinessProbe;
  delete app(s).livenessProbe;
};
const LONG_RUNNING: Kind[] = [
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
  ],
  allowed: [
    ...(["Job", "CronJob", "Pod"] as Kind[]).map((kind) => ({
      title: `a ${kind} without probes: the rule reads the long-running kinds only`,
      case: { id: `no-probes-${kind.toLowerCase()}`, kind, change: noProbes },
    })),
  ],
});
