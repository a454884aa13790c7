// Figures: sample grids (pixels, and labeled sheets composed as SVG), loss and ablation charts
// (vega-lite specs rendered headless), montages; PNG through pngjs and resvg with a shipped font.
export { encodePng, readPng, writePng, type Raster } from "./png.js";
export { upscale } from "./upscale.js";
export { encodeGridPng, gridRaster, scaleToAtLeast, toByte, writeGridPng, type GridOptions } from "./grid.js";
export { encodeLabeledGridPng, labeledGrid, writeLabeledGridPng, type LabeledGrid, type LabeledGridLayout, type LabeledGridOptions } from "./labeled-grid.js";
export { FONT_FAMILY, FONT_FILES } from "./fonts.js";
export { escapeXml, pngDataUri, svgDocument, svgToPng, textWidth, wrapText } from "./svg.js";
export { chartSvg, writeChart, EVAL_COLOR, TRAIN_COLOR, TRAIN_RAW_COLOR, type WrittenChart } from "./vega-chart.js";
export { lossChartSpec, smooth, writeLossChart, SERIES, type LossChartOptions, type LossPoint, type TrainPoint } from "./loss-chart.js";
export { ablationChartSpec, writeAblationChart, type AblationChartOptions, type Bar } from "./ablation-chart.js";
export { montageLayout, montagePng, montageSvg, type MontageCell, type MontageLayout, type MontageOptions, type MontagePanel } from "./montage.js";
