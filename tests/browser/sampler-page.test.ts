// The sampler page (web/, `npm run demo:web`) in a real browser: Debian's headless Chromium
// through playwright-core, WebGPU on SwiftShader (Chromium's software Vulkan). A tiny run is
// trained, the page is built for it (generated module + esbuild bundle + checkpoint) and served
// on localhost; the test picks a class, images, steps and seed, clicks Sample, waits for the
// progress bar to finish, screenshots the page, and checks the canvas holds the images that
// `unetc sample` writes for the same checkpoint, seed and sampler (the CLI runs on lavapipe, the
// page on SwiftShader: equal up to rounding). Skipped where Chromium or a Node WebGPU adapter is
// missing, unless UNETC_REQUIRE_BROWSER / UNETC_REQUIRE_GPU say they must exist (CI sets both).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { buildSamplerPage } from "../../scripts/sampler-page/build.js";
import { serveFolder } from "../../scripts/sampler-page/serve.js";
import { byteDiff, gridImages, trainTinyRun, unetc } from "../embed/support.js";
import { getGpu } from "../webgpu/gpu-harness.js";

const CHROMIUM = "/usr/bin/chromium";
/** WebGPU on SwiftShader in headless Chromium (also works with --enable-features=Vulkan or --headless=new; none is needed). */
const WEBGPU_ARGS = ["--no-sandbox", "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-unsafe-swiftshader"];
const gpu = await getGpu();
const browserMissing = !existsSync(CHROMIUM) && !process.env.UNETC_REQUIRE_BROWSER;
const skip = browserMissing ? `skipped: no ${CHROMIUM}` : typeof gpu === "string" ? `skipped: ${gpu}` : "";

describe.skipIf(skip !== "")(`the sampler page in headless Chromium with WebGPU ${skip}`, () => {
  const tmp = mkdtempSync(join(tmpdir(), "unetc-sampler-page-"));
  let browser: Browser | undefined;
  let server: Server | undefined;
  afterAll(async () => {
    await browser?.close();
    server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("samples a class into the grid, as `unetc sample` does for the same checkpoint, seed and sampler", { timeout: 120_000 }, async () => {
    const run = trainTinyRun(tmp);
    const site = await buildSamplerPage(run, join(tmp, "site"), { batch: 4 });
    expect(site.bundleBytes).toBeLessThan(400_000);
    const served = await serveFolder(site.dir);
    server = served.server;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: WEBGPU_ARGS });
    const page = await browser.newPage({ viewport: { width: 800, height: 500 } });
    const problems: string[] = [];
    page.on("console", (m) => void (m.type() === "error" && problems.push(`console: ${m.text()}`)));
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
    await page.route("**/*", (route) => (route.request().url().startsWith(served.url) ? route.continue() : (problems.push(`network: ${route.request().url()}`), route.abort())));

    await page.goto(served.url);
    await page.waitForFunction(() => document.body.dataset.state !== "loading", undefined, { timeout: 60_000 });
    expect(await page.textContent("#status")).toBe("ready");
    expect(await page.textContent("#model-info")).toMatch(/^emb_unet: 1×8×8 images, 2 classes, \d+ WGSL kernels per run of 4; checkpoint at step 84, raw weights, cosine schedule$/);
    expect(await page.locator("#sampler option").allTextContents()).toEqual(["ddim", "ddpm"]);

    await page.selectOption("#class", { label: "vertical" });
    await page.fill("#n", "6");
    await page.fill("#steps", "4");
    await page.fill("#seed", "11");
    await page.selectOption("#sampler", "ddim");
    await page.click("#sample");
    await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state ?? ""), undefined, { timeout: 60_000 });
    expect(await page.textContent("#status")).toMatch(/^6 images of vertical in [\d.]+ s \(ddim, 4 steps, seed 11\)$/);
    expect(await page.locator("#progress").evaluate((p) => (p as HTMLProgressElement).value)).toBe(1);
    await page.screenshot({ path: join(tmp, "page.png") });

    // The canvas: one pixel per image pixel, white gaps between images.
    const grid = await page.locator("#grid").evaluate((el) => {
      const c = el as HTMLCanvasElement;
      const d = c.dataset;
      const [count, cols, gap, w, h] = [d.count, d.cols, d.gap, d.imageWidth, d.imageHeight].map(Number);
      const pixels = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      const out: number[] = [];
      for (let n = 0; n < count; n++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) out.push(pixels[((Math.floor(n / cols) * (h + gap) + y) * c.width + (n % cols) * (w + gap) + x) * 4]);
        }
      }
      return { count, cols, width: w, height: h, pixels: out };
    });
    expect([grid.count, grid.cols, grid.width, grid.height]).toEqual([6, 3, 8, 8]);

    const png = join(tmp, "cli.png");
    const s = unetc("sample", run, "--class", "vertical", "--n", "6", "--steps", "4", "--seed", "11", "--sampler", "ddim", "--out", png);
    expect(s.code, s.stderr).toBe(0);
    const cli = gridImages(png, { count: 6, cols: 3, height: 8, width: 8 });
    const diff = byteDiff(grid.pixels, cli);
    expect(diff.max, `max byte difference ${diff.max}, mean ${diff.mean}`).toBeLessThanOrEqual(2);
    expect(diff.mean).toBeLessThan(0.1);
    expect(problems).toEqual([]);
  });
});
