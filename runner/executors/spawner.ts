import { type ChildProcess, spawn as nodeSpawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { finished, PassThrough, Writable } from "node:stream";

/** What the shell executor asks of a started process (a subset of node's ChildProcess). */
export type ProcessHandle = Pick<ChildProcess, "pid" | "stdout" | "stderr" | "stdin" | "on" | "once">;

/** The options the shell executor spawns with. */
export interface SpawnRequest {
  cwd?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** The command's stdin: a pipe the caller writes and ends, or nothing. */
  stdin: "pipe" | "ignore";
}

/** Starts `file` with `args` in a process group of its own, output on pipes. */
export type SpawnFn = (file: string, args: readonly string[], req: SpawnRequest) => ProcessHandle;

/** Node's spawn, on this process's own event loop (the fork happens here). */
export const directSpawn: SpawnFn = (file, args, req) =>
  nodeSpawn(file, args, {
    cwd: req.cwd,
    env: req.env,
    // detached makes the child a process-group leader, so a timeout or cancel reaches its whole tree.
    detached: true,
    stdio: [req.stdin, "pipe", "pipe"],
  });

/**
 * The spawner's own code, run with `node -e` (no file to ship beside a bundle). It spawns what it is
 * asked over IPC and streams each child's events back; it stops reading a child's output while too
 * many messages are unsent, so a flood of output waits in the pipe, as it does without a spawner. It
 * outlives no agent: the IPC channel closing ends it, and the agent's own signals (a Ctrl-C to the
 * group) do not, so a draining agent still hears its children exit.
 */
const SPAWNER_SOURCE = `
"use strict";
const { spawn } = require("node:child_process");
const kids = new Map();
let unsent = 0;
const paused = new Set();
for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(s, () => {});
process.on("disconnect", () => process.exit(0));
const sent = () => {
  unsent--;
  if (unsent < 16 && paused.size) { for (const r of paused) r.resume(); paused.clear(); }
};
const send = (m, stream) => {
  unsent++;
  process.send(m, undefined, undefined, sent);
  if (unsent > 64 && stream) { stream.pause(); paused.add(stream); }
};
const failure = (e) => ({ message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path });
process.on("message", (m) => {
  const id = m.id;
  if (m.t === "spawn") {
    let c;
    try {
      c = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: [m.stdin, "pipe", "pipe"] });
    } catch (e) {
      send({ t: "error", id, e: failure(e) });
      send({ t: "close", id, code: null, signal: null });
      return;
    }
    kids.set(id, c);
    c.once("spawn", () => send({ t: "spawn", id, pid: c.pid }));
    c.stdout.on("data", (d) => send({ t: "out", id, d }, c.stdout)).on("end", () => send({ t: "out-end", id }));
    c.stderr.on("data", (d) => send({ t: "err", id, d }, c.stderr)).on("end", () => send({ t: "err-end", id }));
    if (c.stdin) c.stdin.on("error", () => {});
    c.on("error", (e) => send({ t: "error", id, e: failure(e), pid: c.pid ?? null }));
    c.on("exit", (code, signal) => send({ t: "exit", id, code, signal }));
    c.on("close", (code, signal) => {
      kids.delete(id);
      paused.delete(c.stdout);
      paused.delete(c.stderr);
      send({ t: "close", id, code, signal });
    });
  } else if (m.t === "stdin") {
    const c = kids.get(id);
    if (c && c.stdin) c.stdin.end(Buffer.from(m.d));
  } else if (m.t === "destroy") {
    const c = kids.get(id);
    if (c) { c.stdout.destroy(); c.stderr.destroy(); }
  }
});
`;

/** A message from the spawner about one child. */
type SpawnerEvent =
  | { t: "spawn"; id: number; pid: number }
  | { t: "out" | "err"; id: number; d: Uint8Array }
  | { t: "out-end" | "err-end"; id: number }
  | { t: "error"; id: number; e: SpawnFailure; pid?: number | null }
  | { t: "exit" | "close"; id: number; code: number | null; signal: NodeJS.Signals | null };

interface SpawnFailure {
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

/** A child started by the spawner, as the shell executor sees it: node's ChildProcess events and pipes. */
class RemoteChild extends EventEmitter {
  pid: number | undefined;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  readonly stdin: Writable | null;
  closed = false;

  constructor(
    readonly id: number,
    stdin: boolean,
    tell: (m: object) => void,
  ) {
    super();
    // Destroying a pipe here (the command exited, a background process holds it) stops the read there.
    const destroy = (err: Error | null, cb: (e: Error | null) => void) => {
      if (!this.closed) tell({ t: "destroy", id });
      cb(err);
    };
    this.stdout = new PassThrough({ destroy });
    this.stderr = new PassThrough({ destroy });
    const chunks: Buffer[] = [];
    this.stdin = stdin
      ? new Writable({
          write(chunk: Buffer, _enc, cb) {
            chunks.push(chunk);
            cb();
          },
          final(cb) {
            tell({ t: "stdin", id, d: Buffer.concat(chunks) });
            cb();
          },
        })
      : null;
  }

  /** Applies one event from the spawner. */
  take(m: SpawnerEvent): void {
    switch (m.t) {
      case "spawn":
        this.pid = m.pid;
        this.emit("spawn");
        break;
      case "out":
      case "err":
        (m.t === "out" ? this.stdout : this.stderr).write(
          Buffer.from(m.d.buffer, m.d.byteOffset, m.d.length),
        );
        break;
      case "out-end":
        this.stdout.end();
        break;
      case "err-end":
        this.stderr.end();
        break;
      case "error":
        this.emit("error", Object.assign(new Error(m.e.message), m.e));
        break;
      case "exit":
        this.emit("exit", m.code, m.signal);
        break;
      case "close":
        this.close(m.code, m.signal);
        break;
    }
  }

  /** Ends the pipes and emits close (the spawner's close, or its death). */
  close(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closed) return;
    this.closed = true;
    // close comes after the pipes ended; wait for what was written to them to be read first.
    let open = 1;
    const done = () => {
      if (--open === 0) this.emit("close", code, signal);
    };
    for (const s of [this.stdout, this.stderr]) {
      if (s.destroyed || s.readableEnded) continue;
      open++;
      // Once per pipe, however it ends (read to the end, or destroyed).
      finished(s, done);
      s.end();
    }
    done();
  }
}

/**
 * Spawns commands through a small long-lived helper process, so the fork (synchronous, and slower
 * the bigger the forking process: 3.4-5.6 ms for an agent) does not hold this process's event loop:
 * a hundred jobs a second forked here would stall the scheduler, commits and results behind them.
 * The helper is started on the first spawn and restarted if it dies; a child it was watching when
 * it died is killed (its process group), and ends as a failed run that says why.
 */
export class Spawner {
  private helper: ChildProcess | undefined;
  private readonly children = new Map<number, RemoteChild>();
  private seq = 0;

  constructor(
    private readonly deps: {
      /** The node binary that runs the helper; this process's by default. */
      execPath?: string;
      killGroup: (pgid: number, signal: NodeJS.Signals) => void;
    },
  ) {}

  /** A SpawnFn that starts processes through the helper. */
  readonly spawn: SpawnFn = (file, args, req) => {
    const helper = this.ensureHelper();
    const id = ++this.seq;
    const child = new RemoteChild(id, req.stdin === "pipe", (m) => this.tell(m));
    this.children.set(id, child);
    child.once("close", () => {
      this.children.delete(id);
      if (!this.children.size) this.unref();
    });
    // The env goes whole: the helper's own environment is not the job's.
    helper.send({ t: "spawn", id, file, args, cwd: req.cwd, env: req.env, stdin: req.stdin });
    this.ref();
    return child as unknown as ProcessHandle;
  };

  /** The helper's pid while it runs (for tests and diagnostics). */
  helperPid(): number | undefined {
    return this.helper?.connected ? this.helper.pid : undefined;
  }

  /**
   * Stops the helper. The runner stops its executors once its runs have drained; a child still
   * running then is killed with it (nobody would hear it end).
   */
  stop(): void {
    const h = this.helper;
    this.helper = undefined;
    if (h?.connected) h.disconnect();
  }

  private tell(m: object): void {
    if (this.helper?.connected) this.helper.send(m);
  }

  private ensureHelper(): ChildProcess {
    if (this.helper?.connected) return this.helper;
    const helper = nodeSpawn(this.deps.execPath ?? process.execPath, ["-e", SPAWNER_SOURCE], {
      // Not detached: in this process's group, so killing the group (a test, a supervisor) ends it too.
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      serialization: "advanced",
      env: {},
    });
    helper.on("message", (m: SpawnerEvent) => this.children.get(m.id)?.take(m));
    helper.on("exit", () => this.helperGone(helper));
    helper.on("error", () => this.helperGone(helper));
    this.helper = helper;
    this.unref();
    return helper;
  }

  /** The helper died: its children are nobody's now; kill them and end their runs. */
  private helperGone(helper: ChildProcess): void {
    if (this.helper === helper) this.helper = undefined;
    for (const child of this.children.values()) {
      if (child.pid !== undefined) {
        try {
          this.deps.killGroup(child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
        child.stderr.write("\nshell: the runner's spawner process died; the command was killed\n");
      } else {
        child.take({ t: "error", id: child.id, e: { message: "the runner's spawner process died" } });
      }
      child.close(null, "SIGKILL");
    }
    this.children.clear();
  }

  /** While children run, the helper keeps this process alive (their exits are still to come). */
  private ref(): void {
    this.helper?.ref();
    (this.helper?.channel as { ref?: () => void } | undefined)?.ref?.();
  }

  private unref(): void {
    this.helper?.unref();
    (this.helper?.channel as { unref?: () => void } | undefined)?.unref?.();
  }
}
