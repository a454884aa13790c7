// "Did you mean" support: names in scope ranked by edit distance (as Elm's Suggest).

export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/** Up to `max` candidates close to `name`, nearest first. */
export function nearNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.max(1, Math.floor(name.length / 3));
  return [...new Set(candidates)]
    .map((c) => ({ c, d: editDistance(name.toLowerCase(), c.toLowerCase()) }))
    .filter((x) => x.d <= limit || x.c.startsWith(name) || name.startsWith(x.c))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, max)
    .map((x) => x.c);
}

export function suggestionHelp(name: string, candidates: Iterable<string>, what: string): string | undefined {
  const near = nearNames(name, candidates);
  if (near.length === 0) return undefined;
  return near.length === 1 ? `there is ${what} with a similar name: \`${near[0]}\`` : `${what}s with similar names: ${near.map((n) => `\`${n}\``).join(", ")}`;
}
