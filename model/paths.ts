/**
 * Where the project's own files are. Written once here because every tool that reads a stack
 * file, the app or its migrations starts from it; model/ sits one level below the root.
 */
import * as path from "node:path";

/** The repository root: Pulumi.yaml, the stack files, app/. */
export const REPO_ROOT = path.resolve(__dirname, "..");
