import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dumpTables, T0 } from "../../test/helpers/builders";
import { tempDir } from "../../test/helpers/tmp";
import { verifyRunnerCredential } from "../auth/runner-credential";
import { hashSecret } from "../auth/token-secret";
import { openStateDb, type StateDb } from "../store/db";
import { getJoinToken, getRunner } from "../store/runner-queries";
import { apply, lastApplied } from "./apply";
import type { Command, JoinTokenCreateCommand, RunnerJoinCommand } from "./commands";

let dir: ReturnType<typeof tempDir>;
let s: StateDb;
beforeEach(() => {
  dir = tempDir("dkron-apply-runners-");
  s = openStateDb(join(dir.path, "state.db"));
});
afterEach(() => {
  s.close();
  dir.cleanup();
});

const run = (cmd: Command) => apply(s, lastApplied(s) + 1, cmd);
const SECRET = "s".repeat(32);
const CRED = "c".repeat(32);

const token = (over: Partial<JoinTokenCreateCommand> = {}): JoinTokenCreateCommand => ({
  type: "runner-token.create",
  at: T0,
  id: "jt00000000000001",
  hash: hashSecret(SECRET),
  tags: { pool: "gpu" },
  singleUse: false,
  expiresAt: T0 + 60_000,
  createdBy: "admin",
  ...over,
});

const joinCmd = (over: Partial<RunnerJoinCommand> = {}): RunnerJoinCommand => ({
  type: "runner.join",
  at: T0 + 1000,
  name: "r1",
  tokenId: "jt00000000000001",
  tokenHash: hashSecret(SECRET),
  credentialId: "cr00000000000001",
  credentialHash: hashSecret(CRED),
  ...over,
});

describe("runner.join", () => {
  it("registers the runner with the token's tags and a credential that verifies", () => {
    run(token());
    expect(run(joinCmd())).toMatchObject({ ok: true, value: { tags: { pool: "gpu" } } });
    expect(getRunner(s, "r1")).toMatchObject({ tags: '{"pool":"gpu"}', joinToken: "jt00000000000001" });
    expect(verifyRunnerCredential(s, `drc.cr00000000000001.${CRED}`)).toEqual({
      name: "r1",
      tags: { pool: "gpu" },
    });
    expect(verifyRunnerCredential(s, `drc.cr00000000000001.${"x".repeat(32)}`)).toBeUndefined();
    expect(getJoinToken(s, "jt00000000000001")).toMatchObject({ uses: 1, usedBy: "r1" });
  });

  it("a single-use token registers one runner: the second join is refused and changes nothing", () => {
    run(token({ singleUse: true }));
    expect(run(joinCmd()).ok).toBe(true);
    const before = dumpTables(s, ["runners", "runner_join_tokens"]);
    const second = run(joinCmd({ name: "r2", credentialId: "cr00000000000002" }));
    expect(second).toMatchObject({ ok: false, error: { code: "UNAUTHORIZED" } });
    expect(second.ok ? "" : second.error.message).toMatch(/single-use and is already used \(by r1\)/);
    expect(getRunner(s, "r2")).toBeUndefined();
    expect(dumpTables(s, ["runners", "runner_join_tokens"])).toEqual(before);
  });

  it("refuses a wrong secret, an expired token, a revoked token and a taken name", () => {
    run(token());
    expect(run(joinCmd({ tokenHash: hashSecret("x".repeat(32)) }))).toMatchObject({
      ok: false,
      error: { code: "UNAUTHORIZED" },
    });
    expect(run(joinCmd({ at: T0 + 60_000 }))).toMatchObject({ ok: false, error: { message: /expired/ } });
    expect(run(joinCmd()).ok).toBe(true);
    expect(run(joinCmd({ credentialId: "cr00000000000009" }))).toMatchObject({
      ok: false,
      error: { code: "CONFLICT", details: { field: "name" } },
    });
    run({ type: "runner-token.revoke", at: T0 + 2000, id: "jt00000000000001" });
    expect(run(joinCmd({ name: "r3", credentialId: "cr00000000000003" }))).toMatchObject({
      ok: false,
      error: { message: /not recognised/ },
    });
  });

  it("runner.revoke deletes the credential and tells the hub to cut the stream", () => {
    run(token());
    run(joinCmd());
    expect(run({ type: "runner.revoke", at: T0 + 2000, name: "r1" })).toMatchObject({
      ok: true,
      events: [{ kind: "runner.revoked", name: "r1" }],
    });
    expect(verifyRunnerCredential(s, `drc.cr00000000000001.${CRED}`)).toBeUndefined();
    expect(run({ type: "runner.revoke", at: T0 + 3000, name: "r1" })).toMatchObject({
      ok: false,
      error: { code: "NOT_FOUND" },
    });
  });
});
