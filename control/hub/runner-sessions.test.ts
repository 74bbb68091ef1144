import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../runner/agent";
import { RunnerSessions } from "./runner-sessions";

const socket = () => ({
  readyState: 1,
  OPEN: 1,
  sent: [] as string[],
  send(d: string) {
    this.sent.push(d);
  },
});
const session = (name: string, extra: object = {}) => ({
  name,
  tags: {},
  addr: "",
  connectedAt: 0,
  lastSeen: 0,
  ...extra,
});
const run = (id: string) => ({
  type: "run" as const,
  execution_id: id,
  job_name: "j",
  scheduled_at: "",
  attempt: 1,
  executor: "shell",
  config: {},
});

describe("RunnerSessions targeting", () => {
  it("offers a runner only for executors it listed and while below its max_concurrent", () => {
    const s = new RunnerSessions();
    s.add(session("a", { maxConcurrent: 1, executors: ["shell"] }), socket());
    s.add(session("b"), socket());
    expect(s.candidates("http").map((c) => c.name)).toEqual(["b"]);
    expect(s.candidates("shell").map((c) => c.name)).toEqual(["a", "b"]);
    s.send("a", run("e1"));
    expect(s.candidates("shell").map((c) => c.name)).toEqual(["b"]);
    s.finished("a", "e1");
    expect(s.candidates("shell").map((c) => c.name)).toEqual(["a", "b"]);
    // A reconnecting runner's hello says what it holds.
    s.setHeld("a", ["e2"]);
    expect(s.candidates("shell").map((c) => c.name)).toEqual(["b"]);
    // What a run with no target reports: every connected runner, and why it cannot take one.
    s.add(session("c", { draining: true }), socket());
    expect(s.connected("http")).toEqual([
      { name: "a", tags: {}, unavailable: "no http executor" },
      { name: "b", tags: {} },
      { name: "c", tags: {}, unavailable: "draining" },
    ]);
    expect(s.connected("shell")[0]).toEqual({ name: "a", tags: {}, unavailable: "at max_concurrent 1" });
    // With no executor named, only draining keeps a runner from being a target.
    expect(s.connected().map((c) => c.unavailable)).toEqual([undefined, undefined, "draining"]);
  });
});

describe("RunnerSessions reservations", () => {
  it("a slot held for a planned run counts against max_concurrent until released, once", () => {
    const s = new RunnerSessions();
    s.add(session("a", { maxConcurrent: 2 }), socket());
    const first = s.reserve(["a"]);
    expect(s.candidates("shell").map((c) => c.name)).toEqual(["a"]);
    const second = s.reserve(["a"]);
    expect(s.candidates("shell")).toEqual([]);
    // Sent (now load), then released: still full; released twice: the second call does nothing.
    s.send("a", run("e1"));
    first();
    first();
    expect(s.load("a")).toBe(2);
    second();
    expect(s.load("a")).toBe(1);
    expect(s.candidates("shell").map((c) => c.name)).toEqual(["a"]);
  });
});

describe("RunnerSessions draining", () => {
  it("keeps a draining runner attached (frames still reach it) but offers it for no run", () => {
    const s = new RunnerSessions();
    const a = socket();
    s.add(session("a"), a);
    s.add(session("b"), socket());
    s.send("a", run("e1"));
    s.setDraining("a");
    expect(s.candidates().map((c) => c.name)).toEqual(["b"]);
    expect(s.candidates("shell").map((c) => c.name)).toEqual(["b"]);
    expect(s.isConnected("a")).toBe(true);
    expect(s.sessions().find((x) => x.name === "a")?.draining).toBe(true);
    expect(s.send("a", { type: "result_ack", execution_id: "e1" })).toBe(true);
    expect(a.sent.at(-1)).toContain("result_ack");
    // A new connection of the same runner (a restarted process) is a target again.
    s.add(session("a"), socket());
    expect(s.candidates().map((c) => c.name)).toEqual(["a", "b"]);
  });
});

describe("reconnect back-off", () => {
  it("is jittered within [base/2, 1.5 base)", () => {
    expect(backoffDelay(1000, () => 0)).toBe(500);
    expect(backoffDelay(1000, () => 0.999)).toBe(1499);
  });
});
