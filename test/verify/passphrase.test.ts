import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { inspect } from "node:util";
import fc from "fast-check";
import { parse } from "yaml";
import {
  CHECK_PLAINTEXT,
  type Crypter,
  crypterFromStackFile,
  makeEncryptionSalt,
  PassphraseError,
  type PassphraseErrorCode,
} from "../../tools/verify/passphrase";

// PBKDF2 with Pulumi's 1,000,000 iterations is deliberately slow, so each key is derived once per
// suite and shared; no test asserts anything about time.

interface Vector {
  encryptionsalt: string;
  passphrase: string;
  wrongPassphrase?: string;
  ciphertext: string;
  plaintext: string;
}

function loadVector(file: string): Vector {
  const text = readFileSync(path.join(__dirname, "..", "fixtures", "passphrase", file), "utf8");
  const data = parse(text) as Record<string, unknown>;
  for (const key of ["encryptionsalt", "passphrase", "ciphertext", "plaintext"]) {
    assert.equal(typeof data[key], "string", `${file}: ${key} must be a string`);
  }
  return data as unknown as Vector;
}

/** Runs `fn`, asserts it throws a PassphraseError with `code`, and returns the error. */
function expectError(
  fn: () => unknown,
  code: PassphraseErrorCode,
  message?: RegExp,
): PassphraseError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof PassphraseError, `expected a PassphraseError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

describe("tools/verify/passphrase", () => {
  describe("Pulumi's own vector (pulumi/pulumi pkg/secrets/passphrase/manager_test.go)", () => {
    const vector = loadVector("pulumi-manager-test.yaml");
    let crypter: Crypter;

    before(() => {
      crypter = crypterFromStackFile(vector.encryptionsalt, vector.passphrase);
    });

    it("decrypts Pulumi's ciphertext to the expected plaintext with the documented passphrase", () => {
      assert.equal(vector.plaintext, CHECK_PLAINTEXT);
      assert.equal(crypter.decrypt(vector.ciphertext), vector.plaintext);
    });

    it("rejects the wrong passphrase from that same test with a clear error", () => {
      assert.ok(vector.wrongPassphrase !== undefined);
      const err = expectError(
        () => crypterFromStackFile(vector.encryptionsalt, vector.wrongPassphrase as string),
        "incorrect-passphrase",
        /incorrect passphrase/,
      );
      assert.match(err.message, /PULUMI_CONFIG_PASSPHRASE/);
    });

    it("encrypts values that a fresh crypter from the same stack file decrypts", () => {
      const sealed = crypter.encrypt("db-password");
      assert.match(sealed, /^v1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/=]+$/);
      assert.equal(crypter.decrypt(sealed), "db-password");
    });
  });

  describe("against an independent reference of crypt.go (raw node:crypto)", () => {
    // PBKDF2-HMAC-SHA256, 1,000,000 iterations, 32 bytes; AES-256-GCM, 12-byte nonce, tag appended.
    const vector = loadVector("pulumi-manager-test.yaml");
    const salt = Buffer.from(vector.encryptionsalt.split(":")[1] as string, "base64");
    let key: Buffer;
    let crypter: Crypter;
    const seal = (plain: Buffer): string => {
      const nonce = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, nonce);
      const body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return `v1:${nonce.toString("base64")}:${body.toString("base64")}`;
    };

    before(() => {
      key = pbkdf2Sync(vector.passphrase, salt, 1_000_000, 32, "sha256");
      crypter = crypterFromStackFile(vector.encryptionsalt, vector.passphrase);
    });

    it("decrypts what the reference seals, and the reference opens what encrypt writes", () => {
      assert.equal(
        crypter.decrypt(seal(Buffer.from("from the reference", "utf8"))),
        "from the reference",
      );
      const [, nonce, body] = crypter.encrypt("from the crypter").split(":") as [
        string,
        string,
        string,
      ];
      const sealed = Buffer.from(body, "base64");
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64"));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      const plain = Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - 16)),
        decipher.final(),
      ]);
      assert.equal(plain.toString("utf8"), "from the crypter");
    });

    it("bytes that are not UTF-8 text: not-utf8, rather than replacement characters", () => {
      expectError(() => crypter.decrypt(seal(Buffer.from([0x66, 0xff, 0xfe]))), "not-utf8");
    });
  });

  describe("the empty passphrase", () => {
    it('is valid, as in Pulumi: a second vector locked with "" decrypts', () => {
      const vector = loadVector("empty-passphrase.yaml");
      assert.equal(vector.passphrase, "");
      const crypter = crypterFromStackFile(vector.encryptionsalt, vector.passphrase);
      assert.equal(crypter.decrypt(vector.ciphertext), vector.plaintext);
    });
  });

  describe("a new stack (makeEncryptionSalt)", () => {
    let created: ReturnType<typeof makeEncryptionSalt>;
    let reopened: Crypter;

    before(() => {
      created = makeEncryptionSalt("correct horse battery staple");
      reopened = crypterFromStackFile(created.encryptionsalt, "correct horse battery staple");
    });

    it("writes an encryptionsalt in Pulumi's format: v1:<8-byte salt>:<check message>", () => {
      const match = /^v1:([A-Za-z0-9+/]{11}=):(v1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/=]+)$/.exec(
        created.encryptionsalt,
      );
      assert.ok(match, created.encryptionsalt);
      assert.equal(Buffer.from(match[1] as string, "base64").length, 8);
      assert.equal(created.crypter.decrypt(match[2] as string), CHECK_PLAINTEXT);
    });

    it("round-trips any string, both with its own crypter and a reopened one", () => {
      fc.assert(
        fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (plaintext) => {
          const sealed = created.crypter.encrypt(plaintext);
          assert.equal(created.crypter.decrypt(sealed), plaintext);
          assert.equal(reopened.decrypt(sealed), plaintext);
          assert.equal(created.crypter.decrypt(reopened.encrypt(plaintext)), plaintext);
        }),
        { numRuns: 200 },
      );
    });

    it("round-trips the empty string and multi-byte text", () => {
      for (const plaintext of ["", "é", "日本語", "🎉 emoji", "a:b:c", "line\nbreak"]) {
        assert.equal(reopened.decrypt(created.crypter.encrypt(plaintext)), plaintext);
      }
    });

    it("uses a fresh nonce for every encryption", () => {
      const a = created.crypter.encrypt("same");
      const b = created.crypter.encrypt("same");
      assert.notEqual(a, b);
      assert.notEqual(a.split(":")[1], b.split(":")[1]);
    });

    it("draws a fresh salt for every new stack", () => {
      const other = makeEncryptionSalt("correct horse battery staple");
      assert.notEqual(other.encryptionsalt.split(":")[1], created.encryptionsalt.split(":")[1]);
      expectError(
        () => other.crypter.decrypt(created.crypter.encrypt("x")),
        "decryption-failed",
        /another stack or passphrase/,
      );
    });
  });

  describe("failures", () => {
    let crypter: Crypter;
    let good: string;
    let encryptionsalt: string;

    before(() => {
      const created = makeEncryptionSalt("pw");
      crypter = created.crypter;
      encryptionsalt = created.encryptionsalt;
      good = crypter.encrypt("value");
    });

    it("an altered ciphertext: decryption-failed, not a crypto exception", () => {
      const [, nonce, sealed] = good.split(":") as [string, string, string];
      const bytes = Buffer.from(sealed, "base64");
      bytes[0] = (bytes[0] as number) ^ 1;
      expectError(
        () => crypter.decrypt(`v1:${nonce}:${bytes.toString("base64")}`),
        "decryption-failed",
      );
      const otherNonce = Buffer.alloc(12, 7).toString("base64");
      expectError(() => crypter.decrypt(`v1:${otherNonce}:${sealed}`), "decryption-failed");
    });

    const malformedValues: [string, string, PassphraseErrorCode, RegExp][] = [
      ["empty", "", "malformed-ciphertext", /3 parts.*found 1 part\b/],
      ["no separators", "v1AAAA", "malformed-ciphertext", /found 1 part/],
      ["two parts", "v1:AAAAAAAAAAAAAAAA", "malformed-ciphertext", /found 2 parts/],
      ["four parts", "v1:a:b:c", "malformed-ciphertext", /found 4 parts/],
      [
        "another version",
        "v2:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==",
        "unsupported-ciphertext-version",
        /only v1/,
      ],
      [
        "nonce not base64",
        "v1:!!!!:AAAAAAAAAAAAAAAAAAAAAA==",
        "malformed-ciphertext",
        /nonce is not padded/,
      ],
      [
        "nonce unpadded",
        "v1:AAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==",
        "malformed-ciphertext",
        /nonce is not/,
      ],
      [
        "nonce 8 bytes",
        "v1:AAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAA==",
        "malformed-ciphertext",
        /nonce is 8 bytes/,
      ],
      [
        "ciphertext not base64",
        "v1:AAAAAAAAAAAAAAAA:not base64",
        "malformed-ciphertext",
        /ciphertext is not/,
      ],
      [
        "ciphertext shorter than the tag",
        "v1:AAAAAAAAAAAAAAAA:AAAA",
        "malformed-ciphertext",
        /3 bytes, shorter than the 16-byte GCM tag/,
      ],
    ];
    for (const [name, value, code, message] of malformedValues) {
      it(`a malformed secure value (${name}): ${code}`, () => {
        expectError(() => crypter.decrypt(value), code, message);
      });
    }

    const malformedSalts: [string, (s: string) => string, PassphraseErrorCode, RegExp][] = [
      ["empty", () => "", "malformed-encryptionsalt", /expected v1:<base64 salt>/],
      ["only a version", () => "v1", "malformed-encryptionsalt", /expected v1:<base64 salt>/],
      [
        "another version",
        (s) => s.replace(/^v1:/, "v2:"),
        "unsupported-encryptionsalt-version",
        /only v1/,
      ],
      [
        "salt not base64",
        (s) => s.replace(/^v1:[^:]*:/, "v1:***:"),
        "malformed-encryptionsalt",
        /salt .* not padded/,
      ],
      [
        "salt unpadded",
        (s) => s.replace(/^v1:([^:]*)=:/, "v1:$1:"),
        "malformed-encryptionsalt",
        /salt/,
      ],
      [
        "check message missing",
        (s) => s.split(":").slice(0, 2).join(":") + ":",
        "malformed-encryptionsalt",
        /check message.*found 1 part/,
      ],
      [
        "check message truncated",
        (s) => s.split(":").slice(0, 4).join(":"),
        "malformed-encryptionsalt",
        /found 2 parts/,
      ],
      [
        "check message of another version",
        (s) => s.replace(/:v1:([^:]*:[^:]*)$/, ":v9:$1"),
        "unsupported-encryptionsalt-version",
        /check message/,
      ],
    ];
    for (const [name, mutate, code, message] of malformedSalts) {
      it(`a malformed encryptionsalt (${name}): ${code}`, () => {
        expectError(() => crypterFromStackFile(mutate(encryptionsalt), "pw"), code, message);
      });
    }

    it("an encryptionsalt whose check message is not Pulumi's: incorrect passphrase, as Pulumi says", () => {
      // A check message that decrypts, but not to "pulumi", is the same verdict in manager.go.
      const [salt] = encryptionsalt.split(":").slice(1, 2);
      expectError(
        () => crypterFromStackFile(`v1:${salt as string}:${crypter.encrypt("not-pulumi")}`, "pw"),
        "incorrect-passphrase",
      );
    });

    it("arguments that are not strings: invalid-argument, naming the argument", () => {
      const loose = crypterFromStackFile as (a: unknown, b: unknown) => Crypter;
      expectError(
        () => loose(undefined, "pw"),
        "invalid-argument",
        /^encryptionsalt must be a string, got undefined$/,
      );
      expectError(
        () => loose(encryptionsalt, null),
        "invalid-argument",
        /^passphrase must be a string, got null$/,
      );
      expectError(
        () => (crypter.decrypt as (v: unknown) => string)(42),
        "invalid-argument",
        /^ciphertext must/,
      );
      expectError(
        () => (crypter.encrypt as (v: unknown) => string)({}),
        "invalid-argument",
        /^plaintext must/,
      );
      expectError(
        () => (makeEncryptionSalt as (v: unknown) => unknown)(1),
        "invalid-argument",
        /^passphrase must/,
      );
    });

    it("a plaintext with a lone surrogate is refused rather than silently altered", () => {
      expectError(() => crypter.encrypt("a\uD800b"), "invalid-argument", /lone UTF-16 surrogate/);
    });
  });

  describe("no error ever carries the passphrase or the plaintext (canaries)", () => {
    const passphrase = "CANARY-passphrase-7f3a9";
    const wrongPassphrase = "CANARY-wrong-passphrase-41c2";
    const plaintext = "CANARY-plaintext-e0d17";
    const loneSurrogatePlaintext = "CANARY-surrogate-plaintext-\uD800";
    const canaries = [passphrase, wrongPassphrase, plaintext, "CANARY"];

    function assertClean(err: PassphraseError): void {
      const renderings = [
        err.message,
        err.stack ?? "",
        String(err),
        inspect(err, { depth: 5, showHidden: true }),
        JSON.stringify(err),
        JSON.stringify(Object.getOwnPropertyDescriptors(err)),
      ];
      for (const text of renderings) {
        for (const canary of canaries) {
          assert.ok(!text.includes(canary), `error rendering contains a canary: ${err.code}`);
        }
      }
      assert.equal((err as { cause?: unknown }).cause, undefined);
    }

    it("holds for every failure path", () => {
      const created = makeEncryptionSalt(passphrase);
      const sealed = created.crypter.encrypt(plaintext);
      const [, nonce, body] = sealed.split(":") as [string, string, string];
      const altered = Buffer.from(body, "base64");
      altered[altered.length - 1] = (altered[altered.length - 1] as number) ^ 0x80;
      const other = makeEncryptionSalt(wrongPassphrase).crypter;

      const errors: PassphraseError[] = [
        expectError(
          () => crypterFromStackFile(created.encryptionsalt, wrongPassphrase),
          "incorrect-passphrase",
        ),
        expectError(
          () => crypterFromStackFile(`v2:${created.encryptionsalt.slice(3)}`, passphrase),
          "unsupported-encryptionsalt-version",
        ),
        expectError(
          () => crypterFromStackFile("v1:" + passphrase, passphrase),
          "malformed-encryptionsalt",
        ),
        expectError(() => other.decrypt(sealed), "decryption-failed"),
        expectError(
          () => created.crypter.decrypt(`v1:${nonce}:${altered.toString("base64")}`),
          "decryption-failed",
        ),
        expectError(
          () => created.crypter.decrypt(`v1:${plaintext}:${body}`),
          "malformed-ciphertext",
        ),
        expectError(
          () => created.crypter.decrypt(`${plaintext}:${nonce}:${body}`),
          "unsupported-ciphertext-version",
        ),
        expectError(() => created.crypter.decrypt(plaintext), "malformed-ciphertext"),
        expectError(() => created.crypter.encrypt(loneSurrogatePlaintext), "invalid-argument"),
      ];
      for (const err of errors) assertClean(err);
      // And the happy path still works with the same values.
      assert.equal(created.crypter.decrypt(sealed), plaintext);
    });
  });
});
