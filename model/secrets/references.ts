/**
 * Which Secrets a pod spec refers to (env, envFrom, volumes, imagePullSecrets), by name: in
 * Kubernetes always a Secret of the pod's own namespace.
 */
import { containersOf, isObject, isUnknown } from "../resources";

/** A pod's reference to a Secret, by name (always in the pod's own namespace in Kubernetes). */
export interface SecretReference {
  secret: string;
  /** `env PGPASSWORD of container migrate`, `volume creds`, `imagePullSecrets[0]`. */
  where: string;
}

/** Every Secret a pod spec refers to. Unknown names are skipped and their paths pushed to `unknown`. */
export function secretReferencesOf(
  spec: Record<string, unknown>,
  basePath: string[],
  unknown: string[][] = [],
): SecretReference[] {
  const out: SecretReference[] = [];
  const add = (name: unknown, where: string, path: string[]) => {
    if (isUnknown(name)) unknown.push(path);
    else if (typeof name === "string") out.push({ secret: name, where });
  };
  for (const c of containersOf(spec, basePath, unknown)) {
    const env = c.container.env;
    if (Array.isArray(env)) {
      env.forEach((e, i) => {
        if (!isObject(e) || !isObject(e.valueFrom)) return;
        const ref = e.valueFrom.secretKeyRef;
        if (isUnknown(ref))
          unknown.push([...c.path, "env", String(i), "valueFrom", "secretKeyRef"]);
        else if (isObject(ref))
          add(ref.name, `env ${String(e.name)} of container ${c.name}`, [
            ...c.path,
            "env",
            String(i),
            "valueFrom",
            "secretKeyRef",
            "name",
          ]);
      });
    }
    const envFrom = c.container.envFrom;
    if (Array.isArray(envFrom)) {
      envFrom.forEach((e, i) => {
        if (isObject(e) && isObject(e.secretRef))
          add(e.secretRef.name, `envFrom of container ${c.name}`, [
            ...c.path,
            "envFrom",
            String(i),
            "secretRef",
            "name",
          ]);
      });
    }
  }
  const volumes = spec.volumes;
  if (Array.isArray(volumes)) {
    volumes.forEach((v, i) => {
      if (!isObject(v)) return;
      const vname = typeof v.name === "string" ? v.name : `volumes[${i}]`;
      if (isObject(v.secret))
        add(v.secret.secretName, `volume ${vname}`, [
          ...basePath,
          "volumes",
          String(i),
          "secret",
          "secretName",
        ]);
      if (isObject(v.projected) && Array.isArray(v.projected.sources)) {
        v.projected.sources.forEach((s, j) => {
          if (isObject(s) && isObject(s.secret))
            add(s.secret.name, `projected volume ${vname}`, [
              ...basePath,
              "volumes",
              String(i),
              "projected",
              "sources",
              String(j),
              "secret",
              "name",
            ]);
        });
      }
    });
  }
  const pull = spec.imagePullSecrets;
  if (Array.isArray(pull)) {
    pull.forEach((p, i) => {
      if (isObject(p))
        add(p.name, `imagePullSecrets[${i}]`, [...basePath, "imagePullSecrets", String(i), "name"]);
    });
  }
  return out;
}
