/**
 * How verify's report reads in a terminal: the violations, the parity matrix fitted to the width,
 * the isolation matrix. Never a secret value (./report.ts says why).
 */
import type { ParityCell } from "./matrix";
import { clip, failureSummary, secretReuseCaveat, type VerifyReport } from "./report";

const MARK: Record<string, string> = {
  baseline: "",
  equal: "=",
  allowed: "≈",
  forbidden: "✗",
  unknown: "?",
  absent: "",
  "not checked": "–",
};

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
