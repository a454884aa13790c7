// The language's broadcasting, in one place: the checker asks for the result shape of `a + b`,
// lowering asks how to reshape an operand so numpy broadcasting of batched values agrees.
// Per-sample shapes: equal shapes, a scalar against anything, or a vector [C] against the
// channels of an image [C, H, W] / the features of tokens [S, C] (or of another vector).

/** The shape of an elementwise op over `x` and `y`, or undefined when they do not broadcast. */
export function broadcastShape(x: readonly number[], y: readonly number[]): readonly number[] | undefined {
  return broadcastOnto(x, y) ?? broadcastOnto(y, x);
}

/** `y` broadcast onto `x` leaves `x`'s shape. */
function broadcastOnto(x: readonly number[], y: readonly number[]): readonly number[] | undefined {
  if (x.length === y.length && x.every((d, i) => d === y[i])) return x;
  if (y.length === 0) return x;
  if (y.length === 1 && x.length >= 2 && (x.length === 3 ? x[0] : x[x.length - 1]) === y[0]) return x;
  return undefined;
}

/** An operand's per-sample shape with size-1 axes added so it lines up, numpy style, with a
 *  result of shape `out`: a scalar becomes all ones, a vector [C] meets an image as [C, 1, 1]
 *  and tokens as [1, C]. An operand of the result's rank is unchanged. */
export function alignedShape(own: readonly number[], out: readonly number[]): readonly number[] {
  if (own.length === out.length) return own;
  if (own.length === 0) return out.map(() => 1);
  if (own.length === 1 && out.length === 3) return [own[0], 1, 1];
  if (own.length === 1 && out.length === 2) return [1, own[0]];
  return own;
}
