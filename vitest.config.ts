import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/**/*.worker.test.ts", "node_modules/**"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // emulatorEnv carries LOCAL_STAND_INS=true (src/tooling/emulators/stack.ts): the tests choose stand-ins.
              bindings: { ...inject("emulatorEnv"), BUILD_VERSION: "test", LOG_LEVEL: "warn" },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/**/*.worker.test.ts"],
          globalSetup: ["test/setup/workers-global.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
