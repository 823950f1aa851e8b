/**
 * Failure semantics (docs/smoke.md has the table): what is transient while a rollout settles and
 * is retried until the deadline, and what fails at once. Branches on undici's and Node's `err.code`
 * (undici docs/docs/api/Errors.md), never on message text.
 */

/**
 * Connection-level errors retried with backoff: the target is not there yet, or a pod went away
 * under the request. The list is given to undici's retry interceptor as its `errorCodes`.
 */
export const TRANSIENT_ERROR_CODES: readonly string[] = [
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "SMOKE_BODY_TIMEOUT",
  "EAI_AGAIN",
];

/** What a load balancer answers while the endpoints behind it change. */
export const TRANSIENT_STATUS_CODES: readonly number[] = [502, 503, 504];

/** Node's codes for a certificate that does not verify (tls.TLSSocket, X509 verify errors). */
const TLS_TRUST_CODES: readonly string[] = [
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
];

export interface FailureKind {
  transient: boolean;
  /** A short description for the report: what came back. */
  text: string;
}

function seconds(ms: number): string {
  return `${Math.round(ms) / 1000} s`;
}

/** Classifies an error thrown by a request. `timeoutMs` is the per-request timeout, for the text. */
export function classifyError(err: unknown, timeoutMs: number): FailureKind {
  const e = (typeof err === "object" && err !== null ? err : {}) as {
    code?: unknown;
    message?: unknown;
    name?: unknown;
  };
  const code = typeof e.code === "string" ? e.code : undefined;
  const transient = code !== undefined && TRANSIENT_ERROR_CODES.includes(code);
  switch (code) {
    case "ECONNREFUSED":
      return { transient, text: "connection refused" };
    case "ECONNRESET":
    case "EPIPE":
      return { transient, text: `connection reset (${code})` };
    case "UND_ERR_SOCKET":
      return { transient, text: "connection closed by the server (UND_ERR_SOCKET)" };
    case "UND_ERR_CONNECT_TIMEOUT":
      return { transient, text: `no connection within ${seconds(timeoutMs)} (${code})` };
    case "UND_ERR_HEADERS_TIMEOUT":
      return { transient, text: `no response headers within ${seconds(timeoutMs)} (${code})` };
    case "UND_ERR_BODY_TIMEOUT":
      return { transient, text: `response body stalled for ${seconds(timeoutMs)} (${code})` };
    case "SMOKE_BODY_TIMEOUT":
      return { transient, text: `response body not complete within ${seconds(timeoutMs)}` };
    case "EAI_AGAIN":
      return { transient, text: "DNS lookup failed for now (EAI_AGAIN)" };
    case "ENOTFOUND":
      return { transient, text: "host not found (ENOTFOUND)" };
    case "UND_ERR_RES_EXCEEDED_MAX_SIZE":
      return {
        transient,
        text: "response body larger than the limit (UND_ERR_RES_EXCEEDED_MAX_SIZE)",
      };
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return {
        transient,
        text: "TLS certificate is not valid for this host (ERR_TLS_CERT_ALTNAME_INVALID)",
      };
    case "CERT_HAS_EXPIRED":
      return { transient, text: "TLS certificate has expired (CERT_HAS_EXPIRED)" };
    default:
      break;
  }
  if (code !== undefined && TLS_TRUST_CODES.includes(code)) {
    return {
      transient,
      text: `TLS certificate not trusted (${code}); give its CA bundle (caPem, --ca), verification stays on`,
    };
  }
  if (code !== undefined && code.startsWith("ERR_SSL_")) {
    return { transient, text: `TLS handshake failed (${code})` };
  }
  const message = typeof e.message === "string" && e.message !== "" ? e.message : String(err);
  return { transient, text: code === undefined ? message : `${message} (${code})` };
}

/** Classifies a status code that is not 2xx. */
export function classifyStatus(status: number, statusText: string): FailureKind {
  return {
    transient: TRANSIENT_STATUS_CODES.includes(status),
    text: statusText === "" ? `HTTP ${status}` : `HTTP ${status} ${statusText}`,
  };
}
