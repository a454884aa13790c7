// Elementwise unary primitives: f32 in, same shape f32 out. Each entry is its math, its
// VJP (for most the cotangent times the derivative) and its WGSL expression of `x`.

import type { OpEmitter } from "./emitter.js";
import { numel } from "../ir/shape.js";
import type { Value } from "../ir/value.js";
import { allocFloat, floats, requireDType, type OpDef, type VjpRule } from "./def.js";
import type { UnaryKind } from "../ir/kinds.js";
import { f32Literal, flatKernel } from "../wgsl/wgsl.js";

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
function chain<K extends UnaryKind>(derivative: (b: OpEmitter, x: Value, y: Value) => Value): VjpRule<K> {
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

/**
 * dst[i] = f(src[i]), with its own loop for the kinds a training step runs most: one shared
 * loop calling `functions[kind]` is megamorphic, and V8 then cannot inline the call.
 */
function unaryLoop(kind: UnaryKind, src: Float32Array | Float64Array, dst: Float32Array | Float64Array): void {
  const n = src.length;
  switch (kind) {
    case "neg":
      for (let i = 0; i < n; i++) dst[i] = -src[i];
      return;
    case "square":
      for (let i = 0; i < n; i++) dst[i] = src[i] * src[i];
      return;
    case "sqrt":
      for (let i = 0; i < n; i++) dst[i] = Math.sqrt(src[i]);
      return;
    case "sigmoid":
      for (let i = 0; i < n; i++) dst[i] = sigmoid(src[i]);
      return;
    default: {
      const f = functions[kind];
      for (let i = 0; i < n; i++) dst[i] = f(src[i]);
    }
  }
}

/** `c0 + v * (c1 + v * (...))` of literal coefficients. */
const horner = (coefs: readonly number[], v: string): string =>
  coefs.map(f32Literal).reduceRight((acc, c) => (acc ? `${c} + ${v} * (${acc})` : c), "");

/** erf's Maclaurin coefficients 2/sqrt(pi) (-1)^n / (n! (2n + 1)), n = 0..9: term 10 is < 1.4e-8 at |x| = 1. */
const ERF_SERIES = Array.from({ length: 10 }, (_, n) => {
  let factorial = 1;
  for (let k = 2; k <= n; k++) factorial *= k;
  return (TWO_OVER_SQRT_PI * (n % 2 ? -1 : 1)) / (factorial * (2 * n + 1));
});
/** Numerical Recipes' erfcc: erfc(a) = t exp(-a^2 + P(t)), t = 1 / (1 + a/2), fractional error < 1.2e-7. */
const ERFC_CHEBYSHEV = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
/** tanh's Maclaurin coefficients (x, x^3, ..., x^17): at |x| = 0.625 the next term is < 3e-8. */
const TANH_SERIES = [1, -1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925, 21844 / 6081075, -929569 / 638512875, 6404582 / 10854718875];

/**
 * WGSL functions for ops the builtins do not cover well, each within ~1.6e-7 of the reference
 * (2-3 ulp) and keeping relative precision near 0, where series take over:
 * - erf has no builtin: 1 - erfc beyond |x| = 1.
 * - WGSL only promises tanh to the accuracy of sinh/cosh (lavapipe's is 1e-5 relative near 0,
 *   and a sinh/cosh form overflows past |x| = 89): 1 - 2/(exp(2|x|) + 1) beyond |x| = 0.625.
 */
const wgslHelpers: Partial<Record<UnaryKind, string>> = {
  erf: `fn erf_f32(x: f32) -> f32 {
  let a = abs(x);
  if (a < 1.0) {
    let x2 = x * x;
    return x * (${horner(ERF_SERIES, "x2")});
  }
  let b = min(a, 10.0); // erf is 1 in f32 from |x| = 3.9; the bound keeps a * a finite
  let t = 1.0 / (1.0 + 0.5 * b);
  let erfc = t * exp(-b * b + ${horner(ERFC_CHEBYSHEV, "t")});
  return sign(x) * (1.0 - erfc);
}`,
  tanh: `fn tanh_f32(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.625) {
    let x2 = x * x;
    return x * (${horner(TANH_SERIES, "x2")});
  }
  // tanh is 1 in f32 from |x| = 9.01; the bound keeps exp finite
  return sign(x) * (1.0 - 2.0 / (exp(2.0 * min(a, 10.0)) + 1.0));
}`,
};

/** The WGSL expression of each op on `x`. */
const wgslExpr: { [K in UnaryKind]: string } = {
  neg: "-x",
  exp: "exp(x)",
  log: "log(x)",
  sin: "sin(x)",
  cos: "cos(x)",
  sqrt: "sqrt(x)",
  rsqrt: "inverseSqrt(x)",
  sigmoid: "1.0 / (1.0 + exp(-x))", // exp(-x) = inf for x < -88 gives 0, as it should
  tanh: "tanh_f32(x)",
  erf: "erf_f32(x)",
  square: "x * x",
  relu: "select(0.0, x, x > 0.0)",
  step: "select(0.0, 1.0, x > 0.0)",
};

function unaryOp<K extends UnaryKind>(kind: K): OpDef<K> {
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
      unaryLoop(kind, src, dst);
      return dst;
    },
    wgsl: ({ inputs: [x], out, limits }) => {
      const n = numel(x.shape);
      return flatKernel([x], out, n, `  let x = in0[i];
  out[i] = ${wgslExpr[kind]};`, limits, { decls: wgslHelpers[kind] });
    },
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

/** For the fusion of elementwise chains (compiler/passes/schedule/schedule.ts). */
export { wgslExpr as unaryWgslExpr, wgslHelpers as unaryWgslHelpers };
