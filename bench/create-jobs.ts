import { type Agent, request } from "undici";

/**
 * POSTs jobs 0..n-1 (`body(i)`) to `base`/v1/jobs from `clients` concurrent keep-alive clients, each
 * retried a few times; returns the elapsed ms at every tenth of n (the deciles' marks) and calls
 * `onDecile` with the count and rate so far.
 */
export async function createJobs(o: {
  base: string;
  n: number;
  clients: number;
  agent: Agent;
  body: (i: number) => string;
  onDecile?: (created: number, jobsPerSecond: number) => void;
}): Promise<number[]> {
  let next = 0;
  let done = 0;
  const marks: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.clients }, async () => {
      for (;;) {
        const i = next++;
        if (i >= o.n) return;
        for (let attempt = 0; ; attempt++) {
          const res = await request(`${o.base}/v1/jobs`, {
            method: "POST",
            dispatcher: o.agent,
            headers: { "content-type": "application/json" },
            body: o.body(i),
          });
          const text = await res.body.text();
          if (res.statusCode === 201) break;
          if (attempt > 5) throw new Error(`POST job ${i}: ${res.statusCode} ${text.slice(0, 200)}`);
        }
        done++;
        if (done % Math.max(1, Math.floor(o.n / 10)) === 0) {
          const ms = performance.now() - t0;
          marks.push(ms);
          o.onDecile?.(done, done / (ms / 1000));
        }
      }
    }),
  );
  return marks;
}
