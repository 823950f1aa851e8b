/**
 * enforce-image-digest-pin: outside dev, the image of every container (init and debugging ones
 * too) of every kind is pinned by digest; dev may use a tag, and a dev label does not make a prod
 * resource dev's.
 */
import { ENVIRONMENT_LABEL } from "../../../model/workload";
import { NAME } from "../../../policies/enforce-image-digest-pin";
import { UNKNOWN_STRING } from "../support";
import { ALL_KINDS, describePodPolicy, failing } from "./workloads";

const TAG = "node:24-alpine";
const notPinned = (container: string) =>
  new RegExp(`the image of container ${container} is not pinned by digest in prod`);

describePodPolicy({
  policy: NAME,
  source: "-app-deployment",
  kinds: ALL_KINDS,
  eachKind: {
    title: "a container image by tag fails",
    change: (s) => (s.containers[0].image = TAG),
    expect: [
      /container app is not pinned by digest in prod: a tag can point at another image tomorrow.*\. Fix: pin it as name@sha256:<digest> in Pulumi\.prod\.yaml/,
    ],
    value: TAG,
  },
  rules: [
    // A digest that is not a sha256 of 64 hex digits.
    failing("short-digest", (s) => (s.containers[0].image = "node@sha256:abc")).finds(
      notPinned("app"),
      "sha256:abc",
    ),
    failing("no-image", (s) => delete s.containers[0].image, "StatefulSet").finds(notPinned("app")),
    failing("init-tag", (s) => (s.initContainers[0].image = TAG)).finds(notPinned("init"), TAG),
    failing("cronjob-init-tag", (s) => (s.initContainers[0].image = TAG), "CronJob").finds(
      notPinned("init"),
      TAG,
    ),
    // A debugging (ephemeral) container's image by tag.
    failing(
      "ephemeral-tag",
      (s) => (s.ephemeralContainers = [{ name: "debug", image: "busybox" }]),
      "Pod",
    ).finds(notPinned("debug"), "busybox"),
    {
      title:
        "a tag on a resource labelled dev in prod's stack (the higher environment's rules hold)",
      case: {
        id: "dev-label-in-prod",
        kind: "Job",
        change: (s, t) => {
          t.metadata.labels[ENVIRONMENT_LABEL] = "dev";
          s.containers[0].image = TAG;
        },
      },
      expect: [/the image of container app is not pinned by digest in prod/],
      value: TAG,
    },
  ],
  allowed: [
    {
      title: "a tag in dev, in a container and in a CronJob's init container",
      case: {
        id: "dev-tag",
        kind: "CronJob",
        stack: "dev",
        change: (s) => {
          s.containers[0].image = TAG;
          s.initContainers[0].image = TAG;
        },
      },
    },
  ],
  waits: [
    {
      title: "a debugging container's image unknown",
      case: {
        id: "ephemeral-image-unknown",
        kind: "Pod",
        change: (s) => (s.ephemeralContainers = [{ name: "debug", image: UNKNOWN_STRING }]),
      },
    },
  ],
});
