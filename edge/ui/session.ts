import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { AppError, safeEqual } from "../../shared";

/** Cookie holding the signed-in API token (HttpOnly, Secure, SameSite=Strict, path /ui). */
export const SESSION_COOKIE = "dkron_session";
/** Cookie holding the CSRF token every form echoes (double submit). */
export const CSRF_COOKIE = "dkron_csrf";
/** Cookie carrying a secret just made (a token, a webhook secret) to the one page that shows it. */
export const ONCE_COOKIE = "dkron_once";
/** The form field carrying the CSRF token. */
export const CSRF_FIELD = "_csrf";
/** How long a sign-in lasts (the token itself may expire sooner). */
const SESSION_SECONDS = 12 * 3600;

const COOKIE = { httpOnly: true, secure: true, sameSite: "Strict", path: "/ui" } as const;

declare module "hono" {
  interface ContextVariableMap {
    /** This request's CSRF token (rendered into every form). */
    csrf: string;
  }
}

/** A random URL-safe string of `bytes` random bytes. */
export function randomToken(random: (n: number) => Uint8Array, bytes = 24): string {
  const b = random(bytes);
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Puts the session's token in the request's caller (control checks it on every call, as for a
 * bearer token) and makes sure a CSRF token exists. A bearer header, if sent, wins.
 */
export function session(random: (n: number) => Uint8Array): MiddlewareHandler {
  return async (c, next) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token && c.var.caller.token === undefined) c.set("caller", { ...c.var.caller, token });
    let csrf = getCookie(c, CSRF_COOKIE);
    if (!csrf || csrf.length < 16) {
      csrf = randomToken(random);
      setCookie(c, CSRF_COOKIE, csrf, COOKIE);
    }
    c.set("csrf", csrf);
    await next();
  };
}

/**
 * Remembers a token that control accepted, and rotates the CSRF token: one planted or seen before
 * sign-in is worth nothing after it.
 */
export function startSession(c: Context, token: string, random: (n: number) => Uint8Array): void {
  setCookie(c, SESSION_COOKIE, token, { ...COOKIE, maxAge: SESSION_SECONDS });
  const csrf = randomToken(random);
  setCookie(c, CSRF_COOKIE, csrf, COOKIE);
  c.set("csrf", csrf);
}

/**
 * Why a browser will not keep this page's Secure cookies, or undefined when it will: plain http to
 * anything but loopback (a TLS proxy in front says so with X-Forwarded-Proto).
 */
export function insecureOriginReason(c: Context): string | undefined {
  const url = new URL(c.req.url);
  if (url.protocol === "https:" || c.req.header("x-forwarded-proto") === "https") return undefined;
  if (["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) return undefined;
  return `this page is served over plain HTTP at ${url.host}: browsers keep the dashboard's sign-in cookie (Secure) only over HTTPS or on localhost, so a sign-in here would not stick. Serve the dashboard over HTTPS (the Worker, or a TLS proxy in front of the control node), or open it through localhost (e.g. ssh -L 8080:localhost:8080)`;
}

/** Forgets the token (and rotates the CSRF token with it). */
export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, COOKIE);
  deleteCookie(c, CSRF_COOKIE, COOKIE);
}

/**
 * Refuses a form post whose CSRF field does not match the cookie, or that a browser says came from
 * another origin. SameSite=Strict already keeps the session cookie off cross-site posts; this is the
 * second lock.
 */
export function checkCsrf(c: Context, form: Record<string, unknown>): void {
  const origin = c.req.header("origin");
  // "null" is an opaque origin (a sandboxed frame, a data: page): never one of our forms.
  if (origin !== undefined && origin !== new URL(c.req.url).origin)
    throw new AppError("FORBIDDEN", `form posted from another origin (${origin})`, { field: CSRF_FIELD });
  // Without an Origin header, a browser's Fetch Metadata still says where the post came from.
  const site = c.req.header("sec-fetch-site");
  if (origin === undefined && site !== undefined && site !== "same-origin" && site !== "none")
    throw new AppError("FORBIDDEN", `form posted from another site (Sec-Fetch-Site: ${site})`, {
      field: CSRF_FIELD,
    });
  const sent = typeof form[CSRF_FIELD] === "string" ? (form[CSRF_FIELD] as string) : "";
  if (!sent || !safeEqual(sent, c.var.csrf))
    throw new AppError(
      "FORBIDDEN",
      "the form's security token is missing or stale; reload the page and try again",
      { field: CSRF_FIELD },
    );
}

/**
 * Hands a just-made secret to the page the post redirects to (post/redirect/get: a reload never
 * makes another). It lives a minute in an HttpOnly cookie and is read once.
 */
export function passOnce(c: Context, value: Record<string, string>): void {
  // setCookie percent-encodes the value, so JSON travels as it is.
  setCookie(c, ONCE_COOKIE, JSON.stringify(value), { ...COOKIE, maxAge: 60 });
}

/** The value passOnce left for this page, removed as it is read; undefined when none (or garbled). */
export function takeOnce(c: Context): Record<string, string> | undefined {
  const text = getCookie(c, ONCE_COOKIE);
  if (!text) return undefined;
  deleteCookie(c, ONCE_COOKIE, COOKIE);
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== "object") return undefined;
    return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === "string")) as Record<
      string,
      string
    >;
  } catch {
    return undefined;
  }
}
