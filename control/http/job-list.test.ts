import { afterEach, describe, expect, it } from "vitest";
import { AppError, type ControlParamsOf, type JobJson } from "../../shared";
import { finishExecution, MINUTE, putJob, startExecution, T0 } from "../../test/helpers/builders";
import { apply } from "../fsm";
import { nextFire } from "../scheduler";
import { listStoredJobs, openStateDb, type StateDb, type StoredJob } from "../store";
import { renderJob } from "./job-json";
import { listJobs } from "./job-list";

/** The fields GET /v1/jobs sorts by, as the list implementation before SQL knew them. */
const SORTS = [
  "name",
  "displayname",
  "schedule",
  "success_count",
  "error_count",
  "skipped_count",
  "last_success",
  "last_error",
  "next",
] as const;

/**
 * The oracle: the in-memory implementation the SQL listing replaced (filter, sort and slice every
 * rendered job in JavaScript), unchanged but for the prefix filter it was handed jobs through.
 */
function queryJobsInMemory(
  all: JobJson[],
  q: ControlParamsOf<"jobs.list">,
): { total: number; items: JobJson[] } {
  const sort = q.sort === "id" ? "name" : q.sort;
  if (!(SORTS as readonly string[]).includes(sort)) {
    throw new AppError("VALIDATION", `_sort: unknown field "${q.sort}"`, { field: "_sort" });
  }
  let list = all.filter((j) => {
    if (q.q && !j.name.includes(q.q) && !j.displayname.includes(q.q)) return false;
    if (q.status !== undefined && j.status !== (q.status === "untriggered" ? "" : q.status)) return false;
    if (q.disabled !== undefined && String(j.disabled) !== q.disabled) return false;
    for (const [k, v] of Object.entries(q.metadata ?? {})) if (j.metadata?.[k] !== v) return false;
    if (q.owner !== undefined && j.owner !== q.owner) return false;
    // A tag filter matches the tag's value without Dkron's `:count`.
    for (const [k, v] of Object.entries(q.tags ?? {})) if (j.tags?.[k]?.split(":")[0] !== v) return false;
    return true;
  });
  const key = sort as (typeof SORTS)[number];
  const dir = q.order === "DESC" ? -1 : 1;
  list = list.sort((a, b) => {
    const x = a[key] ?? "";
    const y = b[key] ?? "";
    const c = x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    return c * dir;
  });
  const total = list.length;
  const end = Math.min(q.end ?? total, total);
  if (q.start > end && q.start < total) {
    throw new AppError("VALIDATION", `_start: ${q.start} is after _end ${end}`, { field: "_start" });
  }
  return { total, items: list.slice(q.start, end) };
}

/** The job as the API shows it at `now` (what ControlService renders). */
const render = (j: StoredJob, now: number): JobJson => renderJob(j, now);

/** A small seeded PRNG (mulberry32): a failing case prints its seed and replays. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

const dbs: StateDb[] = [];
afterEach(() => {
  for (const s of dbs.splice(0)) s.close();
});

const SCHEDULES = [
  "@manually",
  "@every 1m",
  "@every 7m",
  "@every 1h",
  "0 */5 * * * *",
  "0 0 3 * * *",
  "@daily",
];
const WORDS = ["ab", "abc", "b", "ca", "x_y", "z-1", "é"];

/** A state database of `n` random jobs with random counters, statuses and due times. */
function randomJobs(seed: number, n: number): { s: StateDb; names: string[] } {
  const r = rng(seed);
  const s = openStateDb(":memory:");
  dbs.push(s);
  let index = 0;
  const names: string[] = [];
  const ok = (cmd: Parameters<typeof apply>[2]) => {
    const res = apply(s, ++index, cmd);
    if (!res.ok) throw new Error(`seed ${seed}: ${res.error.message}`);
    return res;
  };
  for (let i = 0; i < n; i++) {
    const name = `${r.pick(WORDS)}${r.pick(WORDS)}${i}`;
    const parent = names.length && r.next() < 0.1 ? r.pick(names) : "";
    const meta =
      r.next() < 0.7
        ? { team: r.pick(["a", "b", "c"]), ...(r.next() < 0.5 ? { env: r.pick(["p", "q"]) } : {}) }
        : null;
    const at = T0 + r.int(30) * MINUTE;
    const disabled = r.next() < 0.2;
    ok(
      putJob(
        {
          name,
          displayname: r.next() < 0.5 ? "" : `${r.pick(WORDS)} ${r.pick(WORDS)}`,
          schedule: parent ? "@manually" : r.pick(SCHEDULES),
          disabled,
          metadata: meta,
          owner: r.pick(["", "ops", "data"]),
          tags:
            r.next() < 0.5
              ? null
              : { role: r.pick(["web", "web:2", "db"]), ...(r.next() < 0.5 ? { dc: "x" } : {}) },
          ...(parent ? { parent_job: parent } : {}),
        },
        at,
      ),
    );
    names.push(name);
    // Some runs: counters, last_* and status, and (scheduled) a moved cursor.
    let startAt = T0 + 30 * MINUTE;
    for (let k = r.int(3); k > 0; k--) {
      const group = index + 1000;
      const scheduled = r.next() < 0.5 && !parent && !disabled;
      startAt += (1 + r.int(30)) * MINUTE;
      const st = ok(
        startExecution({
          job: name,
          group,
          at: startAt,
          scheduledAt: startAt,
          trigger: scheduled ? "schedule" : "manual",
          executions: [{ id: `${name}-${group}`, node: "r1" }],
        }),
      );
      if (st.value && "executions" in st.value && st.value.executions.length && r.next() < 0.8) {
        ok(
          finishExecution(`${name}-${group}`, {
            at: startAt + 1000,
            finishedAt: startAt + r.int(5000),
            success: r.next() < 0.6,
          }),
        );
      }
    }
  }
  return { s, names };
}

function randomQuery(
  r: ReturnType<typeof rng>,
  names: string[],
): { q: ControlParamsOf<"jobs.list">; prefix: string } {
  const name = r.pick(names);
  const start = r.next() < 0.3 ? 0 : r.int(names.length + 10);
  const q: ControlParamsOf<"jobs.list"> = {
    sort: r.pick([...SORTS, "id"]),
    order: r.pick(["ASC", "DESC"] as const),
    start,
    ...(r.next() < 0.7 ? { end: start + r.int(40) } : {}),
    // "zz" matches no job: `q` tested by name over an empty list.
    ...(r.next() < 0.3
      ? { q: r.next() < 0.1 ? "zz" : r.next() < 0.5 ? r.pick(WORDS) : name.slice(1, 3) }
      : {}),
    ...(r.next() < 0.3
      ? { status: r.pick(["success", "failed", "untriggered", "running", "partially_failed"]) }
      : {}),
    ...(r.next() < 0.3 ? { disabled: r.pick(["true", "false"] as const) } : {}),
    ...(r.next() < 0.3
      ? {
          metadata:
            r.next() < 0.7
              ? { team: r.pick(["a", "b", "c"]) }
              : { team: r.pick(["a", "b"]), env: r.pick(["p", "q"]) },
        }
      : {}),
    ...(r.next() < 0.2 ? { owner: r.pick(["", "ops", "data", "nobody"]) } : {}),
    ...(r.next() < 0.3
      ? { tags: r.next() < 0.7 ? { role: r.pick(["web", "db", "web:2"]) } : { role: "web", dc: "x" } }
      : {}),
  };
  return { q, prefix: r.next() < 0.7 ? "" : r.pick(["a", "ab", "b", "é", "x_", "zz", name]) };
}

const rendered = new WeakMap<StateDb, Map<number, JobJson[]>>();

/** Every job rendered at `now`, once per database and instant (the oracle's input). */
function renderAll(s: StateDb, now: number): JobJson[] {
  const m = rendered.get(s) ?? new Map<number, JobJson[]>();
  rendered.set(s, m);
  const all = m.get(now) ?? listStoredJobs(s).map((j) => render(j, now));
  m.set(now, all);
  return all;
}

function both(s: StateDb, q: ControlParamsOf<"jobs.list">, prefix: string, now: number, qByName?: number) {
  const run = <T>(f: () => T): T | { error: string } => {
    try {
      return f();
    } catch (e) {
      return { error: (e as AppError).code };
    }
  };
  const sql = run(() =>
    listJobs(
      { state: s, now, render: (j) => render(j, now), nextOf: (j) => nextFire(j, now), qByName },
      q,
      prefix,
    ),
  );
  const oracle = run(() =>
    queryJobsInMemory(
      renderAll(s, now).filter((j) => j.name.startsWith(prefix)),
      q,
    ),
  );
  return { sql, oracle };
}

describe("GET /v1/jobs in SQL against the in-memory listing", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`answers 300 random queries over 300 random jobs as the in-memory listing did (seed ${seed})`, () => {
      const { s, names } = randomJobs(seed, 300);
      const r = rng(seed * 7919);
      for (let i = 0; i < 300; i++) {
        const { q, prefix } = randomQuery(r, names);
        // Some instants leave many jobs overdue (next_fire passed, not started): `next` is merged.
        const now = T0 + r.pick([0, 45, 90, 24 * 60]) * MINUTE + 1234;
        // `q` tested by name (few matches) on odd queries, row by row (many) on even ones.
        const qByName = i % 2 ? undefined : 0;
        const { sql, oracle } = both(s, q, prefix, now, qByName);
        expect(sql, `seed ${seed} query ${i}: ${JSON.stringify({ q, prefix, now, qByName })}`).toEqual(
          oracle,
        );
      }
    });
  }

  it("sorting by next merges the jobs due now into the page at their real next", () => {
    const { s } = randomJobs(9, 200);
    // 45 minutes on some jobs are due; a day later every scheduled job's next_fire has passed, so all
    // of them are merged in JavaScript. The filters take each way to the due jobs and the page: by
    // the next_fire index or by the entry's list, the page by the (name, next_fire) index or by rows.
    const filters: Partial<ControlParamsOf<"jobs.list">>[] = [
      {},
      { metadata: { team: "a" } },
      { metadata: { team: "a", env: "p" } },
      { metadata: { env: "p", team: "b" }, tags: { role: "db" } },
      { tags: { role: "web" } },
      { tags: { role: "web" }, status: "untriggered" },
      { metadata: { team: "c" }, disabled: "false" },
    ];
    for (const now of [T0 + 45 * MINUTE + 1234, T0 + 24 * 60 * MINUTE + 1234]) {
      for (const filter of filters) {
        for (const order of ["ASC", "DESC"] as const) {
          for (const start of [0, 1, 5, 50, 120, 190, 199, 200, 250]) {
            for (const len of [1, 3, 25, 100]) {
              const q = { ...filter, sort: "next", order, start, end: start + len };
              const { sql, oracle } = both(s, q, "", now);
              expect(sql, `${JSON.stringify(filter)} at ${now} ${order} ${start}+${len}`).toEqual(oracle);
            }
          }
        }
      }
    }
  });

  it("a prefix-limited listing sees only the names that start with the prefix, % and _ included", () => {
    const s = openStateDb(":memory:");
    dbs.push(s);
    const names = ["a_b", "a-b", "axb", "a_", "ab", "b_a", "a"];
    for (const [i, name] of names.entries()) apply(s, i + 1, putJob({ name, schedule: "@manually" }));
    const now = T0;
    const list = (prefix: string) =>
      listJobs(
        { state: s, now, render: (j) => render(j, now), nextOf: (j) => nextFire(j, now) },
        { sort: "name", order: "ASC", start: 0 },
        prefix,
      );
    expect(list("a_").items.map((j) => j.name)).toEqual(["a_", "a_b"]);
    expect(list("a_").total).toBe(2);
    // Neither _ nor % is a wildcard here.
    expect(list("a%").items).toEqual([]);
    expect(list("a-").items.map((j) => j.name)).toEqual(["a-b"]);
    expect(list("").total).toBe(names.length);
    expect(list("c").items).toEqual([]);
  });
});
