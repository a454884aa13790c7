// ablation.html: the report as one page a browser opens offline: the table of ablation.md, the
// charts as inline SVG and every variant's sample grid as a data: URI (no file or network fetch),
// with its style inline. A pure function of its inputs, like the markdown.
import { escapeXml, pngDataUri } from "../image/svg.js";
import { upscale } from "../image/upscale.js";
import type { Raster } from "../image/png.js";
import { reportTable, TABLE_LEGEND, unfinishedRuns, type VariantSummary } from "./report.js";

export interface HtmlReportInputs {
  readonly title: string;
  readonly command: string;
  readonly notes: readonly string[];
  readonly summaries: readonly VariantSummary[];
  /** Charts as SVG documents (vega's output). */
  readonly charts: readonly { readonly title: string; readonly svg: string }[];
  /** Each variant's sample grid, in the variants' order. */
  readonly grids: readonly { readonly label: string; readonly raster: Raster }[];
}

const STYLE = `
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 24px; color: #111; max-width: 1200px; }
pre { background: #f4f4f4; padding: 8px 12px; overflow-x: auto; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; }
.charts, .grids { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
figure { margin: 0; }
figcaption { font-size: 14px; margin-bottom: 6px; }
img.grid { image-rendering: pixelated; border: 1px solid #ddd; }
.legend { font-size: 13px; color: #444; }
`;

/** Sample grids are shown at least this wide (enlarged by a whole factor, nearest). */
const GRID_MIN_WIDTH = 160;

export function renderHtmlReport(r: HtmlReportInputs): string {
  const e = escapeXml;
  const table = reportTable(r.summaries);
  const head = `<tr>${table.headers.map((h) => `<th>${e(h)}</th>`).join("")}</tr>`;
  const rows = table.rows.map((row) => {
    const cells = row.cells.map((c) => `<td class="num">${c.best ? `<b>${e(c.text)}</b>` : e(c.text)}</td>`).join("");
    return `<tr class="variant"><td>${e(row.label)}</td>${cells}<td class="num">${e(row.runs)}</td></tr>`;
  });
  const problems = unfinishedRuns(r.summaries).map((p) => `<li><code>${e(p.label)}</code> ${e(p.text)}</li>`);
  // The chart carries its own title; the label is for screen readers.
  const charts = r.charts.map((c) => `<figure class="chart" aria-label="${e(c.title)}">${c.svg.replace(/^<\?xml[^>]*>\s*/, "")}</figure>`);
  const grids = r.grids.map((g) => {
    const k = Math.max(1, Math.ceil(GRID_MIN_WIDTH / g.raster.width));
    const shown = upscale(g.raster, k);
    return `<figure class="grid"><figcaption>${e(g.label)}</figcaption><img class="grid" alt="samples of ${e(g.label)}" width="${shown.width}" height="${shown.height}" src="${pngDataUri(shown)}"></figure>`;
  });
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<title>${e(r.title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    "<body>",
    `<h1>${e(r.title)}</h1>`,
    `<pre><code>${e(r.command)}</code></pre>`,
    '<table id="results">',
    `<thead>${head}</thead>`,
    `<tbody>${rows.join("\n")}</tbody>`,
    "</table>",
    `<p class="legend">${e(TABLE_LEGEND)}</p>`,
    ...(problems.length ? ["<h2>Runs that did not finish</h2>", `<ul>${problems.join("\n")}</ul>`] : []),
    ...(charts.length ? ["<h2>Charts</h2>", `<div class="charts">${charts.join("\n")}</div>`] : []),
    ...(grids.length ? ["<h2>Samples</h2>", `<div class="grids">${grids.join("\n")}</div>`] : []),
    ...(r.notes.length ? ["<h2>Notes</h2>", `<ul>${r.notes.map((n) => `<li>${e(n)}</li>`).join("\n")}</ul>`] : []),
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
