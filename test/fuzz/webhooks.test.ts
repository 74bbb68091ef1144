/**
 * Fuzzing webhook deliveries (issue 10 point 6): POST /hooks/:id with random bodies (JSON, unicode,
 * binary, byte order marks, empty) and signatures that are right, or right and then mutated (a hex
 * digit, the case, the scheme, the timestamp, its window, the body or secret signed, the delivery
 * id, both schemes at once), and random hook ids, against the real app and store. Never a 5xx; the
 * job runs (202, a new webhook execution, a run sent to the runner) exactly when the delivery is
 * correctly signed, within the window, not a replay, for an enabled job; otherwise nothing changes.
 *
 * Seeds: test/fuzz/fuzz.ts (FUZZ_SEED, FUZZ_PATH, FUZZ_RUNS); docs/testing.md.
 */
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe } from "vitest";
import { MAX_DELIVERY_ID, WEBHOOK_TOLERANCE_MS } from "../../shared/webhook";
import { fuzz } from "./fuzz";
import { headerValue } from "./gen-headers";
import { nastyString } from "./gen-jobs";
import { type Answer, FuzzFailure, type FuzzWorld, inWorld, printable, type Req } from "./world";

/** The hooks of a world: one on an enabled job that runs on the runner, one on a disabled job. */
interface Hooks {
  live: { id: string; secret: string; job: string };
  off: { id: string; secret: string; job: string };
}

const body = fc.oneof(
  { weight: 3, arbitrary: fc.json().map((t) => new TextEncoder().encode(t)) },
  { weight: 2, arbitrary: nastyString.map((s) => new TextEncoder().encode(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  fc.constantFrom(
    new Uint8Array(0),
    new TextEncoder().encode('\ufeff{"ref":"main"}'),
    new Uint8Array([0xff, 0xfe, 0x00, 0x41]),
    new Uint8Array([0xc3, 0x28]),
    new TextEncoder().encode("a=1&b=%zz"),
    new TextEncoder().encode("x".repeat(70_000)),
  ),
);

/** How a delivery is signed: our scheme, GitHub's, both, none, each maybe spoiled one way. */
interface Signing {
  scheme: "dkron" | "github" | "both" | "none";
  /** Seconds between the signed timestamp and control's clock. */
  skew: number;
  spoil:
    | "none"
    | "digit"
    | "upper"
    | "pad"
    | "sha1"
    | "other-secret"
    | "other-body"
    | "header-ts-differs"
    | "no-ts"
    | "junk-ts"
    | "junk-sig";
  delivery: string | undefined;
  junk: string;
}

const signing: fc.Arbitrary<Signing> = fc.record({
  scheme: fc.constantFrom("dkron", "dkron", "github", "both", "none"),
  skew: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: -60, max: 60 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(-301, -300, 300, 301, -86_400, 10 ** 9, -(10 ** 9)),
    },
  ),
  spoil: fc.oneof(
    { weight: 4, arbitrary: fc.constant("none" as const) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        "digit" as const,
        "upper" as const,
        "pad" as const,
        "sha1" as const,
        "other-secret" as const,
        "other-body" as const,
        "header-ts-differs" as const,
        "no-ts" as const,
        "junk-ts" as const,
        "junk-sig" as const,
      ),
    },
  ),
  delivery: fc.option(
    fc.oneof(
      fc.constantFrom("evt-1", "evt-2", " evt-1 ", "", "x".repeat(MAX_DELIVERY_ID + 1), "a\tb"),
      headerValue,
    ),
    { nil: undefined, freq: 3 },
  ),
  junk: headerValue,
});

const hmac = (secret: string, data: Uint8Array) => createHmac("sha256", secret).update(data).digest("hex");
const concat = (a: string, b: Uint8Array) => {
  const head = new TextEncoder().encode(a);
  const out = new Uint8Array(head.length + b.length);
  out.set(head);
  out.set(b, head.length);
  return out;
};

/** The signature headers of `s` for `raw` under `secret`, at control's `now`. */
function sign(s: Signing, raw: Uint8Array<ArrayBuffer>, secret: string, now: number): [string, string][] {
  const ts = String(Math.floor(now / 1000) + s.skew);
  const key = s.spoil === "other-secret" ? `${secret}x` : secret;
  const signed = s.spoil === "other-body" ? concat("", new TextEncoder().encode("other")) : raw;
  const spoilHex = (hex: string) =>
    s.spoil === "digit"
      ? `${hex[0] === "0" ? "1" : "0"}${hex.slice(1)}`
      : s.spoil === "upper"
        ? hex.toUpperCase()
        : hex;
  const value = (hex: string) =>
    s.spoil === "junk-sig"
      ? s.junk
      : s.spoil === "sha1"
        ? `sha1=${spoilHex(hex).slice(0, 40)}`
        : s.spoil === "pad"
          ? ` sha256=${hex} `
          : `sha256=${spoilHex(hex)}`;
  const out: [string, string][] = [];
  if (s.scheme === "dkron" || s.scheme === "both") {
    out.push(["X-Dkron-Signature", value(hmac(key, concat(`${ts}.`, signed)))]);
    if (s.spoil !== "no-ts")
      out.push([
        "X-Dkron-Timestamp",
        s.spoil === "junk-ts" ? s.junk : s.spoil === "header-ts-differs" ? String(Number(ts) + 1) : ts,
      ]);
    if (s.delivery !== undefined) out.push(["X-Dkron-Delivery", s.delivery]);
  }
  if (s.scheme === "github" || s.scheme === "both") {
    out.push(["X-Hub-Signature-256", value(hmac(key, signed))]);
    if (s.delivery !== undefined) out.push(["X-GitHub-Delivery", s.delivery]);
  }
  return out;
}

/** Whether a delivery must be accepted, and the id its replay check keys on. */
function expected(
  s: Signing,
  raw: Uint8Array<ArrayBuffer>,
  secret: string,
  now: number,
): { ok: boolean; id: string } {
  // A body that is not UTF-8 cannot be handed on as text: refused (400) before its signature.
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    return { ok: false, id: "" };
  }
  const scheme = s.scheme === "both" ? "dkron" : s.scheme;
  // GitHub's scheme signs no timestamp, so spoiling the timestamp header spoils nothing there.
  const harmless =
    scheme === "github"
      ? ["none", "upper", "pad", "no-ts", "junk-ts", "header-ts-differs"]
      : ["none", "upper", "pad"];
  const signedRight = harmless.includes(s.spoil);
  if (scheme === "none" || !signedRight) return { ok: false, id: "" };
  if (scheme === "dkron" && Math.abs(s.skew * 1000) > WEBHOOK_TOLERANCE_MS) return { ok: false, id: "" };
  const id = s.delivery?.trim();
  if (id && (id.length > MAX_DELIVERY_ID || /[\u0000-\u001f]/.test(id))) return { ok: false, id: "" };
  const ts = String(Math.floor(now / 1000) + s.skew);
  const sig = scheme === "dkron" ? hmac(secret, concat(`${ts}.`, raw)) : hmac(secret, raw);
  return { ok: true, id: id || sig };
}

const target = fc.oneof(
  { weight: 6, arbitrary: fc.constant("live" as const) },
  { weight: 1, arbitrary: fc.constant("off" as const) },
  { weight: 1, arbitrary: fc.constantFrom("ghost", "%00", "", "..", "whk_x") },
);

const delivery = fc.record({
  target,
  body,
  signing,
  via: fc.constantFrom("app" as const, "worker" as const),
  type: fc.constantFrom("application/json", "application/x-www-form-urlencoded", "text/plain", undefined),
});

async function hook(w: FuzzWorld, job: string): Promise<{ id: string; secret: string; job: string }> {
  const res = await w.send({ method: "POST", path: "/v1/webhooks", body: JSON.stringify({ job }) });
  if (res.status !== 201) throw new Error(`creating a hook: ${res.status} ${res.text}`);
  const { id, secret } = res.json as { id: string; secret: string };
  return { id, secret, job };
}

const webhookRuns = (w: FuzzWorld, job: string) =>
  w.h.executions(job).filter((e) => e.trigger === "webhook").length;

describe("fuzz: webhooks", () => {
  fuzz(
    "POST /hooks/:id with random bodies and right, spoiled and missing signatures: never 5xx, runs exactly when correctly signed",
    fc.array(delivery, { minLength: 1, maxLength: 5 }),
    (cases) =>
      inWorld(async (w) => {
        const made = await w.send({
          method: "POST",
          path: "/v1/jobs",
          body: JSON.stringify({
            name: "fz-hooked",
            schedule: "@manually",
            executor: "shell",
            executor_config: { command: "true" },
          }),
        });
        if (made.status !== 201) throw new Error(`fz-hooked: ${made.text}`);
        const hooks: Hooks = { live: await hook(w, "fz-hooked"), off: await hook(w, "base-http") };
        const accepted = new Set<string>();
        for (const c of cases) {
          const h = c.target === "live" || c.target === "off" ? hooks[c.target] : undefined;
          const secret = h?.secret ?? "whsec_none";
          const now = w.h.clock.now();
          const req = printable({
            method: "POST",
            path: `/hooks/${h?.id ?? c.target}`,
            body: c.body,
            headers: [
              ...(c.type ? [["content-type", c.type] as [string, string]] : []),
              ...sign(c.signing, c.body, secret, now),
            ],
            as: "anonymous" as const,
            via: c.via,
          });
          const runsBefore = webhookRuns(w, "fz-hooked");
          const framesBefore = w.h.hub.runs().length;
          const ans = await w.check(req);
          const want = expected(c.signing, c.body, secret, now);
          const runs = h === hooks.live && want.ok && !accepted.has(want.id);
          if (runs) accepted.add(want.id);
          checkDelivery(
            req,
            ans,
            runs,
            webhookRuns(w, "fz-hooked") - runsBefore,
            w.h.hub.runs().length - framesBefore,
          );
          if (ans.status === 202 && h === hooks.off)
            throw new FuzzFailure(req, ans, "a delivery ran a disabled job");
        }
      }),
    40,
  );
});

function checkDelivery(req: Req, ans: Answer, runs: boolean, newRuns: number, newFrames: number): void {
  if (runs) {
    if (ans.status !== 202) throw new FuzzFailure(req, ans, "a correctly signed delivery was refused");
    if (newRuns !== 1 || newFrames !== 1)
      throw new FuzzFailure(
        req,
        ans,
        `accepted, but ${newRuns} webhook execution(s) and ${newFrames} run(s) sent`,
      );
    return;
  }
  if (ans.status < 400)
    throw new FuzzFailure(req, ans, "a delivery that is not correctly signed (or a replay) ran");
  if (newRuns !== 0 || newFrames !== 0) throw new FuzzFailure(req, ans, "a refused delivery ran the job");
}
