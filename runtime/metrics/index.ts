// Image-quality metrics: FID and KID between feature sets, as fast.ai course22p2 computes them
// (miniai/fid.py), in float64, plus the symmetric eigensolver they rest on.
export {
  decodeStats,
  encodeStats,
  featureStats,
  fid,
  type FeatureStats,
  type Features,
} from "./fid.js";
export { kid, kidChunkBounds, kidChunkCount, roundHalfEven, squaredMmd, type KidOptions } from "./kid.js";
export {
  sqrtPsd,
  symmetricEigen,
  symmetricEigenvalues,
  traceSqrtProduct,
  type SymmetricEigen,
} from "./linalg.js";
