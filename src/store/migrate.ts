/**
 * Schema migrations: plain SQL files applied in name order, each in its own transaction, recorded in a
 * `schema_migrations` ledger with a checksum. Idempotent; refuses to run when an applied file changed.
 * Runtime-neutral (WebCrypto only): the CLI, the dev stack and tests all call `migrate`.
 */
import type { SqlSession } from "./sql-client";
import { inTransaction } from "./sql-client";

/** One migration file: `name` is the file name (e.g. `0001_init.sql`), `sql` its text. */
export interface Migration {
  name: string;
  sql: string;
}

/** What a run did. */
export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

/** Raised when the ledger and the files disagree in a way that must not be papered over. */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name        text PRIMARY KEY,
  checksum    text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
)`;

// Arbitrary constant: serialises concurrent migrators (two deploys racing) on one advisory lock.
const MIGRATION_LOCK_KEY = 727_001;

/** Hex SHA-256 of the migration text, as stored in the ledger. */
export async function migrationChecksum(sql: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sql));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Sort by name and reject duplicate or badly named files up front. */
export function orderMigrations(migrations: readonly Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 0; i < sorted.length; i++) {
    const m = sorted[i];
    if (m === undefined) continue;
    if (!/^\d{4}_[a-z0-9_]+\.sql$/.test(m.name)) {
      throw new MigrationError(`migration file name must look like 0001_name.sql: ${m.name}`);
    }
    if (i > 0 && sorted[i - 1]?.name === m.name) throw new MigrationError(`duplicate migration: ${m.name}`);
  }
  return sorted;
}

interface LedgerRow {
  name: string;
  checksum: string;
}

/**
 * Apply every migration not yet in the ledger, in name order, one transaction each.
 * Throws `MigrationError` before applying anything if an applied file's checksum changed.
 */
export async function migrate(session: SqlSession, migrations: readonly Migration[]): Promise<MigrateResult> {
  const ordered = orderMigrations(migrations);
  const checksums = new Map<string, string>();
  for (const m of ordered) checksums.set(m.name, await migrationChecksum(m.sql));

  await session.query(LEDGER_DDL);
  const ledger = await session.query<LedgerRow>("SELECT name, checksum FROM schema_migrations");
  const appliedSums = new Map(ledger.rows.map((r) => [r.name, r.checksum]));
  for (const [name, sum] of appliedSums) {
    const current = checksums.get(name);
    if (current !== undefined && current !== sum) {
      throw new MigrationError(
        `migration ${name} was changed after it was applied (ledger ${sum.slice(0, 12)}, file ${current.slice(0, 12)}); add a new migration instead`,
      );
    }
  }

  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  for (const m of ordered) {
    const sum = checksums.get(m.name) ?? (await migrationChecksum(m.sql));
    const didApply = await inTransaction(session, async () => {
      await session.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
      // Re-read under the lock: another migrator may have applied it since the first read.
      const row = await session.query<LedgerRow>(
        "SELECT name, checksum FROM schema_migrations WHERE name = $1",
        [m.name],
      );
      const existing = row.rows[0];
      if (existing !== undefined) {
        if (existing.checksum !== sum)
          throw new MigrationError(`migration ${m.name} checksum changed concurrently`);
        return false;
      }
      await session.query(m.sql);
      await session.query("INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", [m.name, sum]);
      return true;
    });
    (didApply ? result.applied : result.alreadyApplied).push(m.name);
  }
  return result;
}
