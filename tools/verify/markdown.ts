/**
 * How verify's report reads as a pull request comment (Markdown), and what the comment says when
 * verify could not run. Never a secret value (./report.ts says why).
 */
import { EXIT } from "../../model/cli";
import type { ParityException } from "../../model/parity/exceptions";
import type { ParityCell } from "./matrix";
import {
  clip,
  failureSummary,
  secretReuseCaveat,
  type VerifyFailure,
  type VerifyReport,
} from "./report";

/**
 * Bad input (exit 2): one bullet per problem. verify's own failure (exit 3): its first line as the
 * bullet, the lines after it (a child's output, say) verbatim in a code block under it.
 */
export function renderFailureMarkdown(f: VerifyFailure): string {
  const [first, ...rest] = f.problems;
  const fence = "~~~~";
  const body =
    f.exitCode === EXIT.usage
      ? [
          "Bad input: fix these and run `npm run verify` again.",
          "",
          ...f.problems.map((p) => `- ${md(p)}`),
        ]
      : [
          "verify itself failed:",
          "",
          `- ${md(first ?? "unknown error")}`,
          ...(rest.length > 0
            ? [
                "",
                `  ${fence}text`,
                ...rest.map((l) => `  ${l.replace(/~{4,}/g, "~~~")}`),
                `  ${fence}`,
              ]
            : []),
        ];
  const out = [
    "### env-progression verify: ❌ verify could not run",
    "",
    ...body,
    "",
    `<sub>exit ${f.exitCode} · \`npm run verify -- --markdown\`</sub>`,
  ];
  return `${out.join("\n")}\n`;
}

/**
 * Text for a Markdown table cell or list item: GitHub would drop `<why>` as an unknown HTML tag,
 * so `<`, `>` and `&` become entities; `|` would end the cell.
 */
export function md(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .replace(/\n/g, " ");
}

/**
 * A code span: its text is literal (entities are not decoded there, and no HTML is parsed), so
 * only `|` (for the table) and the backticks that would end it need care.
 */
function code(s: string): string {
  const t = s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return t.includes("`") ? `\`\` ${t} \`\`` : `\`${t}\``;
}

const MD_MARK: Record<string, string> = {
  baseline: "",
  equal: "✅",
  allowed: "☑️",
  forbidden: "❌",
  unknown: "❔",
  absent: "",
  "not checked": "⚠️",
};

export function renderMarkdown(r: VerifyReport): string {
  const out: string[] = [];
  const caveat = secretReuseCaveat(r);
  out.push(
    `### env-progression verify: ${r.ok ? "✅ no mandatory violation" : `❌ ${failureSummary(r)}`}${caveat ? ` — ⚠️ ${caveat}` : ""}`,
  );
  out.push("");
  out.push(
    `Stacks ${r.environments.map((e) => `\`${e}\``).join(" → ")}, evaluated with the SDK's in-process engine and checked by the policy pack over gRPC; each compared with the \`parityBaseline\` of the one below.`,
  );
  out.push("");
  out.push("#### Violations");
  out.push("");
  if (r.violations.length === 0) out.push("None.");
  else {
    out.push("| | stack | policy | resource | message |");
    out.push("| --- | --- | --- | --- | --- |");
    for (const v of r.violations)
      out.push(
        `| ${v.level === "mandatory" ? "❌" : "⚠️"} | ${v.stack} | ${code(v.policy)} | ${md(v.resource)} | ${md(v.message)} |`,
      );
  }
  out.push("");
  out.push("#### Parity matrix");
  out.push("");
  out.push(
    "Each environment against the one below: ✅ same, ☑️ allowed difference, ❌ forbidden, ❔ unknown until apply, ⚠️ not checked.",
  );
  out.push("");
  out.push(`| item | ${r.parity.environments.join(" | ")} |`);
  out.push(`| --- | ${r.parity.environments.map(() => "---").join(" | ")} |`);
  const reasons: string[] = [];
  for (const row of r.parity.rows) {
    const cells = r.parity.environments.map((e) => {
      const c = row.cells[e] as ParityCell;
      let text = `${MD_MARK[c.status] ?? ""} ${code(clip(c.display, 60))}`.trim();
      if (
        c.reason &&
        (c.status === "allowed" || c.status === "forbidden" || c.status === "not checked")
      ) {
        reasons.push(
          `- **${md(row.id)}** in ${e}: ${c.status === "forbidden" ? "**forbidden**" : c.status}: ${md(c.reason)}`,
        );
        text += ` <sup>${reasons.length}</sup>`;
      }
      return text;
    });
    out.push(`| ${md(row.label)} (${code(row.id)}) | ${cells.join(" | ")} |`);
  }
  out.push("");
  if (reasons.length > 0) {
    out.push("<details><summary>Why each difference is allowed or forbidden</summary>");
    out.push("");
    reasons.forEach((x, i) => out.push(x.replace(/^- /, `${i + 1}. `)));
    out.push("");
    out.push("</details>");
    out.push("");
  }
  const unused: ParityException[] = Object.values(r.parity.unusedExceptions).flat();
  for (const e of unused)
    out.push(
      `> Exception for ${code(e.item)} (until ${md(e.expires)}) matches no difference; remove it.`,
    );
  out.push("#### Isolation matrix");
  out.push("");
  const envs = r.isolation.environments;
  out.push(`| from \\ to | ${envs.join(" | ")} | outside |`);
  out.push(`| --- | ${envs.map(() => "---").join(" | ")} | --- |`);
  for (const from of envs) {
    const cells = envs.map((to) => {
      const allowed =
        r.isolation.cells.find((c) => c.from === from && c.to === to)?.allowed ?? false;
      return from === to ? (allowed ? "✅ allow" : "⚠️ deny") : allowed ? "❌ allow" : "✅ deny";
    });
    const ext = r.isolation.external.find((e) => e.from === from)?.allowed ? "allow" : "deny";
    out.push(`| **${from}** | ${cells.join(" | ")} | ${ext} |`);
  }
  out.push("");
  const cross = envs.length * (envs.length - 1);
  out.push(
    `Cross-environment: ${cross - r.isolation.leaks.length}/${cross} directions denied. Inside each environment: ${envs.length - r.isolation.brokenInside.length}/${envs.length} allowed.`,
  );
  for (const l of r.isolation.leaks) out.push(`- ❌ ${l.from} → ${l.to}: ${md(l.reason)}`);
  out.push("");
  if (r.skippedSecretChecks.length > 0) {
    out.push("#### Not checked");
    out.push("");
    for (const k of r.skippedSecretChecks) out.push(`- ⚠️ ${md(k)}`);
    out.push("");
  }
  out.push(`<sub>${(r.durationMs / 1000).toFixed(1)} s · \`npm run verify -- --markdown\`</sub>`);
  return `${out.join("\n")}\n`;
}
