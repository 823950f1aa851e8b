/**
 * missing-container-resources: every container and init container of every kind that runs pods
 * sets CPU and memory requests and limits; a debugging container need not.
 */
import { NAME } from "../../../policies/missing-container-resources";
import { UNKNOWN_STRING } from "../support";
import { ALL_KINDS, describePodPolicy, failing } from "./workloads";

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
    failing("no-requests-cpu", (s) => delete app(s).requests.cpu).finds(
      /container app sets no requests\.cpu:/,
    ),
    failing("no-requests-memory", (s) => delete app(s).requests.memory, "StatefulSet").finds(
      /container app sets no requests\.memory:/,
    ),
    // An empty limit is none.
    failing("no-limits-cpu", (s) => (app(s).limits.cpu = ""), "DaemonSet").finds(
      /container app sets no limits\.cpu:/,
    ),
    failing("no-limits-memory", (s) => delete app(s).limits.memory, "Job").finds(
      /container app sets no limits\.memory:/,
    ),
    failing("no-resources", (s) => delete s.containers[0].resources, "Pod").finds(
      /container app sets no requests\.cpu, requests\.memory, limits\.cpu, limits\.memory:/,
    ),
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
    failing("init-no-requests", (s) => delete init(s).requests).finds(
      /container init sets no requests\.cpu, requests\.memory:/,
    ),
    failing("cronjob-no-limits-memory", (s) => delete app(s).limits.memory, "CronJob").finds(
      /container app sets no limits\.memory:/,
    ),
    failing("cronjob-init-no-limits", (s) => delete init(s).limits, "CronJob").finds(
      /container init sets no limits\.cpu, limits\.memory:/,
    ),
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
