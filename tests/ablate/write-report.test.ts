// The ablation's report files from writeReport: markdown, JSON, the self-contained HTML page, the
// eval-loss and FID charts (PNG with SVG beside) and the samples montage; the same inputs give the
// same bytes. tests/browser opens the HTML page in Chromium.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { writeFixtureReport } from "./report-fixture.js";

const FILES = ["ablation.md", "ablation.json", "ablation.html", "eval-loss.png", "eval-loss.svg", "fid.png", "fid.svg", "samples.png"];

describe("writeReport", () => {
  it("writes every file, the page with nothing to fetch", async () => {
    const { root, written } = await writeFixtureReport();
    for (const f of FILES) expect(existsSync(join(root, f)), f).toBe(true);
    expect(written).toEqual({ lossChart: true, fidChart: true, montage: true, html: join(root, "ablation.html") });
    const html = readFileSync(written.html, "utf8");
    expect(html).not.toMatch(/(src|href)=["']https?:/); // offline: no remote script, style or image
    expect(html.match(/<tr class="variant">/g)).toHaveLength(3);
    expect(html.match(/<img class="grid"[^>]* src="data:image\/png;base64,/g)).toHaveLength(2); // the invalid variant has no grid
    expect(html.match(/<svg /g)).toHaveLength(2); // both charts inline
    expect(html).toContain("attn_chans=3</code> invalid: error[E0301]");
    for (const svg of ["eval-loss.svg", "fid.svg"]) {
      const text = readFileSync(join(root, svg), "utf8");
      for (const label of ["attn_chans=0", "attn_chans=8"]) expect(text, svg).toContain(label);
    }
    const chart = PNG.sync.read(readFileSync(join(root, "eval-loss.png")));
    expect(chart.width).toBeGreaterThan(200);
    expect(chart.height).toBeGreaterThan(200);
  });

  it("gives the same bytes for the same runs", async () => {
    const a = await writeFixtureReport();
    const b = await writeFixtureReport();
    for (const f of FILES) expect(readFileSync(join(a.root, f)).equals(readFileSync(join(b.root, f))), f).toBe(true);
  });
});
