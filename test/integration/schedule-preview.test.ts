import { afterEach, describe, expect, it } from "vitest";
import type { SchedulePreviewJson } from "../../shared/expression-preview";
import type { JobJson } from "../../shared/job";
import type { PreviewEntry } from "../../shared/schedule-preview";
import { type ApiHarness, apiHarness } from "../helpers/api-harness";
import { ControlHarness } from "../helpers/control-harness";

// GET /v1/jobs/:job?next=N and GET /v1/schedule/preview through the real edge app and control
// service, over a one-voter Raft on real SQLite and a virtual clock.

type JobWithRuns = JobJson & { next_runs?: PreviewEntry[] };
type ErrorBody = { error: { code: string; message: string; field?: string } };

let h: ControlHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A harness whose clock starts at `start` (RFC3339), the scheduler off so nothing runs by itself. */
async function at(start: string): Promise<{ h: ControlHarness; api: ApiHarness }> {
  h = await ControlHarness.start({ start: Date.parse(start), scheduler: false });
  return { h, api: apiHarness(h) };
}

const body = async <T>(res: Response): Promise<T> => {
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
};
const localDay = (e: PreviewEntry) => e.local.slice(0, 10);

describe("GET /v1/jobs/:job?next=N", () => {
  it("lists an hourly Berlin job's 25 runs on the 25-hour day, both 02:00s marked", async () => {
    const { h, api } = await at("2026-10-24T21:30:00Z"); // 23:30 CEST, the evening before
    await h.put({ name: "hourly", schedule: "0 0 * * * *", timezone: "Europe/Berlin" });
    const job = await body<JobWithRuns>(await api.get("/v1/jobs/hourly?next=25"));
    const runs = job.next_runs!;
    expect(runs).toHaveLength(25);
    expect(runs.every((e) => e.runs && localDay(e) === "2026-10-25")).toBe(true);
    expect(runs[0]!.at).toBe(job.next);
    expect(runs.slice(2, 4).map((e) => [e.local, e.at, e.mark])).toEqual([
      ["2026-10-25T02:00:00+02:00", "2026-10-25T00:00:00.000Z", "repeated-first"],
      ["2026-10-25T02:00:00+01:00", "2026-10-25T01:00:00.000Z", "repeated-second"],
    ]);
    expect(runs[3]!.note).toBe("02:00 happens twice as clocks fall back; this is its second occurrence");
  });

  it("under dst once the same job runs 24 times that day", async () => {
    const { h, api } = await at("2026-10-24T21:30:00Z");
    await h.put({ name: "hourly", schedule: "0 0 * * * *", timezone: "Europe/Berlin", dst: "once" });
    const { next_runs } = await body<JobWithRuns>(await api.get("/v1/jobs/hourly?next=25"));
    expect(next_runs!.filter((e) => localDay(e) === "2026-10-25")).toHaveLength(24);
    expect(next_runs!.map((e) => e.mark)).not.toContain("repeated-second");
  });

  it("without next the job is as before (no next_runs)", async () => {
    const { h, api } = await at("2026-10-24T21:30:00Z");
    await h.put({ name: "hourly", schedule: "0 0 * * * *", timezone: "Europe/Berlin" });
    const job = await body<JobWithRuns>(await api.get("/v1/jobs/hourly"));
    expect(job.name).toBe("hourly");
    expect(job).not.toHaveProperty("next_runs");
  });

  it("counts @every from the job's stored anchor, not from now", async () => {
    const { h, api } = await at("2026-01-01T00:00:00Z");
    await h.put({ name: "every", schedule: "@every 1m" });
    await h.advance(90_000);
    const { next_runs } = await body<JobWithRuns>(await api.get("/v1/jobs/every?next=3"));
    expect(next_runs!.map((e) => e.at)).toEqual([
      "2026-01-01T00:02:00.000Z",
      "2026-01-01T00:03:00.000Z",
      "2026-01-01T00:04:00.000Z",
    ]);
  });

  it("lists nothing before starts_at and nothing after expires_at", async () => {
    const { h, api } = await at("2026-01-01T00:00:00Z");
    await h.put({
      name: "window",
      schedule: "@hourly",
      starts_at: "2026-01-01T05:00:00Z",
      expires_at: "2026-01-01T07:30:00Z",
    });
    const { next_runs } = await body<JobWithRuns>(await api.get("/v1/jobs/window?next=10"));
    expect(next_runs!.map((e) => e.at)).toEqual([
      "2026-01-01T05:00:00.000Z",
      "2026-01-01T06:00:00.000Z",
      "2026-01-01T07:00:00.000Z",
    ]);
  });

  it("lists no runs for @manually, child and disabled jobs", async () => {
    const { h, api } = await at("2026-01-01T00:00:00Z");
    await h.put({ name: "parent", schedule: "@hourly" });
    await h.put({ name: "manual", schedule: "@manually" });
    await h.put({ name: "child", schedule: "", parent_job: "parent" });
    await h.put({ name: "off", schedule: "@hourly", disabled: true });
    for (const name of ["manual", "child", "off"]) {
      const job = await body<JobWithRuns>(await api.get(`/v1/jobs/${name}?next=5`));
      expect(job.next_runs, name).toEqual([]);
    }
  });

  it("passes next through the Worker's control-api wire too", async () => {
    const { h, api } = await at("2026-03-28T12:00:00Z");
    await h.put({ name: "nightly", schedule: "30 2 * * *", timezone: "Europe/Berlin", dst: "skip" });
    const { next_runs } = await body<JobWithRuns>(await api.get("/v1/jobs/nightly?next=2", "worker"));
    expect(next_runs!.map((e) => [e.local, e.runs, e.mark])).toEqual([
      ["2026-03-29T03:00:00+02:00", false, "skipped"],
      ["2026-03-30T02:30:00+02:00", true, "after-transition"],
      ["2026-03-31T02:30:00+02:00", true, null],
    ]);
  });

  it.each(["0", "1001", "abc", "", "2.5", "-1"])("refuses next=%s with a 400 naming next", async (value) => {
    const { h, api } = await at("2026-01-01T00:00:00Z");
    await h.put({ name: "job", schedule: "@hourly" });
    const res = await api.get(`/v1/jobs/job?next=${value}`);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorBody;
    expect(error).toMatchObject({ code: "VALIDATION", field: "next" });
    expect(error.message).toBe(`invalid query: next: must be an integer from 1 to 1000, got "${value}"`);
  });

  it("is a 404 for a missing job, next or not", async () => {
    const { api } = await at("2026-01-01T00:00:00Z");
    expect((await api.get("/v1/jobs/nope?next=3")).status).toBe(404);
  });
});

describe("GET /v1/schedule/preview", () => {
  const preview = async (api: ApiHarness, query: Record<string, string>, via?: "app" | "worker") =>
    body<SchedulePreviewJson>(await api.get(`/v1/schedule/preview?${new URLSearchParams(query)}`, via));

  it("previews New York's 01:00-03:00 window on the fall-back day: 16 runs under auto, 12 under once", async () => {
    const { api } = await at("2026-01-01T00:00:00Z");
    const query = {
      schedule: "0 */15 1-3 * * *",
      timezone: "America/New_York",
      n: "16",
      from: "2026-11-01T00:00:00-04:00",
    };
    const auto = await preview(api, query);
    expect(auto).toMatchObject({
      schedule: "0 */15 1-3 * * *",
      expression: "0 */15 1-3 * * *",
      timezone: "America/New_York",
      dst: {
        policy: "auto",
        rule: { repeated: "twice", missing: "skip" },
        reason: "follows real time: the minute field is */15",
      },
      from: "2026-11-01T04:00:00.000Z",
    });
    expect(auto.entries.every((e) => localDay(e) === "2026-11-01")).toBe(true);
    expect(auto.entries.filter((e) => e.mark === "repeated-second").map((e) => e.local)).toEqual([
      "2026-11-01T01:00:00-05:00",
      "2026-11-01T01:15:00-05:00",
      "2026-11-01T01:30:00-05:00",
      "2026-11-01T01:45:00-05:00",
    ]);
    const once = await preview(api, { ...query, dst: "once" });
    expect(once.dst.rule).toEqual({ repeated: "once", missing: "skip" });
    expect(once.entries.filter((e) => localDay(e) === "2026-11-01")).toHaveLength(12);
  });

  it("shows the spring-forward hour: a fixed 02:30 moves to 03:00 under auto and is listed as not run under skip", async () => {
    const { api } = await at("2026-01-01T00:00:00Z");
    const query = { schedule: "30 2 * * *", timezone: "Europe/Berlin", n: "1", from: "2026-03-28T12:00:00Z" };
    const auto = await preview(api, query);
    expect(auto.dst.rule).toEqual({ repeated: "once", missing: "transition" });
    expect(auto.entries.map((e) => [e.local, e.runs, e.mark])).toEqual([
      ["2026-03-29T03:00:00+02:00", true, "transition"],
    ]);
    const skip = await preview(api, { ...query, dst: "skip" }, "worker");
    expect(skip.entries.map((e) => [e.local, e.runs, e.note])).toEqual([
      [
        "2026-03-29T03:00:00+02:00",
        false,
        "clocks jump from 02:00 to 03:00: 02:30 never happens and does not run (dst skip)",
      ],
      ["2026-03-30T02:30:00+02:00", true, "the first run after a DST transition (the offset changed)"],
    ]);
  });

  it("lists from control's now by default, 10 runs, and reads dst in any order", async () => {
    const { api } = await at("2026-01-01T00:00:00Z");
    const p = await preview(api, { schedule: "@every 1h", dst: "skip twice" });
    expect(p.from).toBe("2026-01-01T00:00:00.000Z");
    expect(p.entries).toHaveLength(10);
    expect(p.entries[0]!.at).toBe("2026-01-01T01:00:00.000Z");
    expect(p.dst).toEqual({
      policy: "twice,skip",
      rule: null,
      reason: "@every counts elapsed time; DST transitions do not move it",
    });
  });

  it("derives ~ from the name given", async () => {
    const { api } = await at("2026-01-01T00:00:00Z");
    const p = await preview(api, { schedule: "0 ~ * * * *", name: "report", n: "1" });
    expect(p.expression).toMatch(/^0 \d+ \* \* \* \*$/);
    expect(p.entries[0]!.at.slice(14, 16)).toBe(p.expression.split(" ")[1]!.padStart(2, "0"));
  });

  it.each([
    [{}, "schedule", "invalid query: schedule: is required"],
    [{ schedule: "61 * * * *" }, "schedule", "schedule: "],
    [
      { schedule: "@hourly", timezone: "Mars/Olympus" },
      "timezone",
      'timezone: unknown time zone "Mars/Olympus"',
    ],
    [{ schedule: "@hourly", dst: "sometimes" }, "dst", 'dst: unknown value "sometimes"'],
    [{ schedule: "@hourly", n: "0" }, "n", 'invalid query: n: must be an integer from 1 to 1000, got "0"'],
    [{ schedule: "@hourly", from: "yesterday" }, "from", "invalid query: from: expected an RFC3339 time"],
    [{ schedule: "@hourly", from: "2026-02-30T00:00:00Z" }, "from", "invalid query: from: expected"],
    [{ schedule: "0 ~ * * * *" }, "name", "name: the schedule uses ~"],
  ])("refuses %j with a 400 naming %s", async (query, field, message) => {
    const { api } = await at("2026-01-01T00:00:00Z");
    const res = await api.get(`/v1/schedule/preview?${new URLSearchParams(query as Record<string, string>)}`);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorBody;
    expect(error).toMatchObject({ code: "VALIDATION", field });
    expect(error.message.startsWith(message), error.message).toBe(true);
  });
});
