// Lint is part of `npm test`. Type-aware so that @pulumi/eslint-plugin can see which values are
// Outputs: an Output in a plain template literal renders as a warning string, not its value.
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

// The layer rules of DESIGN.md, as regexes over the specifier as written (gitignore-style
// groups would also match everything below a named folder, such as model/config/ for the root
// config.ts). The root program (index.ts, config.ts) is named per depth below model/. Type-only
// imports count too: a type drags its module's layer in just as a value does.
const layer = (regex, message) => ({ regex, message });
const folders = (...names) => `^(\\.\\./)+(${names.join("|")})(/|$)`;
const layerRules = [
  ...["model/*.ts", "model/*/**/*.ts"].map((files, depth) => ({
    files: [files],
    patterns: [
      layer(
        folders("components", "policies", "smoke", "tools", "app", "bench", "test"),
        "model/ is the bottom layer and imports nothing above it (DESIGN.md): move what both sides need into model/.",
      ),
      layer(
        `^(\\.\\./){${depth + 1}}(config|index)(\\.ts)?$`,
        "model/ does not import the program (index.ts, config.ts): the program reads model/, not the reverse.",
      ),
      layer(
        "^@pulumi/",
        "model/ holds plain functions and types, no Pulumi resource (DESIGN.md): take plain values instead.",
      ),
    ],
  })),
  {
    files: ["policies/**/*.ts"],
    patterns: [
      layer(
        folders("components"),
        "policies never import components/: a policy reads the one model in model/ (DESIGN.md).",
      ),
    ],
  },
  {
    files: ["smoke/**/*.ts"],
    patterns: [
      layer(
        folders("components"),
        "smoke/ never imports components/: the dynamic resource wraps smoke/, not the reverse.",
      ),
    ],
  },
  {
    files: ["tools/**/*.ts"],
    patterns: [
      layer(
        folders("components", "policies"),
        "tools/ go through model/: read what components/ or policies/ know from model/ instead.",
      ),
    ],
  },
].map(({ files, patterns }) => ({
  files,
  rules: { "@typescript-eslint/no-restricted-imports": ["error", { patterns }] },
}));

export default tseslint.config(
  { ignores: ["node_modules/**", "bin/**", "app/**", ".pulumi/**", "eslint.config.mjs"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      // Dynamic-provider methods load undici with require() inside the method on purpose:
      // Pulumi serializes the closure, and a module-level import would be captured.
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    // CommonJS on purpose (tools/packHost.cjs starts before any TypeScript loader exists).
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs" },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  ...layerRules,
);
