import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { isAppError } from "../../shared";
import { caller } from "../middleware/caller";
import {
  CSRF_COOKIE,
  checkCsrf,
  insecureOriginReason,
  SESSION_COOKIE,
  session,
  startSession,
} from "./session";

let n = 0;
/** Deterministic "random" bytes: a different token each call. */
const bytes = (len: number) => Uint8Array.from({ length: len }, (_, i) => (i * 7 + n++) % 256);

function app() {
  const a = new Hono();
  a.use(
    "*",
    caller(() => "127.0.0.1"),
  );
  a.use("*", session(bytes));
  a.onError((e, c) =>
    c.text(isAppError(e) ? `${e.code}: ${e.message}` : String(e), isAppError(e) ? 403 : 500),
  );
  a.get("/ui/form", (c) => c.text(c.var.csrf));
  a.post("/ui/act", async (c) => {
    checkCsrf(c, (await c.req.parseBody()) as Record<string, unknown>);
    return c.text("done");
  });
  a.post("/ui/sign-in", (c) => {
    startSession(c, "dkt.secret", bytes);
    return c.text(c.var.csrf);
  });
  a.get("/ui/sign-in", (c) => c.text(insecureOriginReason(c) ?? "ok"));
  return a;
}

const cookieOf = (res: Response, name: string) =>
  res.headers
    .getSetCookie()
    .find((h) => h.startsWith(`${name}=`))
    ?.split(";")[0]
    ?.slice(name.length + 1);

async function post(headers: Record<string, string>, csrf: string) {
  return app().request("https://dkron.example/ui/act", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: `${CSRF_COOKIE}=${csrf}`,
      ...headers,
    },
    body: `_csrf=${csrf}`,
  });
}

describe("dashboard session and CSRF", () => {
  const csrf = "abcdefghijklmnopqrstuvwx";

  it("accepts a same-origin form with the matching token", async () => {
    expect(await (await post({ origin: "https://dkron.example" }, csrf)).text()).toBe("done");
    expect(await (await post({ "sec-fetch-site": "same-origin" }, csrf)).text()).toBe("done");
    // Old browsers send neither header: the double-submit token still guards the post.
    expect((await post({}, csrf)).status).toBe(200);
  });

  it("refuses another origin, an opaque (null) origin and a cross-site fetch, naming why", async () => {
    const evil = await post({ origin: "https://evil.example" }, csrf);
    expect(evil.status).toBe(403);
    expect(await evil.text()).toContain("another origin (https://evil.example)");
    const opaque = await post({ origin: "null" }, csrf);
    expect(opaque.status).toBe(403);
    expect(await opaque.text()).toContain("another origin (null)");
    const cross = await post({ "sec-fetch-site": "cross-site" }, csrf);
    expect(cross.status).toBe(403);
    expect(await cross.text()).toContain("Sec-Fetch-Site: cross-site");
  });

  it("sets HttpOnly, Secure, SameSite=Strict cookies scoped to /ui, and rotates the CSRF token at sign-in", async () => {
    const before = await app().request("https://dkron.example/ui/form");
    const first = cookieOf(before, CSRF_COOKIE)!;
    expect(before.headers.getSetCookie()[0]).toMatch(/HttpOnly; Secure; SameSite=Strict/);
    expect(before.headers.getSetCookie()[0]).toContain("Path=/ui");
    const signIn = await app().request("https://dkron.example/ui/sign-in", {
      method: "POST",
      headers: { cookie: `${CSRF_COOKIE}=${first}` },
    });
    const after = cookieOf(signIn, CSRF_COOKIE)!;
    expect(after).toBeTruthy();
    expect(after).not.toBe(first);
    expect(await signIn.text()).toBe(after);
    expect(cookieOf(signIn, SESSION_COOKIE)).toBe("dkt.secret");
  });

  it("warns that sign-in cannot stick over plain HTTP to a remote host", async () => {
    const remote = await app().request("http://10.0.0.5:8080/ui/sign-in");
    expect(await remote.text()).toContain("plain HTTP at 10.0.0.5:8080");
    expect(await (await app().request("http://localhost:8080/ui/sign-in")).text()).toBe("ok");
    expect(await (await app().request("http://127.0.0.1:8080/ui/sign-in")).text()).toBe("ok");
    expect(await (await app().request("https://dkron.example/ui/sign-in")).text()).toBe("ok");
    const proxied = await app().request("http://10.0.0.5:8080/ui/sign-in", {
      headers: { "x-forwarded-proto": "https" },
    });
    expect(await proxied.text()).toBe("ok");
  });
});

describe("a secret shown once after a redirect", () => {
  it("reaches the next page once and is gone on reload", async () => {
    const { passOnce, takeOnce, ONCE_COOKIE } = await import("./session");
    const a = new Hono();
    a.post("/ui/tokens", (c) => {
      passOnce(c, { kind: "token", name: "ci", token: "dkt.ab.cd" });
      return c.redirect("/ui/tokens", 303);
    });
    a.get("/ui/tokens", (c) => c.json(takeOnce(c) ?? null));
    const made = await a.request("https://x/ui/tokens", { method: "POST" });
    expect(made.status).toBe(303);
    const set = made.headers.getSetCookie().find((h) => h.startsWith(`${ONCE_COOKIE}=`))!;
    expect(set).toMatch(/Max-Age=60; Path=\/ui; HttpOnly; Secure; SameSite=Strict/);
    const cookie = set.split(";")[0]!;
    const page = await a.request("https://x/ui/tokens", { headers: { cookie } });
    expect(await page.json()).toEqual({ kind: "token", name: "ci", token: "dkt.ab.cd" });
    // The page removed it: the browser's next request carries nothing.
    expect(page.headers.getSetCookie().join()).toMatch(new RegExp(`${ONCE_COOKIE}=; Max-Age=0`));
    expect(await (await a.request("https://x/ui/tokens")).json()).toBeNull();
    expect(
      await (
        await a.request("https://x/ui/tokens", { headers: { cookie: `${ONCE_COOKIE}=garbled{` } })
      ).json(),
    ).toBeNull();
  });
});
