import fc from "fast-check";
import { BASE_JOBS } from "./world";

// Generators of job bodies: valid ones across the schema (shell and http executors, cron, @every,
// @at, descriptors, zones, DST policies, tags, metadata, retries, parents, concurrency...), junk
// values of every JSON type, and mutations that turn a valid body into an almost-valid one.

/** Strings with the characters that break things: unicode, controls, quotes, surrogates, RTL. */
export const nastyString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\ud800",
    "\udfff",
    "\u202e",
    "\ufeff",
    "é",
    "Ж",
    "😀",
    "\r\n",
    "'",
    '"',
    "\\",
    "%",
    "%zz",
    "../..",
    "NaN",
    "Infinity",
    "-Infinity",
    "-0",
    "0x10",
    "1e999",
    "null",
    "true",
    "undefined",
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
    "<script>",
  ),
);

/** A long string of one repeated piece: cheap to make and to shrink, long enough to hit limits. */
export const hugeString = fc
  .record({
    piece: fc.constantFrom("x", "é", "😀", "\u0000", " ", "ab"),
    n: fc.oneof(fc.integer({ min: 200, max: 5_000 }), fc.integer({ min: 60_000, max: 300_000 })),
  })
  .map(({ piece, n }) => piece.repeat(n));

/** Numbers at and past the edges: limits of the schema, of doubles, of safe integers. */
export const edgeNumber = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    0.5,
    100,
    101,
    200,
    201,
    1024,
    65_536,
    2 ** 31,
    2 ** 32,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    -Number.MAX_SAFE_INTEGER - 2,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    1e21,
    8.64e15,
    8.64e15 + 1,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Keys that objects in JavaScript treat specially. */
export const protoKey = fc.constantFrom(
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
);

/** Any JSON value, nested a little, with nasty strings and edge numbers among the leaves. */
export const junkValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    edgeNumber,
    nastyString,
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(fc.oneof(nastyString, protoKey), tie("v"), { maxKeys: 3 }),
  ),
})).v;

const name = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^fz-[a-z0-9_-]{1,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom(...BASE_JOBS) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.constantFrom("a", "z", "0", "_", "-", "é", "ж", "ß", "ǆ", "ı"), {
        minLength: 1,
        maxLength: 10,
      })
      .map((cs) => cs.join("")),
  },
);

/** Cron fields by position (seconds first), each value valid there. */
const CRON_FIELDS = [
  ["0", "*", "*/5", "0/15", "10-50/10", "30"],
  ["0", "*", "*/5", "15", "0-30/10", "1,31"],
  ["*", "0", "2", "*/6", "1-3", "9-17"],
  ["*", "1", "15", "1-5", "?", "29"],
  ["*", "1", "JAN", "*/3", "2", "10-12"],
  ["*", "?", "MON-FRI", "0", "1,3,5", "SUN"],
];

const cron = fc.tuple(...CRON_FIELDS.map((f) => fc.constantFrom(...f)), fc.boolean()).map((fields) => {
  const six = fields.slice(0, 6) as string[];
  // Five fields (no seconds) are standard cron; Dkron reads both.
  return (fields[6] ? six.slice(1) : six).join(" ");
});

const instant = fc
  .date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2200-01-01T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString());

const schedule = fc.oneof(
  cron,
  fc.constantFrom("1m", "30s", "1h30m", "1.5h", "1s", "24h", "2562047h").map((d) => `@every ${d}`),
  instant.map((t) => `@at ${t}`),
  fc.constantFrom(
    "@yearly",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
    "@minutely",
    "@manually",
    "TZ=Europe/Berlin 0 0 2 * * *",
    "CRON_TZ=America/New_York 0 30 1 * * *",
    "0 0 0 30 2 *",
  ),
);

/** Schedule values that are strings but no schedule: each is refused naming `schedule`. */
export const badSchedule = fc.constantFrom(
  "",
  " ",
  "@reboot",
  "@every",
  "@every 0s",
  "@every -1s",
  "@every 1us",
  "@every 500ms",
  "@every 99999999999h",
  "@at",
  "@at yesterday",
  "@at 275760-09-13T00:00:01Z",
  "@at -271821-04-20T00:00:00Z",
  "60 * * * * *",
  "* * * * * * *",
  "* *",
  "0 0 31 2 *",
  "L L L L L L",
  "TZ= 0 0 * * *",
  "TZ=Mars/Olympus 0 0 * * *",
  "~ ~ * * * *",
  "*/0 * * * * *",
  "1-0 * * * * *",
  "0 0 2#9 * * *",
  "0".repeat(300),
);

const timezone = fc.constantFrom(
  "",
  "UTC",
  "Europe/Berlin",
  "America/New_York",
  "Asia/Kathmandu",
  "Australia/Lord_Howe",
  "Antarctica/Troll",
  "Etc/GMT+12",
);

/** Time zone values that are strings but no zone. */
export const badTimezone = fc.constantFrom(
  "Local",
  "Mars/Olympus",
  "europe/berlin",
  "UTC+1",
  "../etc/passwd",
  "GMT+25",
  " UTC",
);

const dst = fc.constantFrom(
  "auto",
  "once",
  "twice",
  "skip",
  "transition",
  "twice,skip",
  "once transition",
  "",
);

/** DST values that are strings but no policy. */
export const badDst = fc.constantFrom(
  "sometimes",
  "once,twice",
  "skip,transition",
  ",",
  "AUTO!",
  "once once",
);

const smallMap = (value: fc.Arbitrary<string>) =>
  fc.dictionary(fc.stringMatching(/^[a-z_]{1,8}$/), value, { maxKeys: 3 });

const shellConfig = fc.record(
  {
    command: fc.constantFrom("echo hi", "true", "ls -la /tmp", "echo 'a b'", 'sh -c "exit 1"', "echo $HOME"),
    shell: fc.constantFrom("true", "false", ""),
    env: fc.constantFrom("A=1,B=2", "PATH=/bin", ""),
    cwd: fc.constantFrom("/tmp", ""),
    timeout: fc.constantFrom("30s", "1h", "0", "500ms"),
    mem_limit: fc.constantFrom("100M", ""),
  },
  { requiredKeys: ["command"] },
);

const httpConfig = fc.record(
  {
    url: fc.constantFrom("http://example.test/x", "https://example.test:8443/hook?a=1"),
    method: fc.constantFrom("GET", "POST", "put", "DELETE"),
    headers: fc.constantFrom('["Content-Type: application/json"]', "[]", '["Authorization: Basic a:b"]'),
    body: fc.constantFrom("{}", "hello", ""),
    timeout: fc.constantFrom("30", "0", "5"),
    expectCode: fc.constantFrom("200", "200,201", ""),
    expectBody: fc.constantFrom("ok.*", ""),
  },
  { requiredKeys: ["url", "method"] },
);

/** A job body the API should accept (most of the time: the schedule/zone/dst pools hold some bad values). */
export const validJob: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      name,
      schedule,
      timezone,
      dst,
      displayname: fc.string({ maxLength: 10 }),
      owner: fc.string({ maxLength: 10 }),
      owner_email: fc.constantFrom("ops@example.test", ""),
      disabled: fc.boolean(),
      tags: smallMap(fc.constantFrom("worker", "worker:1", "web:2", "true")),
      metadata: smallMap(fc.string({ maxLength: 8 })),
      retries: fc.integer({ min: 0, max: 5 }),
      parent_job: fc.constantFrom("", "", "", "base-parent", "base-shell"),
      concurrency: fc.constantFrom("allow", "forbid", ""),
      catchup: fc.constantFrom("latest", "none", "all"),
      catchup_deadline: fc.constantFrom(0, 60_000, 3_600_000),
      ephemeral: fc.boolean(),
      window: fc.option(fc.tuple(fc.option(instant, { nil: null }), fc.option(instant, { nil: null })), {
        nil: undefined,
      }),
      processors: fc.constantFrom({}, { log: { forward: "true" } }, null),
      executor: fc.constant("shell"),
      executor_config: shellConfig as fc.Arbitrary<Record<string, string>>,
    },
    { requiredKeys: ["name", "schedule", "executor", "executor_config"] },
  )
  .map(({ window, ...job }) => {
    if (!window) return job;
    // A run window ends after it starts.
    const [a, b] = window;
    const [starts, expires] = a !== null && b !== null && b <= a ? [b, a] : [a, b];
    return starts === expires ? job : { ...job, starts_at: starts, expires_at: expires };
  })
  .chain((job) =>
    fc
      .boolean()
      .map((http) =>
        http
          ? { ...job, executor: "http", executor_config: undefined as unknown }
          : (job as Record<string, unknown>),
      ),
  )
  .chain((job) =>
    job.executor === "http"
      ? httpConfig.map((executor_config) => ({ ...job, executor_config }))
      : fc.constant(job),
  );

/** One change to a JSON object at one of its paths (which path: `at`, modulo how many there are). */
type Mutation =
  | { op: "delete"; at: number }
  | { op: "set"; at: number; value: unknown }
  | { op: "add"; at: number; key: string; value: unknown }
  | { op: "huge"; at: number; value: string }
  | { op: "edge"; at: number; value: number }
  | { op: "stringify"; at: number }
  | { op: "field"; key: string; value: unknown }
  | { op: "mapKey"; map: string; key: string; value: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), value: junkValue }),
  fc.record({
    op: fc.constant("add" as const),
    at: fc.nat(),
    key: fc.oneof(protoKey, nastyString),
    value: junkValue,
  }),
  fc.record({ op: fc.constant("huge" as const), at: fc.nat(), value: hugeString }),
  fc.record({ op: fc.constant("edge" as const), at: fc.nat(), value: edgeNumber }),
  fc.record({ op: fc.constant("stringify" as const), at: fc.nat() }),
  // A key JavaScript treats specially, with a value valid in the map (so only the key can be wrong).
  fc.record({
    op: fc.constant("mapKey" as const),
    map: fc.constantFrom("tags", "metadata", "executor_config"),
    key: protoKey,
    value: fc.constantFrom("x", "web:1", "1"),
  }),
  // A known field set to a value of the right type that is still wrong there.
  fc.oneof(
    fc.record({ op: fc.constant("field" as const), key: fc.constant("schedule"), value: badSchedule }),
    fc.record({ op: fc.constant("field" as const), key: fc.constant("timezone"), value: badTimezone }),
    fc.record({ op: fc.constant("field" as const), key: fc.constant("dst"), value: badDst }),
    fc.record({
      op: fc.constant("field" as const),
      key: fc.constantFrom("parent_job", "name"),
      value: fc.constantFrom(
        "ghost",
        "base-child",
        "Base",
        "a b",
        "a/b",
        "",
        "x".repeat(201),
        "é".repeat(200),
      ),
    }),
    fc.record({
      op: fc.constant("field" as const),
      key: fc.constantFrom("retries", "catchup_deadline"),
      value: fc.constantFrom(-1, 0.5, 100, 101, 2 ** 31, Number.MAX_SAFE_INTEGER + 2, "3"),
    }),
    fc.record({
      op: fc.constant("field" as const),
      key: fc.constantFrom("concurrency", "catchup", "executor"),
      value: fc.constantFrom("Allow", "forbid ", "sometimes", "docker", "", "SHELL"),
    }),
    fc.record({
      op: fc.constant("field" as const),
      key: fc.constantFrom("starts_at", "expires_at"),
      value: fc.constantFrom(
        "2026-01-01",
        "0001-01-01T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "now",
        0,
        -1,
        1e15,
      ),
    }),
  ),
);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The objects of `root` (itself and its object values, two levels down) and their keys. */
function places(root: Obj): { obj: Obj; key: string }[] {
  const out: { obj: Obj; key: string }[] = [];
  const walk = (o: Obj, depth: number) => {
    for (const key of Object.keys(o)) {
      out.push({ obj: o, key });
      const v = o[key];
      if (depth < 2 && isObj(v)) walk(v, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/** Defines a property as data (so "__proto__" becomes a key, as JSON.parse makes it, not a prototype). */
function put(o: Obj, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function applyMutation(job: Obj, m: Mutation): Obj {
  const copy = JSON.parse(JSON.stringify(job)) as Obj;
  if (m.op === "field") {
    put(copy, m.key, m.value);
    return copy;
  }
  if (m.op === "mapKey") {
    const map = isObj(copy[m.map]) ? (copy[m.map] as Obj) : {};
    put(map, m.key, m.value);
    put(copy, m.map, map);
    return copy;
  }
  const all = places(copy);
  if (all.length === 0) return copy;
  const { obj, key } = all[m.at % all.length]!;
  switch (m.op) {
    case "delete":
      delete obj[key];
      break;
    case "set":
      put(obj, key, m.value);
      break;
    case "add": {
      const target = isObj(obj[key]) ? (obj[key] as Obj) : obj;
      put(target, m.key, m.value);
      break;
    }
    case "huge":
      put(obj, key, m.value);
      break;
    case "edge":
      put(obj, key, m.value);
      break;
    case "stringify":
      put(obj, key, typeof obj[key] === "string" ? Number(obj[key]) : JSON.stringify(obj[key]));
      break;
  }
  return copy;
}

/** A valid job with 1 to 4 mutations: dropped fields, wrong types, huge strings, prototype keys, edge numbers. */
export const mutatedJob: fc.Arbitrary<Obj> = fc
  .tuple(validJob, fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([job, ms]) => ms.reduce(applyMutation, job));

/** Changes to the JSON text itself, past what a value can say (numbers JSON.parse rounds, nesting, syntax). */
const textMutation = fc.oneof(
  fc.record({ op: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.constantFrom(",", "}", "{", '"', "\\", "\u0000", "NaN", "/*x*/", "\ud800"),
  }),
  fc.record({
    op: fc.constant("number" as const),
    text: fc.constantFrom(
      "1e999",
      "-1e999",
      "-0",
      "1.0000000000000002",
      "123456789012345678901234567890",
      "0.1e-400",
    ),
  }),
  fc.record({
    op: fc.constant("nest" as const),
    depth: fc.constantFrom(10, 100, 1_000, 5_000, 50_000),
    open: fc.constantFrom("[", '{"a":'),
  }),
  fc.record({
    op: fc.constant("dupkey" as const),
    text: fc.constantFrom('"name":"fz-dup"', '"name":1', '"executor":"nope"'),
  }),
  fc.constant({ op: "bom" as const }),
);

type TextMutation = typeof textMutation extends fc.Arbitrary<infer T> ? T : never;

function mutateText(text: string, t: TextMutation): string {
  switch (t.op) {
    case "cut":
      return text.slice(0, t.at % (text.length + 1));
    case "insert": {
      const at = t.at % (text.length + 1);
      return text.slice(0, at) + t.text + text.slice(at);
    }
    case "number":
      return text.replace(/(?<=[:[,])-?\d+(\.\d+)?([eE][-+]?\d+)?(?=[,\]}])/, t.text);
    case "nest": {
      const close = t.open === "[" ? "]" : "}";
      const deep = `${t.open.repeat(t.depth)}1${close.repeat(t.depth)}`;
      return text.startsWith("{") && text.length > 2 ? `{"junk":${deep},${text.slice(1)}` : deep;
    }
    case "dupkey":
      return text.startsWith("{") ? `{${t.text},${text.slice(1)}` : text;
    case "bom":
      return `\ufeff${text}`;
  }
}

/** Serializes a value, then maybe changes the text (so the body may not even be JSON). */
export function jobText(job: unknown): fc.Arbitrary<string> {
  return fc
    .option(textMutation, { nil: undefined, freq: 2 })
    .map((t) => (t ? mutateText(JSON.stringify(job) ?? "null", t) : (JSON.stringify(job) ?? "null")));
}

/** A job body for POST/PUT/PATCH: random JSON, a valid job, or a mutated one, maybe broken as text. */
export const jobBody: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 1, arbitrary: junkValue },
    { weight: 3, arbitrary: validJob },
    { weight: 6, arbitrary: mutatedJob },
  )
  .chain((job) => jobText(job));
