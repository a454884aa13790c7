// PNG output: sample grids and loss curves (pngjs for the encoding).
export { encodePng, writePng, type Raster } from "./png.js";
export { encodeGridPng, gridRaster, toByte, writeGridPng, type GridOptions } from "./grid.js";
export {
  EVAL_COLOR,
  TRAIN_COLOR,
  TRAIN_RAW_COLOR,
  encodeLossPlotPng,
  formatTick,
  linearTicks,
  logTicks,
  plotLayout,
  renderLossPlot,
  writeLossPlotPng,
  type LossPlotOptions,
  type LossPoint,
  type PlotLayout,
} from "./loss-plot.js";
