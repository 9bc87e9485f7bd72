// Shared fixture: embedded Postgres with the repository migrations applied, reached through the Neon driver.

import type { LogFields, Logger, LogLevel } from "../../src/lib/log";
import { createLogger } from "../../src/lib/log";
import { migrate } from "../../src/store/migrate";
import { loadMigrations } from "../../src/store/migration-files";
import { neonConnect } from "../../src/store/neon";
import type { SqlConnect, SqlSession } from "../../src/store/sql-client";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../src/tooling/dev/postgres";

export interface PgFixture {
  pg: EmbeddedPostgres;
  connect: SqlConnect;
  /** Run one query on a fresh session. */
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
}

export async function startMigratedPostgres(): Promise<PgFixture> {
  const pg = await startEmbeddedPostgres();
  const connect = neonConnect({ databaseUrl: pg.databaseUrl, wsProxyUrl: pg.wsProxyUrl });
  const withSession = async <T>(fn: (s: SqlSession) => Promise<T>): Promise<T> => {
    const { session, release } = await connect();
    try {
      return await fn(session);
    } finally {
      await release();
    }
  };
  const migrations = await loadMigrations();
  await withSession((s) => migrate(s, migrations));
  return {
    pg,
    connect,
    query: <Row>(text: string, params?: unknown[]) =>
      withSession(async (s) => (await s.query<Row>(text, params)).rows),
  };
}

/** A logger that records every line, for asserting on warnings. */
export function recordingLogger(): {
  log: Logger;
  lines: Array<{ level: LogLevel; msg: string; fields: LogFields }>;
} {
  const lines: Array<{ level: LogLevel; msg: string; fields: LogFields }> = [];
  return {
    log: createLogger({}, "debug", (level, msg, fields) => lines.push({ level, msg, fields })),
    lines,
  };
}
