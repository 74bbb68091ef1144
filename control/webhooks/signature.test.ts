import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isAppError } from "../../shared";
import { mintHook } from "./mint";
import { verifyDelivery } from "./signature";

const SECRET = "whsec_test-secret-0123456789abcdefghijkl";
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const TS = String(NOW / 1000);
const BODY = '{"ref":"refs/heads/main"}';

/** What a sender computes, written out apart from the code under test. */
const sign = (secret: string, text: string) =>
  `sha256=${createHmac("sha256", secret).update(text).digest("hex")}`;

/** The AppError a call throws (code, message, details), or fails the test. */
function refusal(f: () => unknown): { code: string; message: string; details?: Record<string, unknown> } {
  try {
    f();
  } catch (e) {
    if (isAppError(e)) return e as never;
    throw e;
  }
  throw new Error("expected a refusal");
}

describe("verifyDelivery: our scheme (timestamp + body)", () => {
  it("accepts a good signature; the delivery id defaults to the signature, or is the header's", () => {
    const signature = sign(SECRET, `${TS}.${BODY}`);
    const v = verifyDelivery({ secret: SECRET, body: BODY, headers: { timestamp: TS, signature }, now: NOW });
    const hex = signature.slice("sha256=".length);
    expect(v).toEqual({ scheme: "dkron", id: hex, signature: hex });
    const named = verifyDelivery({
      secret: SECRET,
      body: BODY,
      headers: {
        timestamp: TS,
        signature: signature.toUpperCase().replace("SHA256=", "sha256="),
        delivery: " d-1 ",
      },
      now: NOW,
    });
    // The unsigned id names the delivery; the signature stays a second replay key.
    expect(named).toEqual({ scheme: "dkron", id: "d-1", signature: hex });
  });

  it("refuses a signature over another body, another timestamp, or with another secret", () => {
    const cases = [
      sign(SECRET, `${TS}.${BODY} `),
      sign(SECRET, `${Number(TS) + 1}.${BODY}`),
      sign(SECRET, BODY),
      sign("whsec_other", `${TS}.${BODY}`),
    ];
    for (const signature of cases) {
      const e = refusal(() =>
        verifyDelivery({ secret: SECRET, body: BODY, headers: { timestamp: TS, signature }, now: NOW }),
      );
      expect(e.code).toBe("UNAUTHORIZED");
      expect(e.message).toContain("X-Dkron-Signature does not match");
    }
  });

  it("refuses malformed or missing headers, naming them", () => {
    const good = sign(SECRET, `${TS}.${BODY}`);
    const cases: [Record<string, string>, string][] = [
      [{}, "missing signature"],
      [{ signature: good }, "needs X-Dkron-Timestamp"],
      [{ timestamp: TS, signature: good.slice(7) }, 'must be "sha256="'],
      [{ timestamp: TS, signature: "sha256=zz" }, 'must be "sha256="'],
      [{ timestamp: "yesterday", signature: sign(SECRET, `yesterday.${BODY}`) }, "must be unix seconds"],
    ];
    for (const [headers, text] of cases) {
      const e = refusal(() => verifyDelivery({ secret: SECRET, body: BODY, headers, now: NOW }));
      expect(e.code, text).toBe("UNAUTHORIZED");
      expect(e.message).toContain(text);
    }
  });

  it("refuses a timestamp outside ±5 minutes of control's clock, naming the window", () => {
    for (const offset of [-301, 301, -86_400]) {
      const ts = String(Number(TS) + offset);
      const e = refusal(() =>
        verifyDelivery({
          secret: SECRET,
          body: BODY,
          headers: { timestamp: ts, signature: sign(SECRET, `${ts}.${BODY}`) },
          now: NOW,
        }),
      );
      expect(e.code).toBe("UNAUTHORIZED");
      expect(e.message).toContain("within 5 minutes");
      expect(e.details).toMatchObject({ field: "timestamp", tolerance_s: 300 });
    }
    // The edges of the window are in it.
    for (const offset of [-300, 300]) {
      const ts = String(Number(TS) + offset);
      const v = verifyDelivery({
        secret: SECRET,
        body: BODY,
        headers: { timestamp: ts, signature: sign(SECRET, `${ts}.${BODY}`) },
        now: NOW,
      });
      expect(v.scheme).toBe("dkron");
    }
  });

  it("checks the signature before the timestamp: without the secret, a stale request learns nothing more", () => {
    const e = refusal(() =>
      verifyDelivery({
        secret: SECRET,
        body: BODY,
        headers: { timestamp: "1", signature: sign("wrong", `1.${BODY}`) },
        now: NOW,
      }),
    );
    expect(e.message).toContain("does not match");
  });

  it("refuses an unusable delivery id", () => {
    const e = refusal(() =>
      verifyDelivery({
        secret: SECRET,
        body: BODY,
        headers: { timestamp: TS, signature: sign(SECRET, `${TS}.${BODY}`), delivery: "x".repeat(201) },
        now: NOW,
      }),
    );
    expect(e.code).toBe("BAD_REQUEST");
  });
});

describe("verifyDelivery: GitHub's X-Hub-Signature-256", () => {
  it("accepts GitHub's signature over the body, keyed on X-GitHub-Delivery", () => {
    const v = verifyDelivery({
      secret: SECRET,
      body: BODY,
      headers: {
        github_signature: sign(SECRET, BODY),
        github_delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      },
      now: NOW,
    });
    expect(v).toMatchObject({ scheme: "github", id: "72d3162e-cc78-11e3-81ab-4c9367dc0958" });
    expect(v.signature).toBe(sign(SECRET, BODY).slice("sha256=".length));
  });

  it("matches GitHub's documented example (secret, body, signature)", () => {
    // docs.github.com, "Validating webhook deliveries": "It's a Secret to Everybody" / "Hello, World!".
    const v = verifyDelivery({
      secret: "It's a Secret to Everybody",
      body: "Hello, World!",
      headers: {
        github_signature: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
      },
      now: NOW,
    });
    expect(v.id).toBe("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  });

  it("refuses a GitHub signature made with another secret, and needs no timestamp", () => {
    const e = refusal(() =>
      verifyDelivery({
        secret: SECRET,
        body: BODY,
        headers: { github_signature: sign("x", BODY) },
        now: NOW,
      }),
    );
    expect(e.code).toBe("UNAUTHORIZED");
    expect(e.message).toContain("X-Hub-Signature-256 does not match");
  });

  it("prefers our timestamped scheme when both are sent", () => {
    const e = refusal(() =>
      verifyDelivery({
        secret: SECRET,
        body: BODY,
        headers: {
          github_signature: sign(SECRET, BODY),
          signature: sign("x", `${TS}.${BODY}`),
          timestamp: TS,
        },
        now: NOW,
      }),
    );
    expect(e.message).toContain("X-Dkron-Signature");
  });
});

describe("mintHook", () => {
  it("makes a 16-character id and a prefixed secret from a random source", () => {
    let n = 0;
    const random = () => `${String(++n).padStart(4, "0")}+/=abcdefghijklmnop`;
    const { id, secret } = mintHook(random);
    expect(id).toBe("0001abcdefghijkl");
    expect(secret.startsWith("whsec_")).toBe(true);
    expect(secret.length).toBeGreaterThanOrEqual(6 + 32);
    expect(() => mintHook(() => "short")).toThrow(/16 base64url/);
  });
});
