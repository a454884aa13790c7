// Elementwise unary primitives: f32 in, same shape f32 out. Each entry is its math and
// its VJP, which for most is the cotangent times the derivative.

import type { GraphBuilder } from "../graph/builder.js";
import type { Value } from "../graph/value.js";
import { allocFloat, floats, requireDType, type OpDef, type VjpRule } from "./def.js";
import type { UnaryKind } from "./kinds.js";

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf to ~1e-13 (series near 0, erfc continued fraction in the tails): A&S 7.1.26's 1e-7 is too coarse for float64 gradient checks. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * sum;
  }
  // erfc continued fraction (Lentz) for the tails
  const cf = erfcContinuedFraction(ax);
  return x > 0 ? 1 - cf : cf - 1;
}

function erfcContinuedFraction(x: number): number {
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** The VJP of y = f(x) with derivative f'(x) given as a graph of x and y (whichever is cheaper). */
function chain<K extends UnaryKind>(derivative: (b: GraphBuilder, x: Value, y: Value) => Value): VjpRule<K> {
  return ({ b, inputs: [x], out, g }) => [b.mul(g, derivative(b, x, out))];
}

const vjps: { [K in UnaryKind]: VjpRule<K> } = {
  neg: ({ b, g }) => [b.neg(g)],
  exp: chain((_b, _x, y) => y),
  log: chain((b, x) => b.div(1, x)),
  sin: chain((b, x) => b.cos(x)),
  cos: chain((b, x) => b.neg(b.sin(x))),
  sqrt: chain((b, _x, y) => b.div(0.5, y)),
  rsqrt: chain((b, x, y) => b.mul(-0.5, b.div(y, x))), // d/dx x^-1/2 = -1/2 x^-3/2 = -y/(2x)
  sigmoid: chain((b, _x, y) => b.mul(y, b.sub(1, y))),
  tanh: chain((b, _x, y) => b.sub(1, b.square(y))),
  erf: chain((b, x) => b.mul(TWO_OVER_SQRT_PI, b.exp(b.neg(b.square(x))))),
  square: chain((b, x) => b.mul(2, x)),
  relu: chain((b, x) => b.step(x)),
  step: () => [null], // piecewise constant: zero almost everywhere
};

const functions: { [K in UnaryKind]: (x: number) => number } = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  sigmoid,
  tanh: Math.tanh,
  erf,
  square: (x) => x * x,
  relu: (x) => (x > 0 ? x : 0),
  step: (x) => (x > 0 ? 1 : 0),
};

function unaryOp<K extends UnaryKind>(kind: K): OpDef<K> {
  const f = functions[kind];
  return {
    kind,
    arity: 1,
    shape: (inputs) => {
      requireDType(kind, inputs, "f32");
      return { shape: inputs[0].shape, dtype: "f32" };
    },
    vjp: vjps[kind],
    reference: ([x], _p, _out, ctx) => {
      const src = floats(x);
      const dst = allocFloat(ctx, src.length);
      for (let i = 0; i < src.length; i++) dst[i] = f(src[i]);
      return dst;
    },
    wgsl: null,
  };
}

export const unaryOps: { [K in UnaryKind]: OpDef<K> } = {
  neg: unaryOp("neg"),
  exp: unaryOp("exp"),
  log: unaryOp("log"),
  sin: unaryOp("sin"),
  cos: unaryOp("cos"),
  sqrt: unaryOp("sqrt"),
  rsqrt: unaryOp("rsqrt"),
  sigmoid: unaryOp("sigmoid"),
  tanh: unaryOp("tanh"),
  erf: unaryOp("erf"),
  square: unaryOp("square"),
  relu: unaryOp("relu"),
  step: unaryOp("step"),
};
