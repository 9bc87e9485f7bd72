/** The narrow SQL-client shape the store code needs, so it runs over the Neon driver, node-postgres or a test double. */

/** A result row set, as returned by node-postgres compatible clients (Neon's `Client`/`Pool`). */
export interface SqlResult<Row> {
  rows: Row[];
  rowCount: number | null;
}

/** One Postgres session: queries run in order on the same connection (needed for transactions). */
export interface SqlSession {
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<Row>>;
}

/** Opens a session and hands back a way to give it up; built per request (Workers forbid sharing sockets). */
export type SqlConnect = () => Promise<{ session: SqlSession; release: () => Promise<void> }>;

/** Run `fn` inside BEGIN/COMMIT, rolling back on any error (the error is rethrown). */
export async function inTransaction<T>(session: SqlSession, fn: () => Promise<T>): Promise<T> {
  await session.query("BEGIN");
  try {
    const result = await fn();
    await session.query("COMMIT");
    return result;
  } catch (err) {
    // The connection may already be gone; the original error is the one worth reporting.
    await session.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
