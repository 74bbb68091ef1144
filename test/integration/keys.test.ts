/**
 * /v1/keys and `dkron keys` against a real control node process (tokens checked, gossip encrypted
 * with --encrypt A on a loopback UDP port): the keyring with its holders, Serf's refusals as 4xx
 * naming the field and the reason, admin-only access, the CLI's help and one-line mistakes, and a
 * restart with the stale --encrypt A that keeps the replicated keyring.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { keysCommand } from "../../control/keys-cli";
import { generateGossipKey, keyFingerprint } from "../../runner/gossip";
import type { KeyringListJson } from "../../shared/gossip-keyring";
import { type AgentProcess, adminTokenOf, startAgent, waitFor } from "../helpers/agent-process";
import { freePorts } from "../helpers/cluster";
import { tempDir } from "../helpers/tmp";

const DKRON = fileURLToPath(new URL("../../control/bin/dkron.mjs", import.meta.url));
const run = promisify(execFile);
const dir = tempDir("dkron-keys-");
const agents: AgentProcess[] = [];

afterAll(async () => {
  for (const a of agents) await a.kill();
  dir.cleanup();
});

type ErrorBody = { error: { code: string; message: string; field?: string } };

const [A, B, C] = [generateGossipKey(), generateGossipKey(), generateGossipKey()];

async function node(gossipPort: number, keys: string[]): Promise<AgentProcess> {
  const a = await startAgent([
    "--bootstrap-expect",
    "1",
    "--node-name",
    "n1",
    "--data-dir",
    dir.path,
    "--gossip-bind",
    `127.0.0.1:${gossipPort}`,
    ...keys.flatMap((k) => ["--encrypt", k]),
    "--log-level",
    "warn",
  ]);
  agents.push(a);
  return a;
}

function call(url: string, token: string, method: string, body?: unknown): Promise<Response> {
  return fetch(`${url}/v1/keys`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function ring(url: string, token: string): Promise<KeyringListJson> {
  const r = await call(url, token, "GET");
  expect(r.status, await r.clone().text()).toBe(200);
  expect(r.headers.get("cache-control")).toBe("no-store");
  return (await r.json()) as KeyringListJson;
}

/** The keyring once this node's own member advertises exactly `keys` (primary first). */
function settledRing(url: string, token: string, keys: string[]): Promise<KeyringListJson> {
  return waitFor(`keyring ${keys.map(keyFingerprint).join(",")} held by the node`, async () => {
    const l = await ring(url, token);
    const held = l.keys.map((k) => k.key).join() === keys.join() && l.keys.every((k) => k.members === 1);
    return held && l.keys[0]!.encrypting === 1 ? l : undefined;
  });
}

async function refused(r: Response, status: number, code: string): Promise<ErrorBody["error"]> {
  const body = (await r.json()) as ErrorBody;
  expect(r.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  return body.error;
}

/** `dkron keys …` as a user runs it: exit code, stdout, stderr. */
async function dkronKeys(args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [DKRON, "keys", ...args]);
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

describe("/v1/keys and dkron keys (a real control node)", () => {
  it("lists, installs, uses and removes keys; refuses bad input naming why; admin only; survives a restart", async () => {
    const [gossipPort] = await freePorts(1);
    let n = await node(gossipPort!, [A]);
    const admin = await adminTokenOf(dir.path);

    // Before any operation: the --encrypt key, primary, held by the node itself.
    const first = await settledRing(n.url, admin, [A]);
    expect(first).toMatchObject({ encrypted: true, source: "flags", total: 1 });
    expect(first.keys).toEqual([
      { key: A, fingerprint: keyFingerprint(A), primary: true, members: 1, encrypting: 1, missing: [] },
    ]);

    // A token without admin scope may not see or change keys; without a token, 401.
    const minted = await fetch(`${n.url}/v1/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
      body: JSON.stringify({ name: "ops", scopes: ["read", "write", "run"] }),
    });
    expect(minted.status).toBe(201);
    const ops = ((await minted.json()) as { token: string }).token;
    for (const [method, body] of [
      ["GET"],
      ["POST", { key: B }],
      ["PUT", { key: A }],
      ["DELETE", { key: A }],
    ] as const)
      expect((await refused(await call(n.url, ops, method, body), 403, "FORBIDDEN")).message).toMatch(
        /admin/,
      );
    await refused(await call(n.url, "", "GET"), 401, "UNAUTHORIZED");

    // Malformed keys and bodies: 400 naming the field; nothing changes.
    for (const body of [{ key: "short" }, { key: `${A.slice(0, 43)}x` }, {}, { key: B, extra: 1 }]) {
      const e = await refused(await call(n.url, admin, "POST", body), 400, "VALIDATION");
      if (!("extra" in body)) {
        expect(e.field).toBe("key");
        expect(e.message).toMatch(/key: /);
      }
    }
    const notJson = await fetch(`${n.url}/v1/keys`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
      body: "{",
    });
    await refused(notJson, 400, "BAD_REQUEST");
    expect(
      (await refused(await call(n.url, admin, "POST", { key: "short" }), 400, "VALIDATION")).message,
    ).toMatch(/32 bytes in base64/);

    // Serf's rules: use needs an installed key, the primary cannot be removed.
    const notInstalled = await refused(await call(n.url, admin, "PUT", { key: C }), 404, "NOT_FOUND");
    expect(notInstalled).toMatchObject({ field: "key" });
    expect(notInstalled.message).toMatch(/not installed.*install/);
    const primary = await refused(await call(n.url, admin, "DELETE", { key: A }), 409, "CONFLICT");
    expect(primary.message).toMatch(/primary key cannot be removed/);
    await refused(await call(n.url, admin, "DELETE", { key: C }), 404, "NOT_FOUND");
    expect((await ring(n.url, admin)).keys.map((k) => k.key)).toEqual([A]);

    // Install B: both listed, A still primary, the node holds both and still encrypts with A.
    const installed = await call(n.url, admin, "POST", { key: B });
    expect(installed.status).toBe(200);
    expect(((await installed.json()) as KeyringListJson).source).toBe("raft");
    const both = await settledRing(n.url, admin, [A, B]);
    expect(both.keys.map((k) => [k.primary, k.encrypting])).toEqual([
      [true, 1],
      [false, 0],
    ]);
    // Installing it again changes nothing.
    expect((await call(n.url, admin, "POST", { key: B })).status).toBe(200);

    // The CLI as a user runs it (processes): help, and one line plus exit 1 on a mistake.
    const addr = n.url.replace("http://", "");
    const target = ["--http-addr", addr, "--token", admin];
    const mistakes = [
      [["install", "BAD", ...target], /^dkron: KEY: a gossip encryption key is 32 bytes/],
    ] as const;
    const [help, ...answers] = await Promise.all([
      dkronKeys(["--help"]),
      ...mistakes.map(([args]) => dkronKeys([...args])),
    ]);
    expect(help!.code).toBe(0);
    expect(help!.out).toMatch(/^Usage: dkron keys <list\|install\|use\|remove>/);
    mistakes.forEach(([, re], i) => {
      const r = answers[i]!;
      expect(r.code, r.err).toBe(1);
      expect(r.err.trim().split("\n"), r.err).toHaveLength(1);
      expect(r.err).toMatch(re);
    });
    // The rest of the rotation through the same command in-process (a process each costs seconds).
    const cli = async (args: string[]) => {
      let out = "";
      await keysCommand([...args, ...target], {}, (t) => {
        out += t;
      });
      return out;
    };
    await expect(cli(["install"])).rejects.toThrow(/keys install needs exactly one KEY/);
    await expect(cli(["rotate"])).rejects.toThrow(/unknown keys command "rotate"/);
    await expect(cli(["use", C])).rejects.toThrow(/^that key is not installed/);
    await expect(keysCommand(["list", "--http-addr", addr, "--token", ops], {}, () => {})).rejects.toThrow(
      /admin/,
    );
    const used = await cli(["use", B]);
    expect(used).toContain(`now primary: key ${keyFingerprint(B)}`);
    expect(used).not.toContain(`now primary: key ${B}`);
    await settledRing(n.url, admin, [B, A]);
    await cli(["remove", A]);
    await settledRing(n.url, admin, [B]);
    expect(await cli(["list"])).toMatch(
      new RegExp(`^${B.replace(/[+/]/g, "\\$&")}\\s+${keyFingerprint(B)}\\s+yes\\s+1/1\\s+1/1\\s+-$`, "m"),
    );

    // A restart with the stale --encrypt A keeps the replicated keyring: it gossips with B only.
    await n.kill();
    n = await node(gossipPort!, [A]);
    const after = await settledRing(n.url, admin, [B]);
    expect(after.source).toBe("raft");
  }, 60_000);
});
