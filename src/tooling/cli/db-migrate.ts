/**
 * `npm run db:migrate`: apply `migrations/*.sql` to `DATABASE_URL` through the Neon driver (WebSocket
 * transport). A localhost URL goes through the local WebSocket proxy named by `NEON_WS_PROXY`
 * (e.g. `ws://127.0.0.1:5480/v2`, which `npm run dev` prints).
 */
import { createLogger } from "../../lib/log";
import { MigrationError, migrate } from "../../store/migrate";
import { loadMigrations } from "../../store/migration-files";
import { isLocalDatabaseUrl, neonConnect } from "../../store/neon";

async function main(): Promise<number> {
  const log = createLogger({ cli: "db:migrate" });
  const databaseUrl = process.env.DATABASE_URL?.trim();
  if (!databaseUrl) {
    log.error("DATABASE_URL is not set; nothing to migrate");
    return 2;
  }
  const wsProxyUrl = process.env.NEON_WS_PROXY?.trim() || undefined;
  if (isLocalDatabaseUrl(databaseUrl) && wsProxyUrl === undefined) {
    log.error(
      "DATABASE_URL points at this machine: set NEON_WS_PROXY to the local WebSocket proxy (npm run dev prints it)",
    );
    return 2;
  }
  const migrations = await loadMigrations();
  const { session, release } = await neonConnect({ databaseUrl, wsProxyUrl, queryTimeoutMs: 120_000 })();
  try {
    const result = await migrate(session, migrations);
    log.info("migrations up to date", {
      applied: result.applied,
      alreadyApplied: result.alreadyApplied.length,
    });
    return 0;
  } catch (err) {
    log.error(err instanceof MigrationError ? "migration refused" : "migration failed", {
      error: err instanceof Error ? err.message : String(err),
    });
    return 1;
  } finally {
    await release();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
