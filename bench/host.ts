/**
 * What the host looked like during a bench: CPUs, load average, and how long a synchronous=FULL
 * SQLite commit takes in the bench's data directory. Cluster figures depend on all three, so the
 * benches print them beside their results.
 */
import { rmSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { percentile } from "./stats";

/** p50/p99 of `n` one-row commits (WAL, synchronous=FULL) in `dir`, with a short pause between. */
export async function fsyncProbe(dir: string, n = 100): Promise<{ p50: number; p99: number }> {
  const file = join(dir, "fsync-probe.db");
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)");
    const ins = db.prepare("INSERT INTO t (v) VALUES (?)");
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      ins.run("x".repeat(200));
      xs.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 2));
    }
    return { p50: percentile(xs, 50), p99: percentile(xs, 99) };
  } finally {
    db.close();
    // Gone after: a bench may probe a shared directory (the system temp dir).
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  }
}

/** One line: CPUs, 1-minute load average, FULL commit latency. */
export async function hostLine(dir: string): Promise<string> {
  const f = await fsyncProbe(dir);
  return `host: ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)}, SQLite synchronous=FULL commit p50=${f.p50.toFixed(2)} ms p99=${f.p99.toFixed(2)} ms`;
}
