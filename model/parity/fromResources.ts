/**
 * The current side of parity, read from a stack's resources as the policy pack sees them. The
 * policy compares this with the lower environment's baseline; the program's own export of the
 * current side (model/parity/fromConfig.ts) is never what is compared.
 */
import { type EnvName, ENVIRONMENTS, isEnvName } from "../environment";
import {
  containersOf,
  containsUnknown,
  isObject,
  isUnknown,
  kindOf,
  type KubeResource,
  labelsOf,
  metadataField,
  podSpecOf,
  UNKNOWN,
  type UnknownAt,
} from "../resources";
import { type FingerprintParams, fingerprintSecrets } from "../secrets/fingerprints";
import { secretValuesOf } from "../secrets/values";
import {
  COMPONENT_LABEL,
  ENVIRONMENT_LABEL,
  FLAGS_FILE_KEY,
  MIGRATION_COMPONENT,
} from "../workload";
import { describeAllowances } from "./allowances";
import { PARITY_BASELINE_KIND, PARITY_VERSION, type ParityDocument } from "./document";
import {
  envNamesOf,
  itemsFromShape,
  type ParityShape,
  probesOf,
  sha256,
  type WorkloadShape,
} from "./shape";

export interface ResourceParity {
  document: ParityDocument;
  /** id -> URN (or name) of the resource the item was read from, for violations to point at. */
  sources: Record<string, string>;
  /** Where values unknown during preview kept an item from being read. */
  unknown: UnknownAt[];
}

function environmentOfResources(resources: readonly KubeResource[]): EnvName | undefined {
  let found: EnvName | undefined;
  for (const r of resources) {
    if (kindOf(r.type) !== "Namespace") continue;
    const env = labelsOf(r.props)[ENVIRONMENT_LABEL];
    if (
      env !== undefined &&
      isEnvName(env) &&
      (found === undefined || ENVIRONMENTS.indexOf(env) > ENVIRONMENTS.indexOf(found))
    )
      found = env;
  }
  return found;
}

/**
 * Reads the parity side of one stack from its resources, as the policy sees them (secrets
 * unwrapped, unknown values as the engine's sentinels). With `fingerprint`, also fingerprints
 * every Secret value with those parameters (the lower baseline's, to compare with it).
 */
export function parityFromResources(
  resources: readonly KubeResource[],
  opts: { environment?: EnvName; fingerprint?: FingerprintParams } = {},
): ResourceParity {
  const environment = opts.environment ?? environmentOfResources(resources) ?? "prod";
  const sources: Record<string, string> = {};
  const unknown: UnknownAt[] = [];
  const where = (r: KubeResource) => r.urn ?? r.name;
  const note = (r: KubeResource, paths: string[][]) =>
    paths.forEach((path) =>
      unknown.push({ resource: r.name, ...(r.urn ? { urn: r.urn } : {}), path }),
    );

  const deployments = resources.filter((r) => kindOf(r.type) === "Deployment");
  const hpas = resources.filter((r) => kindOf(r.type) === "HorizontalPodAutoscaler");
  const workloadComponents = new Set<string>();
  const workloads: WorkloadShape[] = [];
  const workloadSource: string[] = [];
  for (const d of deployments) {
    const dname = metadataField(d.props, "name");
    const name = typeof dname === "string" ? dname : d.name;
    const pod = podSpecOf(d);
    const spec = isObject(d.props.spec) ? d.props.spec : {};
    let replicas: unknown = spec.replicas === undefined ? 1 : spec.replicas;
    const hpa = hpas.find((h) => {
      const ref = isObject(h.props.spec) ? h.props.spec.scaleTargetRef : undefined;
      return isObject(ref) && ref.kind === "Deployment" && ref.name === name;
    });
    if (hpa && isObject(hpa.props.spec)) {
      replicas = {
        replicas,
        minReplicas: hpa.props.spec.minReplicas ?? 1,
        maxReplicas: hpa.props.spec.maxReplicas,
      };
    } else replicas = { replicas };
    if (pod?.template) {
      const component = labelsOf(pod.template)[COMPONENT_LABEL];
      if (component !== undefined) workloadComponents.add(component);
    }
    const dLabels = labelsOf(d.props)[COMPONENT_LABEL];
    if (dLabels !== undefined) workloadComponents.add(dLabels);
    if (pod === undefined || pod.spec === UNKNOWN) {
      if (pod) note(d, [pod.path]);
      workloads.push({ name, containers: UNKNOWN, podSecurityContext: UNKNOWN, replicas });
      workloadSource.push(where(d));
      continue;
    }
    const paths: string[][] = [];
    const containers = containersOf(pod.spec, pod.path, paths)
      .filter((c) => c.group === "containers")
      .map((c) => ({
        name: c.name,
        image: c.container.image,
        envNames: envNamesOf(c.container),
        probes: probesOf(c.container),
        securityContext: c.container.securityContext ?? {},
        resources: c.container.resources ?? {},
      }));
    note(d, paths);
    workloads.push({
      name,
      containers,
      podSecurityContext: pod.spec.securityContext ?? {},
      replicas,
    });
    workloadSource.push(where(d));
  }

  const configMaps = resources.filter((r) => kindOf(r.type) === "ConfigMap");
  let configMapKeys: string[] | typeof UNKNOWN | undefined;
  let flags: Record<string, unknown> | typeof UNKNOWN | undefined;
  let migrations: Record<string, string> | typeof UNKNOWN | undefined;
  for (const cm of configMaps) {
    const component = labelsOf(cm.props)[COMPONENT_LABEL];
    const data = cm.props.data;
    if (component === MIGRATION_COMPONENT) {
      if (isUnknown(data) || migrations === UNKNOWN) {
        note(cm, [["data"]]);
        migrations = UNKNOWN;
        continue;
      }
      migrations ??= {};
      for (const [k, v] of Object.entries(isObject(data) ? data : {})) {
        if (isUnknown(v)) {
          note(cm, [["data", k]]);
          migrations = UNKNOWN;
          break;
        }
        if (typeof v === "string") {
          migrations[k] = sha256(v);
          sources[`migration:${k}`] = where(cm);
        }
      }
      continue;
    }
    if (component !== undefined && workloadComponents.has(component)) {
      if (isUnknown(data)) {
        note(cm, [["data"]]);
        configMapKeys = UNKNOWN;
      } else if (configMapKeys !== UNKNOWN) {
        configMapKeys = [
          ...new Set([...(configMapKeys ?? []), ...Object.keys(isObject(data) ? data : {})]),
        ];
        sources.configMapKeys = where(cm);
      }
    }
    if (isObject(data) && FLAGS_FILE_KEY in data) {
      const text = data[FLAGS_FILE_KEY];
      if (isUnknown(text)) {
        note(cm, [["data", FLAGS_FILE_KEY]]);
        flags = UNKNOWN;
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(text));
      } catch {
        parsed = undefined;
      }
      if (flags !== UNKNOWN) {
        flags ??= {};
        for (const [f, v] of Object.entries(
          isObject(parsed) ? parsed : { "(unreadable flags.json)": null },
        )) {
          flags[f] = v;
          sources[`flag:${f}`] = where(cm);
        }
      }
    }
  }

  let hosts: string[] | typeof UNKNOWN | undefined;
  for (const ing of resources.filter((r) => kindOf(r.type) === "Ingress")) {
    const rules = isObject(ing.props.spec) ? ing.props.spec.rules : undefined;
    if (
      isUnknown(rules) ||
      (Array.isArray(rules) &&
        rules.some((r) => isUnknown(r) || (isObject(r) && isUnknown(r.host))))
    ) {
      note(ing, [["spec", "rules"]]);
      hosts = UNKNOWN;
      continue;
    }
    if (hosts === UNKNOWN) continue;
    hosts ??= [];
    for (const r of Array.isArray(rules) ? rules : [])
      if (isObject(r) && typeof r.host === "string") hosts.push(r.host);
    sources.hosts = where(ing);
  }

  let network: ParityShape["network"];
  const netpols = resources.filter((r) => kindOf(r.type) === "NetworkPolicy");
  if (netpols.some((p) => containsUnknown(p.props.spec))) {
    netpols.filter((p) => containsUnknown(p.props.spec)).forEach((p) => note(p, [["spec"]]));
    network = UNKNOWN;
  } else if (netpols.length > 0) network = describeAllowances(netpols.map((p) => p.props.spec));

  const shape: ParityShape = {
    environment,
    workloads,
    configMapKeys,
    flags,
    migrations,
    hosts,
    network,
  };
  const items = itemsFromShape(shape);
  for (const id of Object.keys(items)) {
    if (sources[id] === undefined && workloadSource.length > 0)
      sources[id] = workloadSource[0] as string;
  }

  const document: ParityDocument = {
    kind: PARITY_BASELINE_KIND,
    version: PARITY_VERSION,
    environment,
    items,
  };
  if (opts.fingerprint) {
    const values: { source: string; value: string }[] = [];
    for (const r of resources) {
      const paths: string[][] = [];
      const secretName = metadataField(r.props, "name");
      for (const v of secretValuesOf(r, paths)) {
        values.push({
          source: `Secret ${typeof secretName === "string" ? secretName : r.name}/${v.key}`,
          value: v.value,
        });
      }
      note(r, paths);
    }
    document.secrets = fingerprintSecrets(values, opts.fingerprint);
  }
  return { document, sources, unknown };
}
