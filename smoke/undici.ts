/**
 * Loads the part of undici the CLI uses from its own files. `require("undici")` loads all of it
 * (fetch, WebSocket, caches, mocks): measured here, about 100 ms of a CLI run whose checks take
 * 20 ms. The dynamic provider keeps `require("undici")`: there start-up does not matter.
 */
import type { UndiciApi } from "./run";

export interface LoadedUndici {
  api: UndiciApi;
  /** "files" when the parts were loaded by path, "package" after falling back to the whole. */
  via: "files" | "package";
}

/** `req` resolves from the caller's location (createRequire(import.meta.url) in smoke/bin.mjs). */
export function loadUndici(req: NodeJS.Require): LoadedUndici {
  try {
    const Dispatcher = req("undici/lib/dispatcher/dispatcher.js") as {
      prototype: Record<string, unknown>;
    };
    const Agent = req("undici/lib/dispatcher/agent.js") as unknown;
    const retry = req("undici/lib/interceptor/retry.js") as unknown;
    if (
      typeof Agent !== "function" ||
      typeof retry !== "function" ||
      typeof Dispatcher.prototype !== "object"
    ) {
      throw new Error("undici's files are not where this version had them");
    }
    if (typeof Dispatcher.prototype.request !== "function") {
      // What undici's index.js does (Object.assign(Dispatcher.prototype, api)), for the one method used.
      Dispatcher.prototype.request = req("undici/lib/api/api-request.js") as unknown;
    }
    return { api: { Agent, interceptors: { retry } } as UndiciApi, via: "files" };
  } catch {
    return { api: req("undici") as UndiciApi, via: "package" };
  }
}
