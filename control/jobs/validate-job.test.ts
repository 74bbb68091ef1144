import { describe, expect, it } from "vitest";
import { validateJob, validateRestoredJob } from "./validate-job";

const http = (over: Record<string, unknown> = {}) => ({
  name: "ping",
  schedule: "@every 1m",
  executor: "http",
  executor_config: { url: "https://example.com/", method: "GET" },
  ...over,
});

describe("validateRestoredJob: what Dkron stores is stored, our stricter rules become warnings", () => {
  it("a job the API accepts comes back with no warnings and the spec the API would store", () => {
    const r = validateRestoredJob(http());
    expect(r.warnings).toEqual([]);
    expect(r.spec).toEqual(validateJob(http()));
  });

  // Each case: a body Dkron's Job.Validate accepts, which POST /v1/jobs refuses, and the warning.
  const stricter: [string, Record<string, unknown>, string][] = [
    [
      "a placeholder http url",
      { executor_config: { url: "xxxxxxxxxxxxx", method: "POST" } },
      "executor_config.url must be an absolute http:// or https:// URL",
    ],
    ["an unknown executor", { executor: "rabbitmq" }, 'executor: unknown executor "rabbitmq"'],
    ["no executor", { executor: "" }, "executor: is required"],
    ["more retries than we allow", { retries: 500 }, "retries: at most 100"],
    ["a name longer than we allow", { name: "a".repeat(201) }, "name: must be at most 200 characters"],
    [
      "an expiry before the start",
      { starts_at: "2026-02-01T00:00:00Z", expires_at: "2026-01-01T00:00:00Z" },
      "expires_at: must be after starts_at",
    ],
    [
      "an @every under one second (Dkron runs it every second)",
      { schedule: "@every 0s" },
      "schedule: @every 0s is shorter than one second",
    ],
    [
      "a metadata value over 4 KiB",
      { metadata: { note: "x".repeat(5000) } },
      "metadata.note: must be at most 4096",
    ],
    [
      "more than 64 tags",
      { tags: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) },
      "tags: at most 64 entries",
    ],
    [
      "an executor_config value over 64 KiB",
      { executor_config: { url: "https://example.com/", method: "POST", body: "x".repeat(70_000) } },
      "executor_config.body: values must be at most 65536 characters",
    ],
    [
      "a shell command that does not split",
      { executor: "shell", executor_config: { command: "echo 'unclosed" } },
      "executor_config.command",
    ],
  ];
  for (const [what, over, warning] of stricter) {
    it(`stores ${what}, with a warning`, () => {
      expect(() => validateJob(http(over))).toThrow();
      const r = validateRestoredJob(http(over));
      expect(r.warnings).toHaveLength(1);
      expect(r.warnings[0]).toContain(warning);
      expect(r.spec.name).toBe((over.name as string | undefined) ?? "ping");
    });
  }

  // Each case: what Dkron's Job.Validate refuses too, with the reason restore reports.
  const refused: [string, Record<string, unknown>, string][] = [
    ["an empty name", { name: "" }, "name: cannot be empty"],
    ["an illegal character in the name", { name: "Bad Name" }, "illegal character 'B'"],
    ["a schedule that does not parse", { schedule: "every day" }, "schedule"],
    ["a top-level job without a schedule", { schedule: "" }, "schedule"],
    ["an unknown time zone", { timezone: "Mars/Olympus" }, "Mars/Olympus"],
    ["a bad concurrency value", { concurrency: "sometimes" }, "invalid concurrency policy value"],
    [
      "a shell timeout that is not a Go duration",
      { executor: "shell", executor_config: { command: "true", timeout: "forever" } },
      "executor_config.timeout must be a Go duration",
    ],
  ];
  for (const [what, over, reason] of refused) {
    it(`refuses ${what}, as Dkron does`, () => {
      expect(() => validateRestoredJob(http(over))).toThrow(reason);
    });
  }

  it("brings the backup's counters and status along, and says when they cannot be read", () => {
    const dkron = {
      success_count: 26,
      error_count: 6,
      last_success: "2019-11-04T04:37:12.396866367Z",
      last_error: null,
      status: "success",
      next: "2019-12-09T09:00:00Z",
    };
    expect(validateRestoredJob(http(dkron)).counters).toEqual({
      success_count: 26,
      error_count: 6,
      last_success: Date.parse("2019-11-04T04:37:12.396Z"),
      last_error: null,
      status: "success",
    });
    expect(validateRestoredJob(http()).counters).toBeUndefined();
    expect(validateRestoredJob(http({ status: "running" })).counters).toBeUndefined();
    const bad = validateRestoredJob(http({ success_count: -1 }));
    expect(bad.counters).toBeUndefined();
    expect(bad.warnings).toEqual(["success_count: cannot be negative (counters not restored)"]);
    expect(validateRestoredJob(http({ status: "ok" })).warnings).toEqual([
      "status: is not a Dkron job status (counters not restored)",
    ]);
  });

  it("lets a child go without a schedule, as Dkron does", () => {
    expect(validateRestoredJob(http({ schedule: "", parent_job: "p" })).warnings).toEqual([]);
  });
});

describe("validateJob: limits that keep one job from weighing on the cluster", () => {
  const refused = (over: Record<string, unknown>) => {
    try {
      validateJob(http(over));
    } catch (e) {
      return e as { code: string; message: string; details: { field: string } };
    }
    throw new Error("accepted");
  };

  it.each([
    [{ schedule: "@every 0s" }, "schedule", "@every 0s is shorter than one second"],
    [{ schedule: "@every 1ns" }, "schedule", "@every 1ns is shorter than one second"],
    [{ schedule: "TZ=UTC @every 500ms" }, "schedule", "@every 500ms is shorter than one second"],
    [{ displayname: "d".repeat(1025) }, "displayname", "at most 1024 characters"],
    [{ schedule: `0 0 * * * * ${" ".repeat(300)}` }, "schedule", "at most 256 characters"],
    [{ tags: { ["k".repeat(257)]: "v" } }, "tags", "keys must be at most 256 characters"],
    [{ metadata: { a: "x".repeat(4097) } }, "metadata.a", "at most 4096 characters"],
  ])("%j is refused naming %s", (over, field, reason) => {
    const e = refused(over);
    expect(e.code).toBe("VALIDATION");
    expect(e.details.field.startsWith(field)).toBe(true);
    expect(e.message).toContain(reason);
  });

  it('refuses a "__proto__" key in a map, which parsing would drop silently (fuzz finding)', () => {
    // Built from JSON text, as a request body is: an object literal or a spread cannot hold the key.
    const withKey = (map: string, value: string) =>
      JSON.parse(JSON.stringify(http()).replace(/\}$/, `,"${map}":${value}}`)) as Record<string, unknown>;
    const cases: [string, Record<string, unknown>][] = [
      ["tags", withKey("tags", '{"__proto__":"x","a":"b"}')],
      ["metadata", withKey("metadata", '{"__proto__":"x"}')],
      [
        "executor_config",
        withKey("executor_config", '{"url":"https://example.com/","method":"GET","__proto__":"1"}'),
      ],
      ["processors.log", withKey("processors", '{"log":{"__proto__":"x"}}')],
    ];
    for (const [field, body] of cases) {
      expect(() => validateJob(body)).toThrow(`${field}: the key "__proto__" is not supported`);
      try {
        validateJob(body);
      } catch (e) {
        expect(e).toMatchObject({ code: "VALIDATION", details: { field } });
      }
      expect(validateRestoredJob(body).warnings).toContain(
        `${field}: the key "__proto__" is not supported; dropped`,
      );
    }
    // Other keys objects treat specially are ordinary keys of a map.
    const ok = validateJob(withKey("metadata", '{"constructor":"c","toString":"t"}'));
    expect(ok.metadata).toEqual({ constructor: "c", toString: "t" });
  });

  it("takes values at the limits, and @every 1s", () => {
    const ok = validateJob(
      http({
        schedule: "@every 1s",
        displayname: "d".repeat(1024),
        metadata: { a: "x".repeat(4096) },
        tags: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, "v"])),
      }),
    );
    expect(ok.displayname).toHaveLength(1024);
  });
});
