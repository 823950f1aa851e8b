/**
 * How an image reference reads: its repository, tag and digest, and whether it is pinned by digest.
 * Parity compares images by these parts; a policy requires the digest outside dev.
 */

export interface ImageRef {
  /** registry/path, as written (no tag, no digest). */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits `registry:5000/team/app:1.2@sha256:...` into repository, tag and digest. */
export function parseImageRef(image: string): ImageRef {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return {
    repository: rest,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

export function isDigestPinned(image: string): boolean {
  return /@sha256:[a-f0-9]{64}$/.test(image);
}

/** The image with its digest cut to 12 hex digits, for a table cell. */
export function shortImage(image: string): string {
  return image.replace(/@sha256:([a-f0-9]{12})[a-f0-9]{52}$/, "@sha256:$1…");
}
