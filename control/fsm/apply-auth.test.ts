import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dumpTables, putJob, T0 } from "../../test/helpers/builders";
import { tempDir } from "../../test/helpers/tmp";
import { openStateDb, type StateDb } from "../store/db";
import { getToken } from "../store/token-queries";
import { apply, lastApplied } from "./apply";
import type { AuditStamp, Command, TokenCreateCommand } from "./commands";

let dir: ReturnType<typeof tempDir>;
let s: StateDb;
beforeEach(() => {
  dir = tempDir("dkron-apply-auth-");
  s = openStateDb(join(dir.path, "state.db"));
});
afterEach(() => {
  s.close();
  dir.cleanup();
});

const run = (cmd: Command) => apply(s, lastApplied(s) + 1, cmd);

const token = (over: Partial<TokenCreateCommand> = {}): TokenCreateCommand => ({
  type: "token.create",
  at: T0,
  id: "tok_000000000001",
  name: "ci",
  hash: "ab".repeat(32),
  scopes: ["write"],
  prefix: "",
  expiresAt: null,
  createdBy: "admin",
  ...over,
});

const stamp = (over: Partial<AuditStamp> = {}): AuditStamp => ({
  tokenId: "tok_000000000001",
  tokenName: "ci",
  action: "jobs.put",
  target: "j",
  client: "10.0.0.1",
  retainMs: 86_400_000,
  ...over,
});

const auditRows = () =>
  s.sqlite.prepare("select action, target, outcome, token_id from audit order by log_index").all();

describe("apply: tokens and the audit log", () => {
  it("refuses a change stamped with a token revoked before its entry, and records the refusal", () => {
    expect(run(token()).ok).toBe(true);
    expect(run({ ...putJob({ name: "j" }), audit: stamp() }).ok).toBe(true);
    expect(run({ type: "token.revoke", at: T0 + 1, id: "tok_000000000001" }).ok).toBe(true);
    const before = dumpTables(s, ["jobs", "executions", "tokens"]);
    // The node checked the token before it applied the revocation; the log decides.
    const late = run({ ...putJob({ name: "j2" }, T0 + 2), audit: stamp({ target: "j2" }) });
    expect(late).toMatchObject({ ok: false, error: { code: "UNAUTHORIZED" } });
    expect(dumpTables(s, ["jobs", "executions", "tokens"])).toEqual(before);
    expect(auditRows()).toEqual([
      { action: "jobs.put", target: "j", outcome: "ok", token_id: "tok_000000000001" },
      { action: "jobs.put", target: "j2", outcome: "UNAUTHORIZED", token_id: "tok_000000000001" },
    ]);
  });

  it("refuses a change stamped with a token expired at the entry's time", () => {
    run(token({ expiresAt: T0 + 1000 }));
    expect(run({ ...putJob({ name: "a" }, T0 + 999), audit: stamp() }).ok).toBe(true);
    expect(run({ ...putJob({ name: "b" }, T0 + 1000), audit: stamp() })).toMatchObject({
      ok: false,
      error: { code: "UNAUTHORIZED" },
    });
  });

  it("makes the first admin token once, even when a second leader tries, and not again after revocation", () => {
    expect(run(token({ id: "boot000000000001", bootstrap: true })).ok).toBe(true);
    expect(run(token({ id: "boot000000000002", bootstrap: true }))).toMatchObject({
      ok: false,
      error: { code: "CONFLICT" },
    });
    run({ type: "token.revoke", at: T0, id: "boot000000000001" });
    expect(run(token({ id: "boot000000000003", bootstrap: true })).ok).toBe(false);
    expect(getToken(s, "boot000000000002")).toBeUndefined();
    expect(getToken(s, "boot000000000003")).toBeUndefined();
  });

  it("moves last-used times forward only", () => {
    run(token());
    run({ type: "tokens.used", at: T0, uses: [{ id: "tok_000000000001", at: T0 + 50 }] });
    run({
      type: "tokens.used",
      at: T0,
      uses: [
        { id: "tok_000000000001", at: T0 + 10 },
        { id: "gone", at: T0 },
      ],
    });
    expect(getToken(s, "tok_000000000001")?.lastUsedAt).toBe(T0 + 50);
  });

  it("a record is in the same transaction as its change: replaying the entry adds neither twice", () => {
    run(token());
    const index = lastApplied(s) + 1;
    const cmd: Command = { ...putJob({ name: "j" }), audit: stamp() };
    apply(s, index, cmd);
    apply(s, index, cmd);
    expect(auditRows().length).toBe(1);
  });
});
