/**
 * What verify found, and how it is printed: text for a terminal, Markdown for a PR comment, JSON
 * for machines. Nothing here ever holds a secret value: violations are the pack's messages (which
 * never carry values), the parity matrix shows display strings of non-secret items and counts of
 * fingerprints, and secrets appear only as key names and states.
 */
import { stripVTControlCharacters } from "node:util";
import { EXIT } from "../../model/cli";
import type { EnvName } from "../../model/environment";
import type { ParityException } from "../../model/parity/exceptions";
import { urnName, urnType } from "../../model/urn";
import type { EnforcementLevel } from "../analyzer";
import type { IsolationResult, ParityCell, ParityMatrix } from "./matrix";
import type { SecretStatus } from "./stacks";

export interface Violation {
  stack: EnvName;
  policy: string;
  level: EnforcementLevel;
  /** The URN the diagnostic is about. */
  urn: string;
  /** type::name, short. */
  resource: string;
  message: string;
}

export interface StackReport {
  stack: EnvName;
  resources: number;
  comparedWith?: { environment: EnvName; baseline: string };
  secrets: SecretStatus[];
  violations: Violation[];
}

export interface VerifyReport {
  ok: boolean;
  exitCode: typeof EXIT.ok | typeof EXIT.failed;
  environments: EnvName[];
  stacks: StackReport[];
  violations: Violation[];
  parity: ParityMatrix;
  isolation: {
    environments: string[];
    cells: { from: string; to: string; allowed: boolean; reason: string }[];
    external: { from: string; ip: string; allowed: boolean; reason: string }[];
    leaks: IsolationResult["leaks"];
    brokenInside: string[];
  };
  skippedSecretChecks: string[];
  durationMs: number;
}

export function shortResource(urn: string): string {
  if (!urn.startsWith("urn:")) return urn;
  const type = urnType(urn);
  const kind = type.slice(type.lastIndexOf(":") + 1);
  return `${kind} ${urnName(urn)}`.trim();
}

export function isolationData(r: IsolationResult): VerifyReport["isolation"] {
  return {
    environments: r.matrix.envs,
    cells: r.matrix.cells.map((c) => ({
      from: c.from,
      to: c.to,
      allowed: c.verdict.allowed,
      reason: c.verdict.reason,
    })),
    external: r.matrix.external.map((e) => ({
      from: e.env,
      ip: r.matrix.externalIp,
      allowed: e.verdict.allowed,
      reason: e.verdict.reason,
    })),
    leaks: r.leaks,
    brokenInside: r.brokenInside,
  };
}

/** "dbPassword (dev, staging, prod): not committed to the stack files; stand-in values were used". */
export function skippedSecretChecks(stacks: readonly StackReport[]): string[] {
  const byKey = new Map<string, { envs: string[]; why: Set<string> }>();
  for (const s of stacks) {
    for (const st of s.secrets) {
      if (st.state !== "stand-in") continue;
      const e = byKey.get(st.key) ?? { envs: [], why: new Set<string>() };
      e.envs.push(s.stack);
      e.why.add(
        st.why
          .replace(/Pulumi\.[a-z]+\.yaml/, "the stack file")
          .replace(
            /PULUMI_CONFIG_PASSPHRASE_(?!FILE\b)[A-Z0-9_]+/g,
            "PULUMI_CONFIG_PASSPHRASE_<ENV>",
          ),
      );
      byKey.set(st.key, e);
    }
  }
  return [...byKey].map(
    ([key, e]) =>
      `${key} (${e.envs.join(", ")}): ${[...e.why].join("; ")}; stand-in values were used, so whether a lower environment's ${key} is reused was NOT checked`,
  );
}

/**
 * Why the secret-reuse checks did not run, short, for the first line of a report: undefined when
 * every secret was real (decrypted, or absent and optional).
 */
export function secretReuseCaveat(r: VerifyReport): string | undefined {
  // From skippedSecretChecks, which covers every evaluated stack (those below a --stack too).
  if (r.skippedSecretChecks.length === 0) return undefined;
  const causes = new Set<string>();
  for (const k of r.skippedSecretChecks) {
    const before = causes.size;
    if (/: not committed to /.test(k)) causes.add("no secret committed");
    if (/: no passphrase/.test(k)) causes.add("no passphrase");
    if (/incorrect passphrase/.test(k)) causes.add("wrong passphrase");
    if (causes.size === before) causes.add("cannot decrypt");
  }
  return `secret reuse not checked (${[...causes].join(", ")})`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "1 mandatory policy violation and 1 isolation leak": what makes the exit code 1. */
export function failureSummary(r: VerifyReport): string {
  const mandatory = r.violations.filter((v) => v.level === "mandatory").length;
  const parts: string[] = [];
  if (mandatory > 0) parts.push(plural(mandatory, "mandatory policy violation"));
  if (r.isolation.leaks.length > 0) parts.push(plural(r.isolation.leaks.length, "isolation leak"));
  return parts.join(" and ");
}

// ---------------------------------------------------------------------------------------------
// When verify could not run (EXIT.usage or EXIT.internal): the problems, also on stdout for --json and --markdown,
// so that a PR comment says what went wrong instead of being empty.

export interface VerifyFailure {
  ok: false;
  exitCode: typeof EXIT.usage | typeof EXIT.internal;
  problems: string[];
}

/**
 * The useful lines of an error message for a report: no terminal escapes (a child's coloured
 * stderr), no stack frames, no dump of the error's properties that follows them, no blank lines;
 * at most `max` lines.
 */
export function failureLines(message: string, max = 20): string[] {
  const out: string[] = [];
  let inDump = false;
  for (const raw of stripVTControlCharacters(message).split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (inDump) {
      if (line === "}") inDump = false;
      continue;
    }
    if (/^\s+at /.test(line)) {
      // Node prints an error's own properties after its last frame: "    at f (file:1:2) {".
      if (line.endsWith("{")) inDump = true;
      continue;
    }
    if (line.trim() === "") continue;
    out.push(line);
  }
  if (out.length > max) return [...out.slice(0, max - 1), `… ${out.length - max + 1} more lines`];
  return out;
}

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

// ---------------------------------------------------------------------------------------------
// Text.

const MARK: Record<string, string> = {
  baseline: "",
  equal: "=",
  allowed: "≈",
  forbidden: "✗",
  unknown: "?",
  absent: "",
  "not checked": "–",
};

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(0, n - 1))}…`;
}

function table(rows: string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}

/**
 * Words of `text` in lines of at most `width` characters (a longer word gets a line of its own);
 * the first line starts with `first`, the others with `rest`.
 */
export function wrap(text: string, width: number, first = "", rest = first): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  // Split on each space: a double space (the violation header's separator) stays double.
  for (const word of text.split(" ")) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** A matrix cell: the marker and the note number stay; only the value is shortened. */
interface Cell {
  mark: string;
  value: string;
  note: string;
}

const cellText = (c: Cell, width = Infinity): string => {
  const fixed = (c.mark ? c.mark.length + 1 : 0) + (c.note ? c.note.length + 1 : 0);
  const value = clip(c.value, Math.max(1, width - fixed));
  return [c.mark, value, c.note].filter((x) => x !== "").join(" ");
};

/**
 * The parity table in `width` columns: the first column (the item) as it is, the widest of the
 * others shortened first, to no less than `min`; a value cut short ends in "…".
 */
function fitTable(
  header: string[],
  rows: [string, ...Cell[]][],
  width: number,
  min = 14,
): string[] {
  const n = header.length;
  const widths = header.map((h, i) =>
    Math.max(
      h.length,
      ...rows.map((r) => (i === 0 ? (r[0] as string) : cellText(r[i] as Cell)).length),
    ),
  );
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (n - 1);
  while (total() > width) {
    let widest = -1;
    for (let i = 1; i < n; i++)
      if (
        (widths[i] as number) > min &&
        (widest < 0 || (widths[i] as number) > (widths[widest] as number))
      )
        widest = i;
    if (widest < 0) break;
    widths[widest] = (widths[widest] as number) - 1;
  }
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [
    line(header),
    ...rows.map(([item, ...cells]) =>
      line([item, ...cells.map((c, i) => cellText(c, widths[i + 1]))]),
    ),
  ];
}

interface Note {
  n: number;
  text: string;
}

/**
 * The cells of the parity matrix. A value equal to the one on its left is shown as "=" alone; a
 * difference shows its value and the number of its note (allowed or forbidden, and why).
 */
function parityNotes(): {
  cell: (row: string, env: string, c: ParityCell) => Cell;
  notes: Note[];
} {
  const notes: Note[] = [];
  return {
    notes,
    cell: (row, env, c) => {
      if (
        c.status === "allowed" ||
        c.status === "forbidden" ||
        c.status === "not checked" ||
        c.status === "unknown"
      ) {
        const n = notes.length + 1;
        const word = c.status === "forbidden" ? "FORBIDDEN" : c.status;
        notes.push({ n, text: `${row} in ${env}: ${word}: ${c.reason ?? ""}` });
        return { mark: MARK[c.status] ?? "", value: c.display, note: `[${n}]` };
      }
      if (c.status === "equal") return { mark: "=", value: "", note: "" };
      return { mark: MARK[c.status] ?? "", value: c.display, note: "" };
    },
  };
}

/** How wide the text report may be: the terminal's width, else 100 columns. */
export const DEFAULT_TEXT_WIDTH = 100;

export function renderText(r: VerifyReport, width = DEFAULT_TEXT_WIDTH): string {
  const out: string[] = [];
  /** A paragraph: its first line starts with `first`, the rest with `rest`. */
  const say = (text: string, first = "", rest = first) =>
    out.push(...wrap(text, width, first, rest));
  out.push(`env-progression verify: ${r.environments.join(" → ")}`);
  for (const s of r.stacks) {
    say(
      `${s.stack}: ${s.resources} resources${s.comparedWith ? `, compared with ${s.comparedWith.environment}'s parityBaseline (${s.comparedWith.baseline})` : ", the lowest environment"}`,
      "  ",
      "    ",
    );
  }
  out.push("");
  const mandatory = r.violations.filter((v) => v.level === "mandatory").length;
  out.push(`Violations: ${mandatory} mandatory, ${r.violations.length - mandatory} other`);
  if (r.violations.length === 0) out.push("  none");
  for (const v of r.violations) {
    say(
      `${v.level === "mandatory" ? "✗" : "!"} [${v.level}] ${v.stack}  ${v.policy}  ${v.resource}`,
      "  ",
      "      ",
    );
    say(v.message, "      ");
  }
  out.push("");
  say("Parity matrix: each environment compared with the one on its left.");
  say(
    "= same, ≈ allowed difference, ✗ forbidden, ? unknown, – not checked; [n] is the note below; --json has every value in full.",
    "  ",
  );
  const { cell, notes } = parityNotes();
  const rows: [string, ...Cell[]][] = r.parity.rows.map((row) => [
    row.id,
    ...r.parity.environments.map((e) => cell(row.id, e, row.cells[e] as ParityCell)),
  ]);
  out.push(...fitTable(["item", ...r.parity.environments], rows, width - 2).map((l) => `  ${l}`));
  for (const n of notes) say(n.text, `  [${n.n}] `, " ".repeat(`  [${n.n}] `.length));
  for (const [env, errs] of Object.entries(r.parity.exceptionErrors))
    for (const e of errs) say(`${env}: invalid exception: ${e}`, "  ", "    ");
  for (const [env, ex] of Object.entries(r.parity.unusedExceptions))
    for (const e of ex)
      say(
        `${env}: exception for ${e.item} (until ${e.expires}) matches no difference; remove it`,
        "  ",
        "    ",
      );
  out.push("");
  say(
    "Isolation matrix: can a pod of the row's environment open a connection to a pod of the column's? From all stacks' NetworkPolicies.",
  );
  const envs = r.isolation.environments;
  const iso: string[][] = [
    ["from \\ to", ...envs, `outside (${r.isolation.external[0]?.ip ?? ""})`],
  ];
  for (const from of envs) {
    iso.push([
      from,
      ...envs.map((to) =>
        r.isolation.cells.find((c) => c.from === from && c.to === to)?.allowed ? "allow" : "deny",
      ),
      r.isolation.external.find((e) => e.from === from)?.allowed ? "allow" : "deny",
    ]);
  }
  out.push(...table(iso).map((l) => `  ${l}`));
  const cross = envs.length * (envs.length - 1);
  say(
    `cross-environment: ${cross - r.isolation.leaks.length}/${cross} directions denied; inside each environment: ${envs.length - r.isolation.brokenInside.length}/${envs.length} allowed`,
    "  ",
    "    ",
  );
  for (const l of r.isolation.leaks) say(`✗ ${l.from} → ${l.to}: ${l.reason}`, "  ", "    ");
  for (const e of r.isolation.brokenInside) say(`! pods of ${e} cannot reach each other`, "  ");
  out.push("");
  out.push("Secrets");
  for (const s of r.stacks) {
    say(
      `${s.stack}: ${s.secrets.map((st) => `${st.key} ${st.state}${st.state === "stand-in" ? ` (${st.why})` : ""}`).join("; ") || "given by the caller"}`,
      "  ",
      "    ",
    );
  }
  for (const k of r.skippedSecretChecks) say(`not checked: ${k}`, "  ", "    ");
  out.push("");
  const caveat = secretReuseCaveat(r);
  // One line, however long: what a CI log is searched for.
  out.push(
    `Result: ${r.ok ? "no mandatory violation (exit 0)" : `${failureSummary(r)} (exit 1)`}${caveat ? `; ${caveat.replace("not checked", "NOT checked")}` : ""}, ${(r.durationMs / 1000).toFixed(1)} s`,
  );
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// Markdown (a PR comment).

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
