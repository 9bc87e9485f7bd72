/**
 * Global setup for the workerd test project: starts every emulator in Node, and hands their URLs
 * and the speech fixtures to the tests (`inject`) and to the Worker's bindings.
 */
import { readFile } from "node:fs/promises";
import type { TestProject } from "vitest/node";
import { migrate } from "../../src/store/migrate";
import { loadMigrations } from "../../src/store/migration-files";
import { neonConnect } from "../../src/store/neon";
import { startEmbeddedPostgres } from "../../src/tooling/dev/postgres";
import { startEmulatorStack } from "../../src/tooling/emulators/stack";

declare module "vitest" {
  export interface ProvidedContext {
    emulatorEnv: Record<string, string>;
    emulatorUrls: Record<string, string>;
    speechFixtures: Record<string, string>;
  }
}

export default async function setup(project: TestProject) {
  const [stack, pg] = await Promise.all([
    startEmulatorStack({
      // The app under test is SELF at https://agent.example, which Node cannot reach: the tests and the
      // replay suite post Twilio's status and AMD callbacks themselves (replay: at Twilio-like delays).
      twilioLifecycle: { mode: "manual" },
    }),
    startEmbeddedPostgres({}),
  ]);
  const { session, release } = await neonConnect({
    databaseUrl: pg.databaseUrl,
    wsProxyUrl: pg.wsProxyUrl,
  })();
  await migrate(session, await loadMigrations());
  await release();
  const fixtures: Record<string, string> = {};
  for (const name of [
    "book-tuesday",
    "not-interested",
    "call-back",
    "bc-mm-hm",
    "bc-yeah",
    "bc-okay",
    "replay/vm-beep",
  ]) {
    const bytes = await readFile(new URL(`../fixtures/audio/${name}.ulaw`, import.meta.url));
    fixtures[name] = bytes.toString("base64");
  }
  project.provide("emulatorEnv", {
    ...stack.env,
    DATABASE_URL: pg.databaseUrl,
    NEON_WS_PROXY: pg.wsProxyUrl,
  });
  project.provide("emulatorUrls", stack.urls);
  project.provide("speechFixtures", fixtures);
  return async () => {
    await stack.close();
    await pg.close();
  };
}
