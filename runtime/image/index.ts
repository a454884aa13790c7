// PNG output: sample grids, loss curves, ablation bar charts and montages (pngjs for the encoding).
export { encodePng, readPng, writePng, type Raster } from "./png.js";
export { upscale } from "./upscale.js";
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
export {
  BAR_EDGE,
  BAR_FILL,
  POINT_COLOR,
  barChartLayout,
  encodeBarChartPng,
  renderBarChart,
  wrapLabel,
  writeBarChartPng,
  type Bar,
  type BarChartLayout,
  type BarChartOptions,
} from "./bar-chart.js";
export { montage, montageLayout, type MontageCell, type MontageLayout, type MontageOptions, type MontagePanel } from "./montage.js";
