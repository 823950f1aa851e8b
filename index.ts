import { Environment } from "./components/environment";
import { loadConfig } from "./config";

const { config, secrets, files } = loadConfig(__dirname);
const env = new Environment(config.env, { config, secrets, files, rootDir: __dirname });

export const namespace = env.namespace;
export const url = env.url;
export const release = env.release;
export const verifiedRelease = env.verifiedRelease;
export const featureFlags = env.featureFlags;
export const parityBaseline = env.parityBaseline;
