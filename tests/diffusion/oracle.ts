// Exact denoisers for data made of a few known points (equal weights): the posterior mean
// E[x0 | x_t] is a softmax-weighted mix of the points, so the optimal eps- and Karras-
// predictions are known in closed form. Samplers run against them must land on the points.
import { abar, karrasScalings, KARRAS_SIGMA_DATA } from "../../runtime/diffusion/schedules.js";
import type { Denoiser } from "../../runtime/diffusion/samplers.js";

/** E[x0 | y] for y = scale*x0 + std*noise, x0 uniform over `points` (each of length dim). */
function posteriorMean(y: Float32Array, offset: number, dim: number, points: Float32Array[], scale: number, std: number): Float64Array {
  const logw = points.map((p) => {
    let d2 = 0;
    for (let i = 0; i < dim; i++) {
      const r = y[offset + i] - scale * p[i];
      d2 += r * r;
    }
    return -d2 / (2 * std * std);
  });
  const m = Math.max(...logw);
  const w = logw.map((l) => Math.exp(l - m));
  const total = w.reduce((a, b) => a + b, 0);
  const mean = new Float64Array(dim);
  points.forEach((p, k) => {
    for (let i = 0; i < dim; i++) mean[i] += (w[k] / total) * p[i];
  });
  return mean;
}

/** The optimal eps-prediction for the cosine schedule. */
export function cosineOracle(points: Float32Array[]): Denoiser {
  const dim = points[0].length;
  return async (x, t) => {
    const out = new Float32Array(x.length);
    for (let b = 0; b < t.length; b++) {
      const a = abar(t[b]);
      const std = Math.sqrt(1 - a);
      if (std < 1e-6) continue; // t = 0: eps is irrelevant (its coefficient is 0)
      const mean = posteriorMean(x, b * dim, dim, points, Math.sqrt(a), std);
      for (let i = 0; i < dim; i++) out[b * dim + i] = (x[b * dim + i] - Math.sqrt(a) * mean[i]) / std;
    }
    return out;
  };
}

/** The optimal preconditioned output F for the Karras parametrisation (input is x*c_in). */
export function karrasOracle(points: Float32Array[], sigmaData = KARRAS_SIGMA_DATA): Denoiser {
  const dim = points[0].length;
  return async (xin, sigmas) => {
    const out = new Float32Array(xin.length);
    for (let b = 0; b < sigmas.length; b++) {
      const sigma = sigmas[b];
      const { cSkip, cOut, cIn } = karrasScalings(sigma, sigmaData);
      const x = new Float32Array(dim);
      for (let i = 0; i < dim; i++) x[i] = xin[b * dim + i] / cIn;
      const mean = posteriorMean(x, 0, dim, points, 1, sigma);
      for (let i = 0; i < dim; i++) out[b * dim + i] = (mean[i] - cSkip * x[i]) / cOut;
    }
    return out;
  };
}

/**
 * Gaussian data x0 ~ N(mu, s^2) per coordinate: the posterior mean is linear, and the
 * probability-flow ODE has a closed-form solution (see `exactFlow`), so integrator error can be
 * measured, not just the end point.
 */
export function gaussianCosineOracle(mu: number, s: number): Denoiser {
  return async (x, t) => {
    const out = new Float32Array(x.length);
    const dim = x.length / t.length;
    for (let b = 0; b < t.length; b++) {
      const a = abar(t[b]);
      if (1 - a < 1e-12) continue;
      const gain = (s * s * Math.sqrt(a)) / (a * s * s + 1 - a);
      for (let i = b * dim; i < (b + 1) * dim; i++) {
        const mean = mu + gain * (x[i] - Math.sqrt(a) * mu);
        out[i] = (x[i] - Math.sqrt(a) * mean) / Math.sqrt(1 - a);
      }
    }
    return out;
  };
}

export function gaussianKarrasOracle(mu: number, s: number, sigmaData = KARRAS_SIGMA_DATA): Denoiser {
  return async (xin, sigmas) => {
    const out = new Float32Array(xin.length);
    const dim = xin.length / sigmas.length;
    for (let b = 0; b < sigmas.length; b++) {
      const sigma = sigmas[b];
      const { cSkip, cOut, cIn } = karrasScalings(sigma, sigmaData);
      for (let i = b * dim; i < (b + 1) * dim; i++) {
        const x = xin[i] / cIn;
        const mean = mu + ((s * s) / (s * s + sigma * sigma)) * (x - mu);
        out[i] = (mean - cSkip * x) / cOut;
      }
    }
    return out;
  };
}

/** The probability-flow ODE solution for Gaussian data, in the variance-exploding variable y = x0 + sigma*n. */
export function exactFlow(y: number, sigmaFrom: number, sigmaTo: number, mu: number, s: number): number {
  return mu + (y - mu) * Math.sqrt((s * s + sigmaTo * sigmaTo) / (s * s + sigmaFrom * sigmaFrom));
}
