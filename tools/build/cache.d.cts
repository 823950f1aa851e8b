export declare function cacheDir(what: "pack" | "ts" | "v8"): string;
export declare function enableCodeCache(): void;
export declare function typescriptVersion(): string;
