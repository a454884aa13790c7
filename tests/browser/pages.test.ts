// The pages a person opens in a browser, opened offline in headless Chromium (Debian's, through
// playwright-core; scripts/setup-chromium.sh installs it): the ablation report (its table rows,
// its images decoded, its inline charts) and docs/grammar.html (the railroad diagrams drawn by its
// inlined scripts). Any request that is not file: or data: is aborted, and any console error or
// page error fails the test. Skipped only where /usr/bin/chromium is absent and
// UNETC_REQUIRE_BROWSER is unset (CI sets it, so a missing browser fails there).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFixtureReport } from "../ablate/report-fixture.js";

const CHROMIUM = "/usr/bin/chromium";
const required = Boolean(process.env.UNETC_REQUIRE_BROWSER);
const suite = existsSync(CHROMIUM) || required ? describe : describe.skip;

interface Opened {
  readonly page: Page;
  /** Console errors, page errors and blocked or failed requests. */
  readonly problems: string[];
}

suite("pages in headless Chromium (offline)", () => {
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing and UNETC_REQUIRE_BROWSER is set: run scripts/setup-chromium.sh`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  async function open(path: string): Promise<Opened> {
    const context = await browser.newContext({ offline: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url().slice(0, 120)}`));
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file:") || url.startsWith("data:")) return route.continue();
      problems.push(`network request: ${url}`);
      return route.abort();
    });
    await page.goto(pathToFileURL(resolve(path)).href, { waitUntil: "load" });
    return { page, problems };
  }

  it("renders the ablation report: table rows, decoded grids, inline charts", async () => {
    const { written } = await writeFixtureReport();
    const { page, problems } = await open(written.html);
    expect(await page.locator("#results tbody tr").count()).toBe(3);
    expect(await page.locator("#results tbody tr").first().locator("td").first().textContent()).toBe("attn_chans=0");
    const images = await page.locator("img").evaluateAll((els) => els.map((e) => ({ complete: (e as HTMLImageElement).complete, width: (e as HTMLImageElement).naturalWidth })));
    expect(images).toHaveLength(2);
    for (const im of images) expect(im.complete && im.width > 0).toBe(true);
    const charts = await page.locator("figure.chart svg").evaluateAll((els) => els.map((e) => (e as SVGSVGElement).getBoundingClientRect().width));
    expect(charts).toHaveLength(2);
    for (const w of charts) expect(w).toBeGreaterThan(100);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 30_000);

  it("renders docs/grammar.html: a railroad diagram per rule, drawn by its inlined scripts", async () => {
    const { page, problems } = await open("docs/grammar.html");
    const diagrams = await page.locator("#diagrams svg.railroad-diagram").count();
    expect(diagrams).toBeGreaterThan(10);
    expect(await page.locator("#diagrams").textContent()).toContain("versionDecl");
    expect(problems).toEqual([]);
    await page.context().close();
  }, 30_000);
});
