/**
 * What the pack answers: enforcement levels, diagnostics, and the pack's description of itself
 * (GetAnalyzerInfo), decoded from the Analyzer protocol's messages.
 */
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";

export type EnforcementLevel = "advisory" | "mandatory" | "remediate" | "disabled";

export const LEVELS: Record<number, EnforcementLevel> = {
  [analyzerPb.EnforcementLevel.ADVISORY]: "advisory",
  [analyzerPb.EnforcementLevel.MANDATORY]: "mandatory",
  [analyzerPb.EnforcementLevel.DISABLED]: "disabled",
  [analyzerPb.EnforcementLevel.REMEDIATE]: "remediate",
};
export const LEVEL_PB: Record<EnforcementLevel, analyzerPb.EnforcementLevel> = {
  advisory: analyzerPb.EnforcementLevel.ADVISORY,
  mandatory: analyzerPb.EnforcementLevel.MANDATORY,
  disabled: analyzerPb.EnforcementLevel.DISABLED,
  remediate: analyzerPb.EnforcementLevel.REMEDIATE,
};

export interface Diagnostic {
  policyName: string;
  policyPackName: string;
  policyPackVersion: string;
  description: string;
  message: string;
  enforcementLevel: EnforcementLevel;
  urn: string;
}

export interface AnalyzeResult {
  diagnostics: Diagnostic[];
  notApplicable: { policyName: string; reason: string }[];
}

export function decode(resp: analyzerPb.AnalyzeResponse): AnalyzeResult {
  return {
    diagnostics: resp.getDiagnosticsList().map((d) => ({
      policyName: d.getPolicyname(),
      policyPackName: d.getPolicypackname(),
      policyPackVersion: d.getPolicypackversion(),
      description: d.getDescription(),
      message: d.getMessage(),
      enforcementLevel: LEVELS[d.getEnforcementlevel()] ?? "advisory",
      urn: d.getUrn(),
    })),
    notApplicable: resp
      .getNotApplicableList()
      .map((n) => ({ policyName: n.getPolicyName(), reason: n.getReason() })),
  };
}

export interface PolicyInfo {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  type: "resource" | "stack" | "unknown";
  configSchema?: { properties: Record<string, Record<string, unknown>>; required: string[] };
}

export interface PackInfo {
  name: string;
  version: string;
  supportsConfig: boolean;
  policies: PolicyInfo[];
}

/** The `--policy-pack-config` document: policy name -> level, or {enforcementLevel?, ...properties}. */
