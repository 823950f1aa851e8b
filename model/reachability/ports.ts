/**
 * Port sets: per protocol, sorted disjoint inclusive ranges. What a rule allows, what two sides of a
 * connection share, and how a list of ports reads.
 */
import { type PortRange, type Protocol, PROTOCOLS } from "./types";

export type Ranges = readonly (readonly [number, number])[];
export type PortSet = Readonly<Record<Protocol, Ranges>>;

export const ALL_PORTS: Ranges = [[1, 65535]];
export const EMPTY: PortSet = { TCP: [], UDP: [], SCTP: [] };
export const EVERYTHING: PortSet = { TCP: ALL_PORTS, UDP: ALL_PORTS, SCTP: ALL_PORTS };

function normalize(ranges: (readonly [number, number])[]): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [from, to] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

export function union(a: PortSet, b: PortSet): PortSet {
  return {
    TCP: normalize([...a.TCP, ...b.TCP]),
    UDP: normalize([...a.UDP, ...b.UDP]),
    SCTP: normalize([...a.SCTP, ...b.SCTP]),
  };
}

function intersectRanges(a: Ranges, b: Ranges): Ranges {
  const out: [number, number][] = [];
  for (const [af, at] of a) {
    for (const [bf, bt] of b) {
      const from = Math.max(af, bf);
      const to = Math.min(at, bt);
      if (from <= to) out.push([from, to]);
    }
  }
  return normalize(out);
}

export function intersect(a: PortSet, b: PortSet): PortSet {
  return {
    TCP: intersectRanges(a.TCP, b.TCP),
    UDP: intersectRanges(a.UDP, b.UDP),
    SCTP: intersectRanges(a.SCTP, b.SCTP),
  };
}

export function isEmpty(set: PortSet): boolean {
  return PROTOCOLS.every((p) => set[p].length === 0);
}

export function toPortRanges(set: PortSet): PortRange[] {
  return PROTOCOLS.flatMap((protocol) =>
    set[protocol].map(([from, to]) => ({ protocol, from, to })),
  );
}

/** "all ports", "all TCP ports, UDP 53", "TCP 53, TCP 8000-8080", or "no port". */
export function formatPorts(ranges: readonly PortRange[]): string {
  if (ranges.length === 0) return "no port";
  const full = (p: Protocol) =>
    ranges.some((r) => r.protocol === p && r.from === 1 && r.to === 65535);
  if (PROTOCOLS.every(full)) return "all ports";
  return ranges
    .map((r) =>
      r.from === 1 && r.to === 65535
        ? `all ${r.protocol} ports`
        : r.from === r.to
          ? `${r.protocol} ${r.from}`
          : `${r.protocol} ${r.from}-${r.to}`,
    )
    .join(", ");
}
