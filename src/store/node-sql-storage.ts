/**
 * Node-only stand-in for Durable Object SQLite (`ctx.storage.sql` + `transactionSync`) over `node:sqlite`,
 * so outbox code runs against real SQLite in Node tests and the bench. Workers never import this.
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { SqlStorageLike, SqlValue } from "./outbox";

/** A file-backed (or `:memory:`) SQLite with the DO storage shape. Reopen the same file to simulate eviction. */
export class NodeSqlStorage implements SqlStorageLike {
  private readonly db: DatabaseSync;

  constructor(path = ":memory:") {
    this.db = new DatabaseSync(path);
  }

  exec<T extends Record<string, SqlValue>>(query: string, ...bindings: unknown[]): { toArray(): T[] } {
    const stmt = this.db.prepare(query);
    const params = bindings.map((b) => (b instanceof ArrayBuffer ? new Uint8Array(b) : b)) as SQLInputValue[];
    if (stmt.columns().length > 0) {
      const rows = stmt.all(...params) as T[];
      return { toArray: () => rows };
    }
    stmt.run(...params);
    return { toArray: () => [] };
  }

  /** Like `ctx.storage.transactionSync`: commits when `fn` returns, rolls back when it throws. */
  transactionSync<T>(fn: () => T): T {
    this.db.exec("BEGIN");
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    }
  }

  close(): void {
    this.db.close();
  }
}
