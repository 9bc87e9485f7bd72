import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../../src/store/migrate";
import { loadMigrations } from "../../../src/store/migration-files";
import { neonConfigForLocal, neonConnect } from "../../../src/store/neon";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../../src/tooling/dev/postgres";

describe("embedded Postgres through the Neon driver", () => {
  let pg: EmbeddedPostgres;
  beforeAll(async () => {
    pg = await startEmbeddedPostgres();
    neonConfigForLocal(pg.wsProxyUrl);
  });
  afterAll(async () => {
    await pg.close();
  });

  it("runs a real query with a Neon Pool over the WebSocket proxy", async () => {
    const pool = new Pool({ connectionString: pg.databaseUrl, max: 3 });
    try {
      const r = await pool.query<{ n: number; v: string }>("SELECT $1::int + 1 AS n, version() AS v", [41]);
      expect(r.rows[0]?.n).toBe(42);
      expect(r.rows[0]?.v).toMatch(/^PostgreSQL/);
    } finally {
      await pool.end();
    }
  });

  it("keeps concurrent clients' queries and transactions apart", async () => {
    const pool = new Pool({ connectionString: pg.databaseUrl, max: 5 });
    try {
      await pool.query("CREATE TABLE IF NOT EXISTS proxy_iso (a int)");
      const tx = await pool.connect();
      await tx.query("BEGIN");
      await tx.query("INSERT INTO proxy_iso VALUES (1)");
      // Another client's query waits for the transaction instead of running inside it.
      const other = pool.query<{ n: string }>("SELECT count(*) AS n FROM proxy_iso");
      await new Promise((r) => setTimeout(r, 50));
      await tx.query("ROLLBACK");
      tx.release();
      expect((await other).rows[0]?.n).toBe("0");
      const many = await Promise.all(
        Array.from({ length: 25 }, (_, i) => pool.query<{ n: number }>("SELECT $1::int * 2 AS n", [i])),
      );
      expect(many.map((r) => r.rows[0]?.n)).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
    } finally {
      await pool.end();
    }
  });

  it("applies the repository migrations through the driver, idempotently", async () => {
    const migrations = await loadMigrations();
    const connect = neonConnect({ databaseUrl: pg.databaseUrl, wsProxyUrl: pg.wsProxyUrl });
    const { session, release } = await connect();
    try {
      const first = await migrate(session, migrations);
      expect(first.applied).toContain("0001_init.sql");
      const second = await migrate(session, migrations);
      expect(second.applied).toEqual([]);
      expect(second.alreadyApplied).toEqual(migrations.map((m) => m.name));
      const tables = await session.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining([
          "bookings",
          "call_events",
          "calls",
          "consents",
          "leads",
          "suppressions",
          "turns",
        ]),
      );
    } finally {
      await release();
    }
  });

  it("keeps data in a persistent dataDir across restarts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pglite-"));
    try {
      for (const step of ["write", "read"] as const) {
        const local = await startEmbeddedPostgres({ dataDir: join(dir, "db") });
        const { session, release } = await neonConnect({
          databaseUrl: local.databaseUrl,
          wsProxyUrl: local.wsProxyUrl,
        })();
        try {
          if (step === "write") {
            await session.query("CREATE TABLE kept (v text)");
            await session.query("INSERT INTO kept VALUES ('still here')");
          } else {
            expect((await session.query("SELECT v FROM kept")).rows).toEqual([{ v: "still here" }]);
          }
        } finally {
          await release();
          await local.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
