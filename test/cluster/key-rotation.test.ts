/**
 * Gossip key rotation across real processes: three control nodes started with `--encrypt A` and two
 * real `dkron-runner join --encrypt A` processes, one gossip pool over real UDP on loopback. Through
 * the API: `keys install B`, `keys use B`, `keys remove A`, each step waiting (as docs/gossip.md tells
 * an operator to) for `GET /v1/keys` to show the step reached every member. Checked:
 * - every member stays alive in every node's /v1/members throughout (polled during the rotation);
 * - each runner's keyring.json ends as [B], mode 0600, and GET /v1/keys shows B held and used by all 5;
 * - after the removal, a raw gossip member that knows only A never gets into the pool, while one that
 *   knows B, started beside it through the same seed, does (the bound on how long "never" waited);
 * - a runner that was not there for the rotation (`join --encrypt A`, no saved keyring) is re-keyed
 *   by its leader's keyring frame and joins the pool with B.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { generateGossipKey, KEYRING_FILE, keyFingerprint } from "../../runner/gossip";
import type { KeyringListJson } from "../../shared/gossip-keyring";
import type { Member } from "../../shared/member";
import { waitFor } from "../helpers/agent-process";
import { type ClusterNode, getJson, startGossipCluster, type TestCluster } from "../helpers/cluster";
import { type RealRunner, RunnerProcs } from "../helpers/real-runner";
import { tempDir } from "../helpers/tmp";

const MEMBER = fileURLToPath(new URL("../integration/gossip/member-process.ts", import.meta.url));
const [A, B] = [generateGossipKey(), generateGossipKey()];
const dir = tempDir("dkron-key-rotation-");
let cluster: TestCluster | undefined;
const runners = new RunnerProcs();
const raw: ChildProcess[] = [];

afterAll(async () => {
  runners.killAll();
  for (const p of raw)
    try {
      process.kill(-(p.pid as number), "SIGKILL");
    } catch {
      // Already gone.
    }
  await cluster?.stop();
  dir.cleanup();
});

/** `dkron-runner join --encrypt A`, gossip on a free loopback port; resolves once connected. */
function joinRunner(url: string, name: string): Promise<RealRunner> {
  return runners.join(url, name, join(dir.path, name), { extra: ["--encrypt", A], timeoutMs: 30_000 });
}

/** A bare gossip member process (test/integration/gossip/member-process.ts) with one key. */
function rawMember(name: string, seed: string, key: string): void {
  const p = spawn(process.execPath, ["--import", "tsx", MEMBER, name, seed, key], {
    stdio: "ignore",
    detached: true,
  });
  raw.push(p);
}

const members = (n: ClusterNode) => getJson<Member[]>(`${n.url}/v1/members`, 5000);

async function keys(url: string): Promise<KeyringListJson | undefined> {
  return getJson<KeyringListJson>(`${url}/v1/keys`, 5000);
}

async function keyOp(url: string, method: "POST" | "PUT" | "DELETE", key: string): Promise<void> {
  const r = await fetch(`${url}/v1/keys`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key }),
  });
  expect(r.status, await r.text()).toBe(200);
}

/** Waits for GET /v1/keys on `url` to list exactly `want` (primary first), each as `held` says. */
function keyringReaches(
  url: string,
  want: string[],
  held: (k: KeyringListJson["keys"][number], total: number) => boolean,
  what: string,
): Promise<KeyringListJson> {
  return waitFor(
    what,
    async () => {
      const l = await keys(url);
      if (l?.total !== 5 || l.keys.map((k) => k.key).join() !== want.join()) return undefined;
      return l.keys.every((k) => held(k, l.total)) ? l : undefined;
    },
    20_000,
  );
}

describe("gossip key rotation (real processes)", () => {
  it("install → use → remove keeps every member alive; runners follow and save keyring.json; A is shut out", async () => {
    cluster = await startGossipCluster(dir.path, ["--encrypt", A]);
    const c = cluster;
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n !== leader)!;
    await joinRunner(follower.url, "r1");
    await joinRunner(leader.url, "r2");
    const five = ["n1", "n2", "n3", "r1", "r2"];

    // The pool before: five members alive in every node's view, all holding A only.
    await waitFor(
      "five alive members in every node's view",
      async () => {
        for (const n of c.nodes) {
          const ms = await members(n);
          const alive = five.every((name) => ms?.find((m) => m.Name === name)?.statusText === "alive");
          if (!alive || ms?.length !== 5) return undefined;
        }
        return true;
      },
      30_000,
    );
    const before = await keyringReaches(leader.url, [A], (k, t) => k.members === t, "A on all five");
    expect(before.source).toBe("flags");

    // Poll every node's view through the whole rotation: nobody may drop out of alive.
    const lapses: string[] = [];
    let polls = 0;
    let suspectSightings = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        for (const n of c.nodes) {
          const ms = await members(n);
          if (!ms) continue; // A node slow to answer says nothing about gossip.
          for (const name of five) {
            const m = ms.find((x) => x.Name === name);
            if (m?.statusText !== "alive")
              lapses.push(`${n.name} sees ${name} ${m?.statusText ?? "missing"}`);
            if (m?.Tags.gossip === "suspect") suspectSightings++;
          }
        }
        polls++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    // install B: every member holds it before anyone encrypts with it.
    await keyOp(follower.url, "POST", B);
    await keyringReaches(
      leader.url,
      [A, B],
      (k, t) => k.members === t && k.encrypting === (k.key === A ? t : 0),
      "B installed on all five",
    );
    // use B: every member encrypts with B before A goes.
    await keyOp(leader.url, "PUT", B);
    await keyringReaches(
      leader.url,
      [B, A],
      (k, t) => k.members === t && k.encrypting === (k.key === B ? t : 0),
      "B primary on all five",
    );
    // remove A.
    await keyOp(follower.url, "DELETE", A);
    const after = await keyringReaches(
      follower.url,
      [B],
      (k, t) => k.members === t && k.encrypting === t && k.missing.length === 0,
      "only B, on all five",
    );
    expect(after).toMatchObject({ encrypted: true, source: "raft", total: 5 });
    expect(after.keys[0]).toMatchObject({ fingerprint: keyFingerprint(B), primary: true });
    // Every node answers the same keyring.
    for (const n of c.nodes) expect((await keys(n.url))?.keys.map((k) => k.key)).toEqual([B]);

    // Each runner saved the keyring its leader sent, readable by its owner only.
    for (const r of ["r1", "r2"]) {
      const file = join(dir.path, r, KEYRING_FILE);
      await waitFor(`${r}'s ${KEYRING_FILE} is [B]`, async () =>
        JSON.parse(readFileSync(file, "utf8")).join() === B ? true : undefined,
      );
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }

    // After the removal: a member that knows only A never gets in; one that knows B, started beside
    // it through the same seed, does, and bounds how long "never" was watched.
    const seed = `127.0.0.1:${c.nodes[2]!.gossipPort}`;
    rawMember("only-a", seed, A);
    rawMember("knows-b", seed, B);
    let onlyASeen = "";
    let sightings = 0;
    await waitFor(
      "knows-b alive in every node's view (three times over)",
      async () => {
        let everywhere = true;
        for (const n of c.nodes) {
          const ms = (await members(n)) ?? [];
          const a = ms.find((m) => m.Name === "only-a");
          if (a) onlyASeen ||= `${n.name} sees only-a ${a.statusText}`;
          if (ms.find((m) => m.Name === "knows-b")?.statusText !== "alive") everywhere = false;
        }
        if (everywhere) sightings++;
        return sightings >= 3 ? true : undefined;
      },
      30_000,
    );
    expect(onlyASeen).toBe("");

    // A runner that missed the rotation (--encrypt A, nothing saved) is re-keyed over its stream.
    await joinRunner(follower.url, "r3");
    await waitFor(
      "r3 alive in every node's view",
      async () => {
        for (const n of c.nodes)
          if ((await members(n))?.find((m) => m.Name === "r3")?.statusText !== "alive") return undefined;
        return true;
      },
      30_000,
    );
    expect(JSON.parse(readFileSync(join(dir.path, "r3", KEYRING_FILE), "utf8"))).toEqual([B]);

    polling = false;
    await poller;
    expect(polls).toBeGreaterThan(3);
    expect(lapses).toEqual([]);
    // A figure, not an assertion: brief suspicions refuted on a loaded host are not lapses.
    console.log(`key rotation: ${polls} polls of 3 views, ${suspectSightings} suspect sightings, 0 lapses`);
  }, 120_000);
});
