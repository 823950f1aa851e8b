/**
 * missing-container-resources: every container and init container of every kind that runs pods
 * sets CPU and memory requests and limits; a debugging container need not.
 */
import { NAME } from "../../../policies/missing-container-resources";
import { UNKNOWN_STRING } from "../support";
import { ALL_KINDS, describePodPolicy } from "./workloads";

/* eslint-disable @typescript-eslint/no-explicit-any */
const app = (s: any) => s.containers[0].resources;
const init = (s: any) => s.initContainers[0].resources;

describePodPolicy({
  policy: NAME,
  source: "-app-deployment",
  kinds: ALL_KINDS,
  eachKind: {
    title: "a container without limits fails",
    change: (s) => delete app(s).limits,
    expect: [
      /container app sets no limits\.cpu, limits\.memory: without requests the scheduler packs pods blindly.*\. Fix: set resources\.requests/,
    ],
  },
  rules: [
    {
      title: "no CPU request",
      case: {
        id: "no-requests-cpu",
        kind: "Deployment",
        change: (s) => delete app(s).requests.cpu,
      },
      expect: [/container app sets no requests\.cpu:/],
    },
    {
      title: "no memory request",
      case: {
        id: "no-requests-memory",
        kind: "StatefulSet",
        change: (s) => delete app(s).requests.memory,
      },
      expect: [/container app sets no requests\.memory:/],
    },
    {
      title: "no CPU limit (an empty one is none)",
      case: { id: "no-limits-cpu", kind: "DaemonSet", change: (s) => (app(s).limits.cpu = "") },
      expect: [/container app sets no limits\.cpu:/],
    },
    {
      title: "no memory limit",
      case: { id: "no-limits-memory", kind: "Job", change: (s) => delete app(s).limits.memory },
      expect: [/container app sets no limits\.memory:/],
    },
    {
      title: "no resources at all",
      case: { id: "no-resources", kind: "Pod", change: (s) => delete s.containers[0].resources },
      expect: [
        /container app sets no requests\.cpu, requests\.memory, limits\.cpu, limits\.memory:/,
      ],
    },
    {
      title: "no limits in dev (every environment has a quota)",
      case: {
        id: "dev-no-limits",
        kind: "Deployment",
        stack: "dev",
        change: (s) => delete app(s).limits,
      },
      expect: [/container app sets no limits\.cpu, limits\.memory:/],
    },
    {
      title: "an init container without requests",
      case: { id: "init-no-requests", kind: "Deployment", change: (s) => delete init(s).requests },
      expect: [/container init sets no requests\.cpu, requests\.memory:/],
    },
    {
      title: "a CronJob's job template without a memory limit",
      case: {
        id: "cronjob-no-limits-memory",
        kind: "CronJob",
        change: (s) => delete app(s).limits.memory,
      },
      expect: [/container app sets no limits\.memory:/],
    },
    {
      title: "an init container of a CronJob's job template without limits",
      case: { id: "cronjob-init-no-limits", kind: "CronJob", change: (s) => delete init(s).limits },
      expect: [/container init sets no limits\.cpu, limits\.memory:/],
    },
  ],
  allowed: [
    {
      // Ephemeral containers cannot set resources (the API server refuses them).
      title: "a debugging (ephemeral) container without resources",
      case: {
        id: "ephemeral-no-resources",
        kind: "Pod",
        change: (s) => (s.ephemeralContainers = [{ name: "debug", image: s.containers[0].image }]),
      },
    },
    {
      title: "debugging containers unknown during a preview: the rule does not read them",
      case: {
        id: "ephemeral-unknown",
        kind: "Pod",
        change: (s) => (s.ephemeralContainers = UNKNOWN_STRING),
      },
    },
  ],
  waits: [
    {
      title: "the init containers of a CronJob's job template unknown",
      case: {
        id: "cronjob-init-unknown",
        kind: "CronJob",
        change: (s) => (s.initContainers = UNKNOWN_STRING),
      },
    },
    {
      title: "a container's limits unknown",
      case: {
        id: "limits-unknown",
        kind: "Deployment",
        change: (s) => (s.containers[0].resources.limits = UNKNOWN_STRING),
      },
    },
  ],
});
