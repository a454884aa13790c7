// Charts are vega-lite specs rendered headless: vega-lite compiles to vega, vega's View draws to
// an SVG string (no canvas: text widths are vega's estimate, the same everywhere), and resvg
// turns that into a PNG with the shipped font. Every chart is written twice: name.svg beside name.png.
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { writeFileAtomic } from "../data/atomic-write.js";
import { FONT_FAMILY } from "./fonts.js";
import { svgToPng } from "./svg.js";

/** Shared look: the shipped font everywhere, white background, no outline around the plot. */
const CONFIG = {
  font: FONT_FAMILY,
  background: "white",
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e6e6e6" },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: "start" },
} as const;

export const TRAIN_COLOR = "#1f77b4";
export const TRAIN_RAW_COLOR = "#a5c8e4";
export const EVAL_COLOR = "#e66e00";

/** The chart as an SVG document. */
export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const withConfig = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const view = new View(parse(compile(withConfig).spec), { renderer: "none" });
  try {
    return renumberClips(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/** vega numbers clip paths with a counter global to the process: number them from 1 per chart, so the SVG is a function of the spec. */
function renumberClips(svg: string): string {
  const ids = new Map<string, number>();
  return svg.replace(/\bclip(\d+)\b/g, (_, n: string) => {
    if (!ids.has(n)) ids.set(n, ids.size + 1);
    return `clip${ids.get(n)}`;
  });
}

export interface WrittenChart {
  readonly png: string;
  readonly svg: string;
  /** The SVG text, for pages that inline it. */
  readonly svgText: string;
}

/** Writes the chart as `pngPath` and the same path with .svg. */
export async function writeChart(pngPath: string, spec: TopLevelSpec): Promise<WrittenChart> {
  const svgText = await chartSvg(spec);
  const svgPath = pngPath.replace(/\.png$/i, "") + ".svg";
  await writeFileAtomic(svgPath, Buffer.from(svgText));
  await writeFileAtomic(pngPath, svgToPng(svgText));
  return { png: pngPath, svg: svgPath, svgText };
}
