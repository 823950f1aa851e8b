/**
 * How a config value may be shown in an error message. These messages end up in pulumi's output
 * and in CI logs, so nothing that can carry a credential is repeated.
 */
import { sensitiveAssignments } from "../secrets/sensitive";

/** Longest value a message shows; a longer one is cut, after what must not be shown is taken out. */
const SHOWN_MAX = 60;
// User info runs to the last @ of the value, a query or fragment to its end: a password may hold
// a / ? # ' or a space, and nothing after such a character may slip out.
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[\s\S]*@/i;
const URL_QUERY = /(:\/\/[^?#]*)([?#])[\s\S]*$/;
// user:password@host without a scheme; not an image's name:tag@sha256:<digest>, not a URL's scheme.
const BARE_USERINFO = /(^|[\s"'=,;(])[^\s"'@/:]+:(?!\/\/)[\s\S]*@(?!sha256:)/;

/**
 * A config value as an error message may show it. These messages end up in pulumi's output and
 * in CI logs, so nothing that can carry a credential is repeated:
 * - a value that contains any secret's value, a private key, or an assignment to a sensitive name
 *   (token=…, "password": "…") is not shown at all (`hidden` says why);
 * - in a URL, user:password@ (up to the value's last @) and the query string or fragment (to the
 *   value's end) become "…", leaving scheme, host and path;
 * - so do user:password@ without a scheme, and the credentials of "Bearer …" and "Basic …".
 */
export function redactValue(
  value: string,
  secrets: readonly string[] = [],
): { text: string } | { hidden: string } {
  if (secrets.some((s) => s !== "" && value.includes(s))) {
    return { hidden: "it contains a secret's value" };
  }
  // A JSON text ({"token":"…"}, "\"token=…\"") is also read with its punctuation as line breaks.
  const unquoted = value.replace(/[\\"'[\]{},]/g, "\n");
  const assigns = [value, unquoted].some(
    (t) => sensitiveAssignments(t, "config").length + sensitiveAssignments(t, "command").length > 0,
  );
  if (assigns || /PRIVATE KEY/i.test(value))
    return { hidden: "it looks like it holds a credential" };
  const text = value
    .replace(URL_USERINFO, "$1…@")
    .replace(URL_QUERY, "$1$2…")
    .replace(BARE_USERINFO, "$1…@")
    .replace(/\b(bearer|basic)(\s+)\S+/gi, "$1$2…");
  return { text };
}

/**
 * The words that follow a key in a message about its value: `is "<value>"`, redacted as
 * redactValue says, quoted (unless `quoted` is false) and cut at 60 characters; or
 * `holds a value not shown here (<why>)`.
 */
export function shownValue(value: string, secrets: readonly string[] = [], quoted = true): string {
  const r = redactValue(value, secrets);
  if ("hidden" in r) return `holds a value not shown here (${r.hidden})`;
  const cut = r.text.length > SHOWN_MAX ? `${r.text.slice(0, SHOWN_MAX - 3)}...` : r.text;
  return `is ${quoted ? JSON.stringify(cut) : cut}`;
}
