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

/** Whether `candidate` is close enough to `name` to suggest. Short names need a real likeness: a
 *  one-letter name matches only itself in another case (`X` for `x`), not every other letter; a
 *  prefix counts from three letters on (`attn` for `attn_chans`). */
function similar(name: string, candidate: string): boolean {
  const a = name.toLowerCase();
  const b = candidate.toLowerCase();
  if (a === b) return name !== candidate;
  const shorter = Math.min(a.length, b.length);
  if (shorter >= 3 && (b.startsWith(a) || a.startsWith(b))) return true;
  if (a.length < 2) return false;
  const limit = Math.max(1, Math.floor(a.length / 3));
  return editDistance(a, b) <= Math.min(limit, shorter - 1);
}

/** Up to `max` candidates close to `name`, nearest first. */
export function nearNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  return [...new Set(candidates)]
    .filter((c) => c !== name && similar(name, c))
    .map((c) => ({ c, d: editDistance(name.toLowerCase(), c.toLowerCase()) }))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, max)
    .map((x) => x.c);
}

/** "did you mean `x`?" for the candidates close to `name`, or undefined when none is. */
export function suggestionHelp(name: string, candidates: Iterable<string>): string | undefined {
  const near = nearNames(name, candidates).map((n) => `\`${n}\``);
  if (near.length === 0) return undefined;
  return near.length === 1 ? `did you mean ${near[0]}?` : `did you mean one of ${near.slice(0, -1).join(", ")} or ${near[near.length - 1]}?`;
}
