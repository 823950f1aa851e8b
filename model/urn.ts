/**
 * Reading a Pulumi URN, `urn:pulumi:<stack>::<project>::<parent$…$type>::<name>`: the one place
 * the program's tools, the policies and the tests take one apart.
 */

/** The type chain: the parents' types before the resource's own, each ended by `$`; "" if not a URN. */
export function urnTypeChain(urn: string): string {
  const parts = urn.split("::");
  return parts.length >= 4 ? (parts[2] ?? "") : "";
}

/** The resource's own type, the last link of the type chain. */
export function urnType(urn: string): string {
  return urnTypeChain(urn).split("$").pop() ?? "";
}

/** The resource's name: everything after the type chain, since a name may itself hold `::`. */
export function urnName(urn: string): string {
  const parts = urn.split("::");
  return parts.length >= 4 ? parts.slice(3).join("::") : urn;
}
