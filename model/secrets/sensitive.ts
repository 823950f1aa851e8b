/**
 * What counts as a secret in plain text: a sensitive name (PASSWORD, TOKEN, an API key ...), a
 * literal assigned to one, a URL with a password in it, and the substrings of a value that could be
 * a secret copied in. The program's config errors, the secret policies and `verify` read this one
 * model. Only names are returned, never values; the candidates are fingerprinted and forgotten.
 */
import { isUnknown } from "../resources";

/** Fragments that make a name sensitive wherever they occur in it: PGPASSWORD, dbSecretValue. */
const SENSITIVE_FRAGMENTS = [
  "PASSWORD",
  "PASSWD",
  "PASSPHRASE",
  "SECRET",
  "TOKEN",
  "CREDENTIAL",
  "APIKEY",
  "PRIVATEKEY",
];
/** Words that make a name sensitive only as a whole word: STRIPE_KEY, apiKey, PWD (but not MONKEY). */
const SENSITIVE_WORDS = new Set(["KEY", "KEYS", "PWD", "PASS", "AUTH"]);

/** Splits FOO_BAR, foo-bar, fooBar, foo.bar into upper-case words. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== "")
    .map((w) => w.toUpperCase());
}

/**
 * A name that says it holds a secret: PASSWORD, TOKEN, SECRET, CREDENTIAL(S), PASSPHRASE, API key,
 * private key anywhere in it, or KEY / PWD / PASS / AUTH as a word of it.
 */
export function isSensitiveName(name: string): boolean {
  const ws = words(name);
  const joined = ws.join("");
  return (
    SENSITIVE_FRAGMENTS.some((f) => joined.includes(f)) || ws.some((w) => SENSITIVE_WORDS.has(w))
  );
}

/** Values that refer to a secret rather than being one: `$VAR`, `${VAR}`, `{{ .Values.x }}`, `process.env.X`. */
export function isReference(value: string): boolean {
  return (
    /^\$[{(]?[A-Za-z_]/.test(value) ||
    /^\{\{.*\}\}$/.test(value) ||
    /^(process\.env|os\.environ|env)\b/.test(value) ||
    // a member expression in code (config.password, secrets.db.password)
    /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/.test(value) ||
    /^(null|undefined|true|false|none|nil)$/i.test(value)
  );
}

/** How a text is read: a code file reveals literals only when quoted; a config file or a command line also unquoted. */
export type TextKind = "code" | "config" | "command";

/** ConfigMap keys whose content is program code: only quoted literals count as values there. */
const CODE_FILE = /\.(js|mjs|cjs|ts|py|rb|go|java|kt|php|pl|lua|sql|sh|bash)$/i;

export function textKindOfKey(key: string): TextKind {
  return CODE_FILE.test(key) ? "code" : "config";
}

// "name": "value", name = 'value', NAME: "value": a quoted literal, in any kind of text.
const QUOTED_ASSIGNMENT =
  /(?:^|[^A-Za-z0-9_.-])(?<name>[A-Za-z_][A-Za-z0-9_.-]*)["']?\s*[:=]\s*(?<q>["'`])(?<value>[^"'`\n]+)\k<q>/gm;
// NAME=value, export NAME=value, name: value on a line of its own (dotenv, shell, YAML, properties).
const LINE_ASSIGNMENT =
  /^[ \t]*(?:export[ \t]+)?(?<name>[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*[:=][ \t]*(?<value>[^\s"'`#]+)[ \t]*$/gm;
// --name=value, --name value, NAME=value before a command.
const COMMAND_ASSIGNMENT =
  /(?:^|\s)(?:--?(?<flag>[A-Za-z][A-Za-z0-9_-]*)(?:=|\s+)|(?<env>[A-Za-z_][A-Za-z0-9_]*)=)(?<value>[^\s"'-][^\s"']*)/g;
const CREDENTIAL_URL = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:(?<password>[^/\s@]+)@/gi;

interface Assignment {
  name: string;
  value: string;
  quoted: boolean;
}

function assignments(text: string, kind: TextKind): Assignment[] {
  const out: Assignment[] = [];
  const scan = (re: RegExp, quoted: boolean) => {
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) {
      const g = m.groups ?? {};
      out.push({ name: g.name ?? g.flag ?? g.env ?? "", value: g.value ?? "", quoted });
    }
  };
  scan(QUOTED_ASSIGNMENT, true);
  if (kind === "config") scan(LINE_ASSIGNMENT, false);
  if (kind === "command") scan(COMMAND_ASSIGNMENT, false);
  return out;
}

/**
 * The sensitive names that a text assigns a literal value to. In code only quoted literals count
 * (`password: config.db.password` is a reference, `password: "hunter2"` a literal); in config
 * files and command lines unquoted ones too. Only names are returned, never the values.
 */
export function sensitiveAssignments(text: string, kind: TextKind): string[] {
  const found = new Set<string>();
  for (const a of assignments(text, kind)) {
    if (a.value === "" || !isSensitiveName(a.name)) continue;
    if (!a.quoted && isReference(a.value)) continue;
    found.add(a.name);
  }
  return [...found];
}

/** True when a text holds a URL with a password in it (postgres://user:password@host). */
export function hasCredentialUrl(text: string): boolean {
  CREDENTIAL_URL.lastIndex = 0;
  for (const m of text.matchAll(CREDENTIAL_URL)) {
    const pw = m.groups?.password ?? "";
    if (pw !== "" && !isReference(pw) && !/^\*+$/.test(pw)) return true;
  }
  return false;
}

/** Longest value that is compared whole with the fingerprints of the environment below. */
const CANDIDATE_MAX = 256;
/** Shortest: shorter values are too common to mean anything (and every guess costs a fingerprint). */
export const CANDIDATE_MIN = 8;
/** Longer texts (scripts, code) are searched only for sensitive assignments and URLs, not token by token. */
const TOKENIZE_MAX = 4096;
/** Every candidate costs one fingerprint (tens of milliseconds): a bound per text. */
const MAX_CANDIDATES = 64;

/**
 * The substrings of a plain value that could be a secret copied in: the whole value, URL
 * passwords, values assigned to sensitive names, and, in a short text, every token (config, command
 * lines) or string literal (code). In memory only, to fingerprint and forget.
 */
export function secretCandidates(text: string, kind: TextKind = "config"): string[] {
  const out = new Set<string>();
  const add = (s: string) => {
    if (
      out.size < MAX_CANDIDATES &&
      s.length >= CANDIDATE_MIN &&
      s.length <= CANDIDATE_MAX &&
      !isUnknown(s)
    )
      out.add(s);
  };
  add(text);
  CREDENTIAL_URL.lastIndex = 0;
  for (const m of text.matchAll(CREDENTIAL_URL)) add(m.groups?.password ?? "");
  const all = assignments(text, kind);
  for (const a of all) if (isSensitiveName(a.name)) add(a.value);
  if (text.length <= TOKENIZE_MAX) {
    if (kind === "code") {
      // In code, data sits in string literals; identifiers and keywords cannot be a copied secret.
      for (const m of text.matchAll(/(["'`])([^"'`\n]{8,256})\1/g)) add(m[2] ?? "");
    } else {
      for (const a of all) add(a.value);
      for (const token of text.split(/[\s"'`=,;]+/)) add(token);
    }
  }
  return [...out];
}
