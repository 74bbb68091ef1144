import { expect, it } from "vitest";
import { isAppError, MAX_OUTPUT_CHUNK } from "../../shared";
import { type ExecuteResult, type ExecutionIdentity, type Executor, OUTPUT_TAIL_BYTES } from "./executor";

/**
 * The behaviour every executor owes the runner, written once. Each executor's test file supplies a
 * harness that knows how to express each scenario in that executor's config.
 */
export interface ContractHarness {
  executor: Executor;
  /** A config whose run succeeds with exactly `text` as output. */
  succeedWith(text: string): Record<string, string>;
  /** A config whose run fails after printing "oops". */
  fail(): Record<string, string>;
  /** A config whose job runs longer than its own (short) timeout. */
  overrunTimeout(): Record<string, string>;
  /** A config whose output contains the job name, execution id and scheduled time it was given. */
  echoIdentity(): Record<string, string>;
  /** A config that prints "first", waits until release() is called, then prints "second". */
  twoParts(): { config: Record<string, string>; release(): void };
  /** A config that prints "started" and then runs until cancelled. */
  runUntilCancelled(): Record<string, string>;
  /** A config whose output is exactly the webhook payload the run is given (ExecuteRequest.payload). */
  echoPayload(): Record<string, string>;
  /** A config whose output is exactly `expected` (larger than the kept tail). */
  hugeOutput(): { config: Record<string, string>; expected: string };
  /** A key whose absence makes the config invalid. */
  requiredKey: string;
}

/** The identity every contract run receives. */
export const CONTRACT_IDENTITY: ExecutionIdentity = {
  jobName: "contract-job",
  executionId: "01JCONTRACTEXEC0001",
  scheduledAt: "2026-01-02T03:04:05Z",
};

/** A run's result, the chunks its onOutput saw and what came first: "started" or the first chunk. */
export interface Observed {
  result: ExecuteResult;
  chunks: string[];
  /** Each call of onStarted and the first chunk, in order: "started", "output". */
  events: ("started" | "output")[];
}

/** Runs one execution, recording output chunks; `onChunk` may react (release, abort). */
export async function observe(
  executor: Executor,
  config: Record<string, string>,
  opts: { signal?: AbortSignal; onChunk?: (seen: string, chunks: string[]) => void; payload?: string } = {},
): Promise<Observed> {
  const chunks: string[] = [];
  const events: Observed["events"] = [];
  const result = await executor.execute({
    identity: CONTRACT_IDENTITY,
    config,
    ...(opts.payload === undefined ? {} : { payload: opts.payload }),
    signal: opts.signal ?? new AbortController().signal,
    onOutput: (chunk) => {
      if (!chunks.length) events.push("output");
      chunks.push(chunk);
      opts.onChunk?.(chunks.join(""), chunks);
    },
    onStarted: () => events.push("started"),
  });
  return { result, chunks, events };
}

/** Registers the contract tests (call inside a describe) for the harness `get()` returns once set up. */
export function executorContract(get: () => ContractHarness): void {
  it("succeeds with the job's output, streamed and kept", async () => {
    const h = get();
    const { result, chunks } = await observe(h.executor, h.succeedWith("hello contract"));
    expect(result.success).toBe(true);
    expect(result.error).toBeUndefined();
    expect(result.output).toBe("hello contract");
    expect(result.truncated).toBe(false);
    expect(chunks.join("")).toBe("hello contract");
  });

  it("reports its start once, before any output: the moment start lateness is measured at", async () => {
    const h = get();
    expect((await observe(h.executor, h.succeedWith("hello"))).events).toEqual(["started", "output"]);
    // A job that fails still started; one cancelled before it started, or misconfigured, did not.
    expect((await observe(h.executor, h.fail())).events[0]).toBe("started");
    const ac = new AbortController();
    ac.abort();
    expect((await observe(h.executor, h.succeedWith("never"), { signal: ac.signal })).events).toEqual([]);
    const { [h.requiredKey]: _dropped, ...broken } = h.succeedWith("x");
    expect((await observe(h.executor, broken)).events).toEqual([]);
  });

  it("reports a failing job as data, keeping its output", async () => {
    const h = get();
    const { result } = await observe(h.executor, h.fail());
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/\S/);
    expect(result.output).toContain("oops");
  });

  it("fails a job that overruns its timeout", async () => {
    const h = get();
    const { result } = await observe(h.executor, h.overrunTimeout());
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/timeout/);
  });

  it("hands the job its identity", async () => {
    const h = get();
    const { result } = await observe(h.executor, h.echoIdentity());
    expect(result.success).toBe(true);
    expect(result.output).toContain(CONTRACT_IDENTITY.jobName);
    expect(result.output).toContain(CONTRACT_IDENTITY.executionId);
    expect(result.output).toContain(CONTRACT_IDENTITY.scheduledAt);
  });

  it("hands the job a webhook payload byte for byte", async () => {
    const h = get();
    const payload = `{"msg":"it's "quoted" $(not run) \`nor this\`","lines":"a\nb","utf8":"zoë ✓"}\n`;
    const { result } = await observe(h.executor, h.echoPayload(), { payload });
    expect(result.success, result.error).toBe(true);
    expect(result.output).toBe(payload);
  });

  it("streams output while the job is still running", async () => {
    const h = get();
    const { config, release } = h.twoParts();
    // The job prints "second" only after release(), which only the first chunk triggers: if output
    // were delivered at the end, this run would never finish.
    let released = false;
    const { result, chunks } = await observe(h.executor, config, {
      onChunk: (seen) => {
        if (!released && seen.includes("first")) {
          released = true;
          release();
        }
      },
    });
    expect(result.success).toBe(true);
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks[0]).not.toContain("second");
    expect(result.output).toMatch(/first[\s\S]*second/);
  });

  it("stops a running job when its signal aborts", async () => {
    const h = get();
    const ac = new AbortController();
    const { result } = await observe(h.executor, h.runUntilCancelled(), {
      signal: ac.signal,
      onChunk: (seen) => {
        if (seen.includes("started")) ac.abort();
      },
    });
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/cancel/);
    expect(result.output).toContain("started");
  });

  it("does not start a job whose signal is already aborted", async () => {
    const h = get();
    const ac = new AbortController();
    ac.abort();
    const { result, chunks } = await observe(h.executor, h.succeedWith("never"), { signal: ac.signal });
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/cancel/);
    expect(chunks.join("")).not.toContain("never");
  });

  it("keeps only the last 256 000 bytes of a huge output, streaming all of it in bounded chunks", async () => {
    const h = get();
    const { config, expected } = h.hugeOutput();
    expect(expected.length).toBeGreaterThan(OUTPUT_TAIL_BYTES);
    const { result, chunks } = await observe(h.executor, config);
    expect(result.success).toBe(true);
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(result.output)).toBe(OUTPUT_TAIL_BYTES);
    expect(result.output).toBe(expected.slice(-OUTPUT_TAIL_BYTES));
    expect(chunks.join("")).toBe(expected);
    expect(Math.max(...chunks.map((c) => Buffer.byteLength(c)))).toBeLessThanOrEqual(MAX_OUTPUT_CHUNK);
  });

  it("validates config up front and reports invalid config at run time as a failed job", async () => {
    const h = get();
    const config = h.succeedWith("x");
    expect(() => h.executor.validate?.(config)).not.toThrow();
    const { [h.requiredKey]: _dropped, ...broken } = config;
    let thrown: unknown;
    try {
      h.executor.validate?.(broken);
    } catch (e) {
      thrown = e;
    }
    expect(isAppError(thrown) && thrown.code).toBe("VALIDATION");
    expect((thrown as { details?: { field?: string } }).details?.field).toBe(
      `executor_config.${h.requiredKey}`,
    );
    const { result } = await observe(h.executor, broken);
    expect(result.success).toBe(false);
    expect(result.error).toContain(`executor_config.${h.requiredKey}`);
  });
}
