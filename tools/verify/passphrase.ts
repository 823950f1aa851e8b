/**
 * Pulumi's passphrase secrets provider, re-implemented with node:crypto so that the verify tool can
 * read `secure:` values of a stack file when `PULUMI_CONFIG_PASSPHRASE` is set, without the CLI.
 *
 * The format is Pulumi's own, from pulumi/pulumi:
 * - `pkg/secrets/passphrase/manager.go` (`symmetricCrypterFromPhraseAndState`,
 *   `NewPassphraseSecretsManager`): a stack file's `encryptionsalt` is
 *   `v1:<base64 salt>:<check message>`, where the check message is the string "pulumi" encrypted
 *   with the stack's key. A passphrase is right exactly when the check message decrypts to "pulumi";
 *   anything else (a GCM authentication failure included) is `ErrIncorrectPassphrase`.
 * - `sdk/go/common/resource/config/crypt.go` (`NewSymmetricCrypterFromPassphrase`,
 *   `symmetricCrypter`): key = PBKDF2-HMAC-SHA256(passphrase, salt, 1,000,000 iterations, 32 bytes);
 *   a value is AES-256-GCM with a random 12-byte nonce and no additional data, written as
 *   `v1:<base64 nonce>:<base64 ciphertext||16-byte tag>` (Go's `Seal` appends the tag).
 * Base64 is Go's `base64.StdEncoding`: the standard alphabet, padded.
 *
 * Where this differs from Pulumi, on purpose, it is only in how failures are reported: Pulumi
 * answers "incorrect passphrase" even for an encryptionsalt whose check message is malformed, and
 * panics on a wrong nonce length in older versions; here each case has its own code and message.
 * No message ever contains a passphrase, a plaintext, or the value being decrypted.
 */
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes } from "node:crypto";

/** From crypt.go: "1,000,000 iterations was chosen because it took a little over a second". */
export const PBKDF2_ITERATIONS = 1_000_000;
/** `SymmetricCrypterKeyBytes` in crypt.go: AES-256. */
export const KEY_BYTES = 32;
/** `cipher.NewGCM`'s standard nonce size, which crypt.go uses and checks. */
export const NONCE_BYTES = 12;
/** GCM's authentication tag, appended to the ciphertext by Go's `Seal`. */
export const TAG_BYTES = 16;
/** The salt size `NewPassphraseSecretsManager` draws for a new stack. */
export const SALT_BYTES = 8;
/** What Pulumi encrypts into the encryptionsalt to recognise the right passphrase later. */
export const CHECK_PLAINTEXT = "pulumi";

export type PassphraseErrorCode =
  /** The passphrase does not unlock this encryptionsalt. */
  | "incorrect-passphrase"
  /** The encryptionsalt is not `v1:<base64 salt>:v1:<base64 nonce>:<base64 ciphertext>`. */
  | "malformed-encryptionsalt"
  /** The encryptionsalt starts with a version other than `v1`. */
  | "unsupported-encryptionsalt-version"
  /** A secure value is not `v1:<base64 nonce>:<base64 ciphertext>`. */
  | "malformed-ciphertext"
  /** A secure value starts with a version other than `v1`. */
  | "unsupported-ciphertext-version"
  /** A well-formed secure value that this stack's key does not authenticate. */
  | "decryption-failed"
  /** A decrypted value that is not UTF-8 text. */
  | "not-utf8"
  /** An argument of the wrong type, or a plaintext that is not well-formed UTF-16. */
  | "invalid-argument";

/**
 * The only error this module throws. `code` says what was wrong; the message says how to fix it.
 * Neither ever carries a passphrase, a plaintext or a ciphertext, and no `cause` is attached (a
 * crypto library's error could one day include its input).
 */
export class PassphraseError extends Error {
  readonly code: PassphraseErrorCode;

  constructor(code: PassphraseErrorCode, message: string) {
    super(message);
    this.name = "PassphraseError";
    this.code = code;
  }
}

export interface Crypter {
  /** Decrypts one `secure:` value (`v1:<nonce>:<ciphertext>`) of this stack. */
  decrypt(ciphertext: string): string;
  /** Encrypts a value for this stack, with a fresh random nonce, as `pulumi config set --secret`. */
  encrypt(plaintext: string): string;
}

export interface NewStackEncryption {
  /** The value for the stack file's `encryptionsalt:` key. */
  encryptionsalt: string;
  /** A crypter for the new stack, so the key (a second of PBKDF2) is derived only once. */
  crypter: Crypter;
}

/**
 * A crypter for the stack whose stack file holds `encryptionsalt`, unlocked with `passphrase`
 * (an empty passphrase is valid, as in Pulumi). Derives the key once (PBKDF2, deliberately slow)
 * and checks it against the encryptionsalt's check message; throws a `PassphraseError` with code
 * `incorrect-passphrase` when the passphrase is wrong.
 */
export function crypterFromStackFile(encryptionsalt: string, passphrase: string): Crypter {
  requireString(encryptionsalt, "encryptionsalt");
  requireString(passphrase, "passphrase");
  const { salt, check } = parseEncryptionSalt(encryptionsalt);
  // Parse before deriving: a malformed stack file should fail at once, not after a second of PBKDF2.
  const parsedCheck = parseCiphertext(check, "check");
  const key = deriveKey(passphrase, salt);

  let decrypted: string | undefined;
  try {
    decrypted = openGcm(key, parsedCheck.nonce, parsedCheck.sealed).toString("utf8");
  } catch {
    decrypted = undefined;
  }
  // Same test as manager.go: `if err != nil || decrypted != "pulumi"`.
  if (decrypted !== CHECK_PLAINTEXT) {
    throw new PassphraseError(
      "incorrect-passphrase",
      "incorrect passphrase: it does not unlock this stack's encryptionsalt; set " +
        "PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the passphrase the stack " +
        "was created with",
    );
  }
  return makeCrypter(key);
}

/**
 * A new stack's encryption state, as `pulumi stack init` with the passphrase provider writes it:
 * a random 8-byte salt and the check message "pulumi" encrypted with the derived key.
 */
export function makeEncryptionSalt(passphrase: string): NewStackEncryption {
  requireString(passphrase, "passphrase");
  const salt = randomBytes(SALT_BYTES);
  const key = deriveKey(passphrase, salt);
  const crypter = makeCrypter(key);
  const encryptionsalt = `v1:${salt.toString("base64")}:${crypter.encrypt(CHECK_PLAINTEXT)}`;
  return { encryptionsalt, crypter };
}

function makeCrypter(key: Buffer): Crypter {
  return {
    decrypt(ciphertext: string): string {
      requireString(ciphertext, "ciphertext");
      const { nonce, sealed } = parseCiphertext(ciphertext, "value");
      let plain: Buffer;
      try {
        plain = openGcm(key, nonce, sealed);
      } catch {
        throw new PassphraseError(
          "decryption-failed",
          "the secure value does not decrypt with this stack's key: it was encrypted for another " +
            "stack or passphrase, or it has been altered",
        );
      }
      try {
        return UTF8.decode(plain);
      } catch {
        throw new PassphraseError(
          "not-utf8",
          "the secure value decrypted, but to bytes that are not UTF-8 text",
        );
      }
    },
    encrypt(plaintext: string): string {
      requireString(plaintext, "plaintext");
      if (LONE_SURROGATE.test(plaintext)) {
        // Buffer.from would silently turn it into U+FFFD, so decrypt would not give it back.
        throw new PassphraseError(
          "invalid-argument",
          "the plaintext contains a lone UTF-16 surrogate and cannot be encoded as UTF-8",
        );
      }
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, nonce);
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const sealed = Buffer.concat([body, cipher.getAuthTag()]);
      return `v1:${nonce.toString("base64")}:${sealed.toString("base64")}`;
    },
  };
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Go's `base64.StdEncoding`: standard alphabet, padding required. */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function deriveKey(passphrase: string, salt: Buffer): Buffer {
  return pbkdf2Sync(Buffer.from(passphrase, "utf8"), salt, PBKDF2_ITERATIONS, KEY_BYTES, "sha256");
}

function openGcm(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)),
    decipher.final(),
  ]);
}

/** manager.go: `strings.SplitN(state, ":", 3)`, version `v1`, base64 salt, the rest is the check. */
function parseEncryptionSalt(state: string): { salt: Buffer; check: string } {
  const first = state.indexOf(":");
  const second = first < 0 ? -1 : state.indexOf(":", first + 1);
  if (second < 0) {
    throw new PassphraseError(
      "malformed-encryptionsalt",
      "malformed encryptionsalt: expected v1:<base64 salt>:v1:<base64 nonce>:<base64 ciphertext>, " +
        "as `pulumi stack init` writes it to the stack file",
    );
  }
  const version = state.slice(0, first);
  if (version !== "v1") {
    throw new PassphraseError(
      "unsupported-encryptionsalt-version",
      "unsupported encryptionsalt version: only v1 (PBKDF2-SHA256 and AES-256-GCM) exists in Pulumi",
    );
  }
  const salt = decodeBase64(state.slice(first + 1, second));
  if (salt === undefined) {
    throw new PassphraseError(
      "malformed-encryptionsalt",
      "malformed encryptionsalt: the salt (between the first and second ':') is not padded " +
        "standard base64",
    );
  }
  return { salt, check: state.slice(second + 1) };
}

/**
 * crypt.go `DecryptValue`: `strings.Split(value, ":")` into exactly three parts, version `v1`, a
 * 12-byte nonce, and a ciphertext that ends with the 16-byte tag. `of` says whether the value is a
 * secure config value or the check message inside an encryptionsalt, so the error says which.
 */
function parseCiphertext(value: string, of: "value" | "check"): { nonce: Buffer; sealed: Buffer } {
  const what = of === "value" ? "secure value" : "encryptionsalt (its check message)";
  const malformed = of === "value" ? "malformed-ciphertext" : "malformed-encryptionsalt";
  const parts = value.split(":");
  if (parts.length !== 3) {
    throw new PassphraseError(
      malformed,
      `malformed ${what}: expected v1:<base64 nonce>:<base64 ciphertext> (3 parts separated by ` +
        `':'), found ${parts.length} part${parts.length === 1 ? "" : "s"}`,
    );
  }
  const [version, nonceText, sealedText] = parts as [string, string, string];
  if (version !== "v1") {
    throw new PassphraseError(
      of === "value" ? "unsupported-ciphertext-version" : "unsupported-encryptionsalt-version",
      `unsupported version in the ${what}: only v1 exists in Pulumi's passphrase provider`,
    );
  }
  const nonce = decodeBase64(nonceText);
  if (nonce === undefined) {
    throw new PassphraseError(
      malformed,
      `malformed ${what}: the nonce is not padded standard base64`,
    );
  }
  if (nonce.length !== NONCE_BYTES) {
    throw new PassphraseError(
      malformed,
      `malformed ${what}: the nonce is ${nonce.length} bytes, AES-256-GCM here uses ${NONCE_BYTES}`,
    );
  }
  const sealed = decodeBase64(sealedText);
  if (sealed === undefined) {
    throw new PassphraseError(
      malformed,
      `malformed ${what}: the ciphertext is not padded standard base64`,
    );
  }
  if (sealed.length < TAG_BYTES) {
    throw new PassphraseError(
      malformed,
      `malformed ${what}: the ciphertext is ${sealed.length} bytes, shorter than the ` +
        `${TAG_BYTES}-byte GCM tag it must end with`,
    );
  }
  return { nonce, sealed };
}

function decodeBase64(text: string): Buffer | undefined {
  return STD_BASE64.test(text) ? Buffer.from(text, "base64") : undefined;
}

function requireString(value: unknown, name: string): asserts value is string {
  if (typeof value !== "string") {
    throw new PassphraseError(
      "invalid-argument",
      `${name} must be a string, got ${value === null ? "null" : typeof value}`,
    );
  }
}
