/**
 * Drives a CrossGuard policy pack exactly as the Pulumi engine does, without the CLI: the tests and
 * `verify` share it.
 *
 * What the engine does (pulumi/pulumi sdk/go/common/resource/plugin/analyzer_plugin.go,
 * NewPolicyAnalyzer; sdk/nodejs/dist/pulumi-analyzer-policy; pkg/engine plugins.go):
 * 1. starts `pulumi-analyzer-policy <engine address> .` in the pack's directory, a script that
 *    resolves '@pulumi/pulumi/cmd/run-policy-pack' from there and runs it with node, with the
 *    environment PULUMI_CONFIG (the stack's decrypted config as JSON), PULUMI_[NODEJS_]STACK,
 *    _PROJECT, _ORGANIZATION, _DRY_RUN; PulumiPolicy.yaml's runtime options become `-k=v` args;
 * 2. reads the port the pack prints on stdout, and treats every further stdout/stderr line as a
 *    diagnostic of the run;
 * 3. Handshake (UNIMPLEMENTED in @pulumi/policy 1.21: tolerated), ConfigureStack (stack, project,
 *    organization, tags, dry run, config, secret keys), GetAnalyzerInfo, GetPluginInfo, Configure
 *    (every policy, with its default enforcement level and schema defaults, overridden by
 *    --policy-pack-config: pkg/resource/plugin/policy.go ReconcilePolicyPackConfig);
 * 4. Analyze for each resource registration (its inputs), AnalyzeStack at the end (every resource's
 *    outputs, with parent, dependencies and provider). Properties go as a protobuf Struct with
 *    secrets as signature objects and unknowns as sentinel strings, internal `__` keys skipped;
 *    every request carries resource options (the pack refuses requests without them: "A more
 *    recent version of the Pulumi CLI is required").
 *
 * The engine address given to the pack is a real Engine gRPC server run here (Log captured). The
 * 1.21 pack never dials it (run-policy-pack drops the argument, and the engine does not set
 * PULUMI_NODEJS_ENGINE for analyzers), so the pack's own output reaches the user through its stdout
 * and stderr, which are captured too: canary checks read all three.
 */
// The parts, each in the file named for what it answers: tools/analyzer/.
export { EngineServer, type EngineLogLine } from "./analyzer/engineServer";
export {
  analyzeRequest,
  analyzeStackRequest,
  type AnalyzerOptions,
  type AnalyzerProvider,
  type AnalyzerResourceInput,
  stackResource,
} from "./analyzer/request";
export {
  type AnalyzeResult,
  type Diagnostic,
  type EnforcementLevel,
  type PackInfo,
  type PolicyInfo,
} from "./analyzer/response";
export { type PolicyPackConfigFile, reconcilePolicyConfig } from "./analyzer/policyConfig";
export {
  MAX_MESSAGE,
  PACK_DIR,
  PolicyPackProcess,
  runPolicyPackScript,
  type StackContext,
  type StartOptions,
} from "./analyzer/packProcess";
export { policyView } from "./analyzer/secrets";
