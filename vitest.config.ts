import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 120_000,
    pool: "forks",
    // kernels as compiled without a tuned tile table (a developer's `unetc tune` stays out of the tests)
    env: { UNETC_TILES: "default" },
  },
});
