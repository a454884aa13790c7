// einops-style patterns over one sample's axes: "c h w -> (h w) c". The result is a reshape of the
// input into elementary axes (splitShape), a transpose (perm) and a reshape into the output shape.

type Group = string[];

function parseSide(side: string): Group[] | string {
  const groups: Group[] = [];
  const re = /\(([^()]*)\)|([A-Za-z_][A-Za-z0-9_]*)|(\S)/g;
  for (const m of side.matchAll(re)) {
    if (m[1] !== undefined) {
      const names = m[1].trim().split(/\s+/).filter(Boolean);
      if (names.some((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))) return `bad axis name in \`(${m[1]})\``;
      groups.push(names);
    } else if (m[2] !== undefined) groups.push([m[2]]);
    else return `unexpected \`${m[3]}\` in the pattern`;
  }
  return groups;
}

export type RearrangeResult =
  | { ok: true; shape: number[]; perm: number[]; splitShape: number[] }
  | { ok: false; error: string };

export function rearrangeShape(pattern: string, inShape: readonly number[], given: Record<string, number>): RearrangeResult {
  const sides = pattern.split("->");
  if (sides.length !== 2) return { ok: false, error: "a rearrange pattern has the form `input axes -> output axes`" };
  const lhs = parseSide(sides[0]);
  const rhs = parseSide(sides[1]);
  if (typeof lhs === "string") return { ok: false, error: lhs };
  if (typeof rhs === "string") return { ok: false, error: rhs };
  if (lhs.length !== inShape.length) return { ok: false, error: `the pattern names ${lhs.length} input axes but the input has ${inShape.length}` };
  const sizes = new Map<string, number>();
  const order: string[] = [];
  for (const [i, g] of lhs.entries()) {
    const unknown = g.filter((n) => given[n] === undefined);
    if (unknown.length > 1) return { ok: false, error: `axes ${unknown.map((n) => `\`${n}\``).join(", ")} of group ${i + 1} need sizes (give all but one as keywords)` };
    const known = g.filter((n) => given[n] !== undefined).reduce((p, n) => p * given[n], 1);
    for (const n of g) {
      if (sizes.has(n)) return { ok: false, error: `axis \`${n}\` appears twice on the left` };
      const size = given[n] ?? inShape[i] / known;
      if (!Number.isInteger(size) || size < 1) return { ok: false, error: `axis group ${i + 1} of size ${inShape[i]} cannot be split with the sizes given` };
      sizes.set(n, size);
      order.push(n);
    }
    const total = g.reduce((p, n) => p * sizes.get(n)!, 1);
    if (total !== inShape[i]) return { ok: false, error: `axis group ${i + 1} has size ${inShape[i]}, but the sizes given multiply to ${total}` };
  }
  for (const k of Object.keys(given)) if (!sizes.has(k)) return { ok: false, error: `\`${k}\` is not an axis of the input side` };
  const flat = rhs.flat();
  const seen = new Set<string>();
  for (const n of flat) {
    if (!sizes.has(n)) return { ok: false, error: `output axis \`${n}\` is not on the input side` };
    if (seen.has(n)) return { ok: false, error: `axis \`${n}\` appears twice on the right` };
    seen.add(n);
  }
  if (seen.size !== sizes.size) return { ok: false, error: `every input axis must appear in the output (${order.filter((n) => !seen.has(n)).join(", ")} missing)` };
  return {
    ok: true,
    shape: rhs.map((g) => g.reduce((p, n) => p * sizes.get(n)!, 1)),
    perm: flat.map((n) => order.indexOf(n)),
    splitShape: order.map((n) => sizes.get(n)!),
  };
}
