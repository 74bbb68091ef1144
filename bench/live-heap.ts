/**
 * A node process's live heap: its V8 heap in use right after a full garbage collection, read through
 * the inspector of a process started with `node --inspect=127.0.0.1:0`. RSS alone cannot tell a leak
 * from V8 growing its heap lazily; the live heap after a full GC can, for JavaScript objects (native
 * memory, e.g. SQLite's, shows in RSS only).
 */
import { WebSocket } from "undici";

/** The inspector's WebSocket URL the process printed at start (`Debugger listening on ws://…`). */
export function inspectorUrl(log: string): string | undefined {
  const all = [...log.matchAll(/Debugger listening on (ws:\/\/\S+)/g)];
  return all.at(-1)?.[1];
}

/** What `process.memoryUsage()` says, in MB. */
export interface MemoryMb {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
}

/** Full GC, then `process.memoryUsage().heapUsed` in MB, of the process whose inspector is at `url`. */
export async function liveHeapMb(url: string, timeoutMs = 30_000): Promise<number> {
  return (await memoryMb(url, true, timeoutMs)).heapUsed;
}

/** `process.memoryUsage()` in MB of the process whose inspector is at `url`, after a full GC if `gc`. */
export async function memoryMb(url: string, gc: boolean, timeoutMs = 30_000): Promise<MemoryMb> {
  const ws = new WebSocket(url);
  type Reply = { id?: number; result?: { result?: { value?: unknown } } };
  const replies = new Map<number, (r: Reply) => void>();
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(String(ev.data)) as Reply;
    if (msg.id !== undefined) replies.get(msg.id)?.(msg);
  });
  const opened = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`inspector ${url}: not open in ${timeoutMs} ms`)), timeoutMs);
    ws.addEventListener("open", () => {
      clearTimeout(t);
      resolve();
    });
    ws.addEventListener("error", () => {
      clearTimeout(t);
      reject(new Error(`inspector ${url}: could not connect`));
    });
  });
  let id = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const n = ++id;
      const t = setTimeout(
        () => reject(new Error(`inspector ${method}: no answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
      replies.set(n, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  try {
    await opened;
    if (gc) await call("HeapProfiler.collectGarbage");
    const r = await call("Runtime.evaluate", {
      expression: "JSON.stringify(process.memoryUsage())",
      returnByValue: true,
    });
    const m = JSON.parse(String(r.result?.result?.value)) as Record<keyof MemoryMb, number>;
    const mb = (x: number) => x / 2 ** 20;
    return { rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external) };
  } finally {
    ws.close();
  }
}
