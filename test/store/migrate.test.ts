import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MigrationError, migrate, migrationChecksum } from "../../src/store/migrate";
import { neonConnect } from "../../src/store/neon";
import type { SqlSession } from "../../src/store/sql-client";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../src/tooling/dev/postgres";

describe("migrate (ledger) against embedded Postgres", () => {
  let pg: EmbeddedPostgres;
  let session: SqlSession;
  let release: () => Promise<void>;
  beforeAll(async () => {
    pg = await startEmbeddedPostgres();
    ({ session, release } = await neonConnect({ databaseUrl: pg.databaseUrl, wsProxyUrl: pg.wsProxyUrl })());
  }, 60_000);
  afterAll(async () => {
    await release();
    await pg.close();
  });

  const m1 = { name: "0001_a.sql", sql: "CREATE TABLE a (id int PRIMARY KEY);" };
  const m2 = { name: "0002_b.sql", sql: "CREATE TABLE b (id int); INSERT INTO b VALUES (1), (2);" };

  it("applies in name order, records name and checksum, and is idempotent", async () => {
    const first = await migrate(session, [m2, m1]);
    expect(first).toEqual({ applied: ["0001_a.sql", "0002_b.sql"], alreadyApplied: [] });
    const ledger = await session.query<{ name: string; checksum: string }>(
      "SELECT name, checksum FROM schema_migrations ORDER BY name",
    );
    expect(ledger.rows).toEqual([
      { name: "0001_a.sql", checksum: await migrationChecksum(m1.sql) },
      { name: "0002_b.sql", checksum: await migrationChecksum(m2.sql) },
    ]);
    expect(await migrate(session, [m1, m2])).toEqual({
      applied: [],
      alreadyApplied: ["0001_a.sql", "0002_b.sql"],
    });
    expect((await session.query("SELECT * FROM b")).rows).toHaveLength(2);
  });

  it("refuses to run when an applied file changed, before applying anything new", async () => {
    const m3 = { name: "0003_c.sql", sql: "CREATE TABLE c (id int);" };
    const edited = { ...m1, sql: `${m1.sql}\nALTER TABLE a ADD COLUMN x int;` };
    await expect(migrate(session, [edited, m2, m3])).rejects.toThrow(MigrationError);
    await expect(migrate(session, [edited, m2, m3])).rejects.toThrow(/0001_a\.sql was changed/);
    const c = await session.query("SELECT to_regclass('public.c') AS t");
    expect(c.rows).toEqual([{ t: null }]);
  });

  it("rolls a failing migration back whole and leaves it unrecorded", async () => {
    const bad = { name: "0004_bad.sql", sql: "CREATE TABLE d (id int); SELECT no_such_function();" };
    await expect(migrate(session, [m1, m2, bad])).rejects.toThrow(/no_such_function/);
    const d = await session.query("SELECT to_regclass('public.d') AS t");
    expect(d.rows).toEqual([{ t: null }]);
    const recorded = await session.query("SELECT 1 FROM schema_migrations WHERE name = '0004_bad.sql'");
    expect(recorded.rows).toHaveLength(0);
  });

  it("rejects badly named or duplicate migration files", async () => {
    await expect(migrate(session, [{ name: "init.sql", sql: "SELECT 1" }])).rejects.toThrow(MigrationError);
    await expect(migrate(session, [m1, { ...m1 }])).rejects.toThrow(/duplicate/);
  });
});
