import { Environment } from "./components/environment";
import { loadConfig } from "./config";

const { config, secrets } = loadConfig();
const env = new Environment(config.env, { config, secrets, rootDir: __dirname });

export const namespace = env.namespace;
export const url = env.url;
export const release = env.release;
export const featureFlags = env.featureFlags;
