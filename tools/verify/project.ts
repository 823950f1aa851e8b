/** Pulumi.yaml's name, runtime and description: what the engine derives the stack tags from. */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { REPO_ROOT as ROOT } from "../../model/paths";
import { readProject } from "../stackConfig";

let projectMeta: { name: string; runtime: string; description?: string } | undefined;

export function readProjectMeta(): { name: string; runtime: string; description?: string } {
  if (projectMeta) return projectMeta;
  const { name } = readProject(ROOT);
  const doc = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
    runtime?: string | { name?: string };
    description?: string;
  };
  const runtime = typeof doc.runtime === "string" ? doc.runtime : (doc.runtime?.name ?? "nodejs");
  projectMeta = {
    name,
    runtime,
    ...(typeof doc.description === "string" ? { description: doc.description } : {}),
  };
  return projectMeta;
}

/** The stack tags the engine sets for this project (GetEnvironmentTagsForCurrentStack). */
export function projectTags(): Record<string, string> {
  const meta = readProjectMeta();
  return {
    "pulumi:project": meta.name,
    "pulumi:runtime": meta.runtime,
    ...(meta.description !== undefined ? { "pulumi:description": meta.description } : {}),
  };
}
