import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { snapshotFileName } from "./raft-log-store";
import { LAST_APPLIED } from "./statements";

/** A snapshot written to a file: the state at `index` (its last applied entry). */
export interface WrittenSnapshot {
  index: number;
  /** The file's name in the snapshot directory. */
  file: string;
}

/**
 * The worker's code (CommonJS, evaluated: no TypeScript loader is needed in the thread). Its own
 * connection copies the state database with `VACUUM INTO` inside one read transaction of SQLite's,
 * so the copy is consistent while the main thread goes on applying; the index it covers is read
 * from the copy itself. The copy is fsynced, renamed into place and the directory fsynced before
 * the answer, so a recorded snapshot file is always whole.
 */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
const Database = require(workerData.sqlite);
const fsync = (p, flags) => { const fd = fs.openSync(p, flags); try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); } };
parentPort.on("message", ({ id, source, dir, tmp }) => {
  const tmpPath = path.join(dir, tmp);
  try {
    const db = new Database(source, { fileMustExist: true });
    try { db.prepare("VACUUM INTO ?").run(tmpPath); } finally { db.close(); }
    const copy = new Database(tmpPath, { fileMustExist: true });
    let index;
    try { index = copy.prepare("SELECT value FROM meta WHERE key = ?").pluck().get(workerData.lastApplied) ?? 0; } finally { copy.close(); }
    fsync(tmpPath, "r+");
    const file = workerData.prefix + index + ".db";
    fs.renameSync(tmpPath, path.join(dir, file));
    fsync(dir, "r");
    parentPort.postMessage({ id, ok: true, index, file });
  } catch (err) {
    fs.rmSync(tmpPath, { force: true });
    parentPort.postMessage({ id, ok: false, error: String(err && err.message || err) });
  }
});
`;

/**
 * Takes state snapshots off the event loop: a worker thread copies the state database into the
 * Raft store's snapshot directory. At 100,000 jobs a snapshot taken on the event loop (serialize,
 * base64, a ~130 MB write) held it for about a second every 8,192 entries.
 */
export class StateSnapshotWriter {
  private worker: Worker | undefined;
  private seq = 0;
  /** Snapshots asked for and not answered yet (close waits for them). */
  private readonly inFlight = new Set<Promise<WrittenSnapshot>>();
  private readonly waiting = new Map<
    number,
    { resolve: (s: WrittenSnapshot) => void; reject: (e: Error) => void }
  >();

  constructor(
    private readonly stateFile: string,
    private readonly dir: string,
  ) {}

  /** Writes a snapshot of the state database as it is now (or a moment later); resolves with its index. */
  take(): Promise<WrittenSnapshot> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const id = ++this.seq;
    const w = this.start();
    const p = new Promise<WrittenSnapshot>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({
        id,
        source: this.stateFile,
        dir: this.dir,
        tmp: `tmp-${randomBytes(6).toString("hex")}.db`,
      });
    });
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Stops the worker after the snapshot it is writing (if any) is done: its native copy cannot be
   * interrupted, so terminating mid-copy would leave it writing into the directory after close.
   */
  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    if (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
    this.worker = undefined;
    await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER, {
      eval: true,
      workerData: {
        sqlite: createRequire(import.meta.url).resolve("better-sqlite3"),
        lastApplied: LAST_APPLIED,
        prefix: snapshotFileName(0).replace(/0\.db$/, ""),
      },
    });
    // Idle between snapshots: it must not keep a stopping process alive.
    w.unref();
    w.on("message", (m: { id: number; ok: boolean; index?: number; file?: string; error?: string }) => {
      const p = this.waiting.get(m.id);
      if (!p) return;
      this.waiting.delete(m.id);
      if (m.ok) p.resolve({ index: m.index ?? 0, file: m.file ?? "" });
      else p.reject(new Error(`snapshot failed: ${m.error}`));
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = undefined;
      for (const [id, p] of this.waiting) {
        this.waiting.delete(id);
        p.reject(err);
      }
    };
    w.on("error", fail);
    w.on("exit", (code) => fail(new Error(`snapshot worker exited (${code})`)));
    return w;
  }
}
