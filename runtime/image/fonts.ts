// The one font every figure uses: DejaVu Sans, shipped as an npm package (dejavu-fonts-ttf) and
// given to resvg by path with system fonts off, so a PNG has the same bytes on every machine.
import { createRequire } from "node:module";

export const FONT_FAMILY = "DejaVu Sans";

const require = createRequire(import.meta.url);

/** Regular and bold DejaVu Sans, resolved from node_modules. */
export const FONT_FILES: readonly string[] = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) => require.resolve(`dejavu-fonts-ttf/ttf/${f}`));
