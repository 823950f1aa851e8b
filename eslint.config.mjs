// Lint is part of `npm test`. Type-aware so that @pulumi/eslint-plugin can see which values are
// Outputs: an Output in a plain template literal renders as a warning string, not its value.
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

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
);
