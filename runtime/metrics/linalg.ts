// Dense symmetric linear algebra for the image-quality metrics, in float64: an
// eigendecomposition, the PSD square root built on it, and tr(sqrtm(c1 c2)) for FID.
//
// symmetricEigen: Householder reduction to tridiagonal form, then implicit QL with Wilkinson
// shifts (the EISPACK tred2/tql2 scheme). The orthogonal factor is kept transposed while it is
// built and rotated, so every inner loop walks contiguous rows of a row-major buffer; n = 512
// takes well under a second in Node. Convergence is tested against the norm of the whole
// tridiagonal matrix, so rank-deficient PSD inputs (a covariance of fewer samples than
// dimensions) converge as fast as full-rank ones: their zero eigenvalues come out as
// +-eps*||A|| rather than exactly 0.
//
// traceSqrtProduct: FID needs tr(sqrtm(c1 c2)). The course calls scipy's sqrtm on the
// non-symmetric product and keeps the real part. For PSD c1, c2 the product c1 c2 =
// s (s c2) with s = sqrt(c1) has the same eigenvalues as (s c2) s = s c2 s, which is
// symmetric PSD, so the trace is the sum of the square roots of the eigenvalues of s c2 s.
// That needs only symmetric eigensolves, which are stable, and rounding noise that makes an
// eigenvalue slightly negative is clamped to 0 (scipy's real part of sqrt of a negative
// eigenvalue is 0 as well).

export interface SymmetricEigen {
  /** The n eigenvalues in ascending order (as numpy.linalg.eigh). */
  values: Float64Array;
  /** Row-major n*n; column j is the unit eigenvector of values[j], so A = V diag(w) V^T. */
  vectors: Float64Array;
}

/** Iterations of implicit QL allowed per eigenvalue (EISPACK allows 30). */
const MAX_QL_ITERATIONS = 60;

/**
 * Eigendecomposition of a symmetric n*n matrix (row-major). Only the symmetric part
 * (A + A^T) / 2 is used. Throws if the matrix holds a non-finite value.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  const { values, rows } = eigenRows(a, n, "symmetricEigen");
  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) vectors[i * n + j] = rows[j * n + i];
  return { values, vectors };
}

/** The eigenvalues of a symmetric n*n matrix in ascending order, without the vectors. */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  const { d, e } = tridiagonalize(a, n, "symmetricEigenvalues");
  implicitQl(d, e, null, n);
  return Float64Array.from(ascendingOrder(d), (i) => d[i]);
}

/**
 * The symmetric square root of a symmetric positive semi-definite n*n matrix:
 * V diag(sqrt(max(w, 0))) V^T. Negative eigenvalues (rounding noise) are clamped to 0.
 */
export function sqrtPsd(s: ArrayLike<number>, n: number): Float64Array {
  const { values, rows } = eigenRows(s, n, "sqrtPsd");
  // u[k, :] = w_k^(1/4) v_k, so that sqrt(S) = sum_k u[k, :]^T u[k, :] = U^T U.
  const u = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const scale = Math.sqrt(Math.sqrt(Math.max(values[k], 0)));
    for (let i = 0; i < n; i++) u[k * n + i] = scale * rows[k * n + i];
  }
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const uk = k * n;
    for (let i = 0; i < n; i++) {
      const ui = u[uk + i];
      if (ui === 0) continue;
      const oi = i * n;
      for (let j = i; j < n; j++) out[oi + j] += ui * u[uk + j];
    }
  }
  mirrorUpper(out, n);
  return out;
}

/**
 * tr(sqrtm(c1 c2)) for symmetric PSD c1, c2 (n*n, row-major): sum_k sqrt(max(0, lambda_k))
 * over the eigenvalues of sqrt(c1) c2 sqrt(c1).
 *
 * With c1 = V W V^T, sqrt(c1) c2 sqrt(c1) is orthogonally similar to B = L^T c2 L with
 * L = V W^(1/2), so B's eigenvalues are used. Columns of L whose eigenvalue is <= 0 are zero
 * and only add zero eigenvalues, so they are dropped: for a covariance of rank r, B is r*r.
 */
export function traceSqrtProduct(c1: ArrayLike<number>, c2: ArrayLike<number>, n: number): number {
  checkSquare(c2, n, "traceSqrtProduct (c2)");
  for (let i = 0; i < n * n; i++) {
    if (!Number.isFinite(c2[i])) throw new Error(`traceSqrtProduct (c2): matrix entry ${i} is not finite`);
  }
  const { values, rows } = eigenRows(c1, n, "traceSqrtProduct (c1)");
  const keep: number[] = [];
  for (let k = 0; k < n; k++) if (values[k] > 0) keep.push(k);
  const r = keep.length;
  if (r === 0) return 0;
  // lt = L^T restricted to the kept eigenvectors, [r, n].
  const lt = new Float64Array(r * n);
  keep.forEach((k, q) => {
    const scale = Math.sqrt(values[k]);
    for (let i = 0; i < n; i++) lt[q * n + i] = scale * rows[k * n + i];
  });
  // t = L^T c2, [r, n], then B = t L, [r, r], symmetric: only the upper triangle is computed.
  const t = new Float64Array(r * n);
  for (let q = 0; q < r; q++) {
    const tq = q * n;
    for (let j = 0; j < n; j++) {
      const l = lt[tq + j];
      if (l === 0) continue;
      const cj = j * n;
      for (let i = 0; i < n; i++) t[tq + i] += l * c2[cj + i];
    }
  }
  const b = new Float64Array(r * r);
  for (let p = 0; p < r; p++) {
    for (let q = p; q < r; q++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += t[p * n + i] * lt[q * n + i];
      b[p * r + q] = s;
    }
  }
  mirrorUpper(b, r);
  let total = 0;
  for (const w of symmetricEigenvalues(b, r)) total += Math.sqrt(Math.max(w, 0));
  return total;
}

/** Eigenvalues in ascending order and the matching unit eigenvectors as the rows of an n*n matrix. */
function eigenRows(a: ArrayLike<number>, n: number, what: string): { values: Float64Array; rows: Float64Array } {
  const { d, e, work } = tridiagonalize(a, n, what);
  const vt = accumulateReflectors(work, n);
  implicitQl(d, e, vt, n);
  const order = ascendingOrder(d);
  const values = new Float64Array(n);
  const rows = new Float64Array(n * n);
  order.forEach((src, j) => {
    values[j] = d[src];
    rows.set(vt.subarray(src * n, src * n + n), j * n);
  });
  return { values, rows };
}

function checkSquare(a: ArrayLike<number>, n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: size must be a positive integer, got ${n}`);
  if (a.length !== n * n) {
    throw new Error(`${what}: expected ${n}x${n} = ${n * n} entries, got ${a.length}`);
  }
}

function mirrorUpper(a: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) a[i * n + j] = a[j * n + i];
}

interface Tridiagonal {
  /** Diagonal, n entries. */
  d: Float64Array;
  /** Sub-diagonal: e[i] couples i and i+1; e[n-1] = 0. */
  e: Float64Array;
  /**
   * Row k (k <= n-3) holds the Householder vector of step k in columns k+1..n-1, and
   * beta[k] = 2 / (v.v) (0 where the step was the identity).
   */
  work: { reflectors: Float64Array; beta: Float64Array };
}

/**
 * Householder tridiagonalisation T = Q^T A Q with Q = H_0 H_1 ... H_{n-3}. Step k maps row k
 * beyond the diagonal to alpha e_1 and updates the trailing block with the rank-2 form
 * A -= v w^T + w v^T, which keeps it exactly symmetric.
 */
function tridiagonalize(input: ArrayLike<number>, n: number, what: string): Tridiagonal {
  checkSquare(input, n, what);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const x = input[i * n + j];
      const y = input[j * n + i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        throw new Error(`${what}: matrix entry (${i}, ${j}) is not finite`);
      }
      const s = i === j ? x : 0.5 * (x + y);
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const beta = new Float64Array(n);
  const p = new Float64Array(n);

  for (let k = 0; k + 2 < n; k++) {
    const rk = k * n;
    d[k] = a[rk + k];
    // x = a[k, k+1..n-1], scaled by its 1-norm so the squares neither overflow nor underflow.
    let scale = 0;
    for (let j = k + 1; j < n; j++) scale += Math.abs(a[rk + j]);
    if (scale === 0) {
      e[k] = 0;
      beta[k] = 0;
      continue;
    }
    let ss = 0;
    for (let j = k + 1; j < n; j++) {
      const v = a[rk + j] / scale;
      a[rk + j] = v;
      ss += v * v;
    }
    const x0 = a[rk + k + 1];
    const alpha = x0 > 0 ? -Math.sqrt(ss) : Math.sqrt(ss);
    // v = x - alpha e_1; v.v / 2 = alpha (alpha - x0) > 0 since alpha and x0 differ in sign.
    a[rk + k + 1] = x0 - alpha;
    const b = 1 / (alpha * (alpha - x0));
    beta[k] = b;
    e[k] = alpha * scale;

    // p = beta A22 v; K = beta/2 (v.p); w = p - K v; A22 -= v w^T + w v^T.
    let vp = 0;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let j = k + 1; j < n; j++) s += a[ri + j] * a[rk + j];
      s *= b;
      p[i] = s;
      vp += s * a[rk + i];
    }
    const kk = 0.5 * b * vp;
    for (let i = k + 1; i < n; i++) p[i] -= kk * a[rk + i];
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const vi = a[rk + i];
      const wi = p[i];
      for (let j = k + 1; j < n; j++) a[ri + j] -= vi * p[j] + wi * a[rk + j];
    }
  }
  if (n >= 2) {
    d[n - 2] = a[(n - 2) * n + n - 2];
    e[n - 2] = a[(n - 2) * n + n - 1];
  }
  d[n - 1] = a[n * n - 1];
  e[n - 1] = 0;
  return { d, e, work: { reflectors: a, beta } };
}

/**
 * Q^T = H_{n-3} ... H_1 H_0, built right to left (M <- M H_k for k = n-3..0) so that each step
 * only touches the trailing block that is not yet the identity, one contiguous row at a time.
 */
function accumulateReflectors(work: Tridiagonal["work"], n: number): Float64Array {
  const { reflectors: v, beta } = work;
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  for (let k = n - 3; k >= 0; k--) {
    const b = beta[k];
    if (b === 0) continue;
    const rk = k * n;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let j = k + 1; j < n; j++) s += m[ri + j] * v[rk + j];
      s *= b;
      if (s === 0) continue;
      for (let j = k + 1; j < n; j++) m[ri + j] -= s * v[rk + j];
    }
  }
  return m;
}

/**
 * Implicit QL with Wilkinson shifts on the tridiagonal (d, e), in place: d ends as the
 * eigenvalues (unsorted). Each plane rotation in (i, i+1) is applied to rows i and i+1 of
 * vt (the transposed eigenvector matrix) when it is given.
 */
function implicitQl(d: Float64Array, e: Float64Array, vt: Float64Array | null, n: number): void {
  const eps = 2 ** -52;
  let shift = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > MAX_QL_ITERATIONS) {
          throw new Error(`symmetricEigen: QL iteration did not converge for eigenvalue ${l} of ${n}`);
        }
        // Shift from the leading 2x2 block.
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        shift += h;

        // Chase the bulge from m up to l.
        p = d[m];
        let c = 1;
        let c2 = 1;
        let c3 = 1;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (vt !== null) rotateRows(vt, n, i, c, s);
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += shift;
    e[l] = 0;
  }
}

/** Rows i and i+1 of vt <- the plane rotation (c, s) of them. */
function rotateRows(vt: Float64Array, n: number, i: number, c: number, s: number): void {
  const r0 = i * n;
  const r1 = r0 + n;
  for (let k = 0; k < n; k++) {
    const x = vt[r0 + k];
    const y = vt[r1 + k];
    vt[r1 + k] = s * x + c * y;
    vt[r0 + k] = c * x - s * y;
  }
}

/** sqrt(a^2 + b^2) without overflow or underflow of the squares. */
function hypot(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  if (x < y) [x, y] = [y, x];
  if (x === 0) return 0;
  const t = y / x;
  return x * Math.sqrt(1 + t * t);
}

function ascendingOrder(d: Float64Array): number[] {
  return Array.from(d.keys()).sort((i, j) => d[i] - d[j] || i - j);
}
