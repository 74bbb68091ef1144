import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { generateGossipKey } from "../../../runner/gossip";

// Four real processes on 127.0.0.1 over node:dgram with an AES-256-GCM key: they find each other from
// one seed address, a SIGKILLed one is declared failed by all survivors, a SIGTERMed one left.
const SCRIPT = fileURLToPath(new URL("./member-process.ts", import.meta.url));

interface Member {
  name: string;
  proc: ChildProcess;
  port: number;
  /** Latest status of each other member, as this one reported it. */
  view: Map<string, string>;
  waiters: (() => void)[];
}

const members: Member[] = [];

function start(name: string, seed: string | undefined, key: string): Promise<Member> {
  const proc = spawn(process.execPath, ["--import", "tsx", SCRIPT, name, seed ?? "", key], {
    stdio: ["ignore", "pipe", "inherit"],
    detached: true, // its own process group, killed as a group
  });
  const m: Member = { name, proc, port: 0, view: new Map(), waiters: [] };
  members.push(m);
  return new Promise((resolve, reject) => {
    proc.once("exit", (code, sig) =>
      reject(new Error(`${name} exited (${code ?? sig}) before it was ready`)),
    );
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      const o = JSON.parse(line) as { ready?: boolean; port?: number; member?: string; status?: string };
      if (o.ready) {
        m.port = o.port!;
        resolve(m);
      } else if (o.member) m.view.set(o.member, o.status!);
      for (const w of m.waiters.splice(0)) w();
    });
  });
}

/** Resolves once pred holds, re-checked on every line the members print; fails after ms. */
function until(what: string, pred: () => boolean, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    const check = () => {
      if (pred()) {
        clearTimeout(timer);
        resolve();
      } else for (const m of members) m.waiters.push(check);
    };
    check();
  });
}

function killGroup(m: Member, signal: NodeJS.Signals): void {
  try {
    process.kill(-(m.proc.pid as number), signal);
  } catch {
    // Already gone.
  }
}

afterAll(() => {
  for (const m of members) killGroup(m, "SIGKILL");
});

describe("gossip over real UDP between processes", () => {
  it("members find each other from one seed; SIGKILL is a failure, SIGTERM a leave", async () => {
    const key = generateGossipKey();
    const seed = await start("c1", undefined, key);
    const rest = await Promise.all(["r1", "r2", "r3"].map((n) => start(n, `127.0.0.1:${seed.port}`, key)));
    const all = [seed, ...rest];
    const sees = (m: Member, other: string, status: string) => m.view.get(other) === status;
    await until(
      "every member to see the other three alive",
      () => all.every((m) => all.every((o) => o === m || sees(m, o.name, "alive"))),
      10_000,
    );

    const [victim, leaver] = [rest[0]!, rest[1]!];
    killGroup(victim, "SIGKILL");
    const survivors = all.filter((m) => m !== victim);
    // Suspicion max at n = 4 with these timings is 6 × 800 ms; confirmations bring it toward 800 ms.
    await until(
      "the survivors to mark r1 failed",
      () => survivors.every((m) => sees(m, victim.name, "dead")),
      15_000,
    );

    const exited = new Promise((r) => leaver.proc.once("exit", r));
    killGroup(leaver, "SIGTERM");
    await exited;
    const stay = survivors.filter((m) => m !== leaver);
    await until("the others to mark r2 left", () => stay.every((m) => sees(m, leaver.name, "left")), 10_000);
    expect(stay.every((m) => !sees(m, leaver.name, "dead"))).toBe(true);
  }, 40_000);
});
