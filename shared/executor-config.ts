import { z } from "zod";
import { AppError } from "./errors";
import { splitShellWords } from "./shellwords";
import { parseGoDuration } from "./time";
import { issuePath } from "./validation";

/**
 * Executor configs as Dkron stores them (`executor_config`, every value a string), parsed once into typed
 * values. The control plane calls validateExecutorConfig at job create time and the runner parses the same
 * way before it runs, so a config that passed validation means the same thing on both sides. Empty strings
 * count as absent, as in Dkron. Unknown keys are ignored, as in Dkron.
 */

/** Seconds an http job may take when `timeout` is absent (Dkron's default). */
export const DEFAULT_HTTP_TIMEOUT_SECONDS = 30;

const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const required = z
  .string({ error: (iss) => (iss.input === undefined ? "is required" : "must be a string") })
  .trim()
  .min(1, "is required");

const optional = z
  .string({ error: "must be a string" })
  .optional()
  .transform((v) => (v === undefined || v === "" ? undefined : v));

// Dkron reads booleans with Go's strconv.ParseBool and treats anything unparsable as false; we reject
// unparsable values instead, because `shell: "yes"` silently meaning false is a trap.
const goBool = optional.transform((v, ctx) => {
  if (v === undefined || GO_FALSE.has(v)) return false;
  if (GO_TRUE.has(v)) return true;
  ctx.addIssue({ code: "custom", message: `must be "true" or "false", got "${v}"` });
  return z.NEVER;
});

const goTimeout = optional.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const ms = parseGoDuration(v);
  if (ms === null) {
    ctx.addIssue({
      code: "custom",
      message: `must be a Go duration such as 30s, 1h30m or 500ms, got "${v}"`,
    });
    return z.NEVER;
  }
  // Zero means "no timeout", as a zero time.Duration does in Dkron.
  return ms === 0 ? undefined : { ms, text: v.trim() };
});

const envList = optional.transform((v, ctx) => {
  const out: [string, string][] = [];
  for (const item of (v ?? "").split(",")) {
    if (item.trim() === "") continue;
    const eq = item.indexOf("=");
    const name = eq < 0 ? "" : item.slice(0, eq).trim();
    if (name === "" || name.includes("\0")) {
      ctx.addIssue({ code: "custom", message: `must be a comma list of NAME=value pairs, got "${item}"` });
      return z.NEVER;
    }
    out.push([name, item.slice(eq + 1)]);
  }
  return out;
});

const base64 = optional.refine(
  (v) => {
    if (v === undefined) return true;
    const s = v.replace(/[\r\n]/g, "");
    return s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);
  },
  { message: "must be standard base64 (padded)" },
);

/** Dkron's `shell` executor config. */
export const ShellConfigSchema = z
  .object({
    command: required,
    shell: goBool,
    env: envList,
    cwd: optional,
    timeout: goTimeout,
    payload: base64,
    // Running as another user needs privileges this runner does not take; ignoring the key would run the
    // job as the runner's own user, which is the opposite of what the operator asked for.
    su: optional.refine((v) => v === undefined, {
      message: "is not supported: run the runner as the user the job should run as",
    }),
    mem_limit: optional,
  })
  .transform((c, ctx) => {
    let argv: string[];
    if (c.shell) {
      argv = ["/bin/sh", "-c", c.command];
    } else {
      const split = splitShellWords(c.command);
      if (!split.ok || split.words.length === 0) {
        ctx.addIssue({ code: "custom", path: ["command"], message: split.ok ? "is required" : split.error });
        return z.NEVER;
      }
      argv = split.words;
    }
    return {
      command: c.command,
      shell: c.shell,
      argv: argv as [string, ...string[]],
      env: c.env,
      cwd: c.cwd,
      timeoutMs: c.timeout?.ms,
      timeoutText: c.timeout?.text,
      payload: c.payload,
      memLimit: c.mem_limit,
    };
  });

/** A parsed shell config: argv to exec, extra environment, optional cwd, timeout and stdin payload. */
export type ShellConfig = z.output<typeof ShellConfigSchema>;

const httpUrl = required.refine(
  (v) => {
    try {
      const u = new URL(v);
      return u.protocol === "http:" || u.protocol === "https:";
    } catch {
      return false;
    }
  },
  { message: "must be an absolute http:// or https:// URL" },
);

const HEADERS_HINT = 'must be a JSON array of "Name: value" strings, e.g. ["Content-Type: application/json"]';

// Unlike Dkron, which splits on every ':' and keeps only the second piece, the value is everything after the
// FIRST ':', so `Authorization: Basic a:b` or a URL in a header survives intact.
const headerList = optional.transform((v, ctx) => {
  if (v === undefined) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(v);
  } catch {
    ctx.addIssue({ code: "custom", message: HEADERS_HINT });
    return z.NEVER;
  }
  if (!Array.isArray(raw)) {
    ctx.addIssue({ code: "custom", message: HEADERS_HINT });
    return z.NEVER;
  }
  const out: [string, string][] = [];
  for (const item of raw) {
    const colon = typeof item === "string" ? item.indexOf(":") : -1;
    const name = typeof item === "string" ? item.slice(0, Math.max(colon, 0)).trim() : "";
    if (typeof item !== "string" || colon < 0 || !TOKEN.test(name)) {
      ctx.addIssue({ code: "custom", message: `${HEADERS_HINT}; bad item ${JSON.stringify(item)}` });
      return z.NEVER;
    }
    out.push([name, item.slice(colon + 1).trim()]);
  }
  return out;
});

const timeoutSeconds = optional.transform((v, ctx) => {
  if (v === undefined) return DEFAULT_HTTP_TIMEOUT_SECONDS;
  if (!/^\d+$/.test(v.trim())) {
    ctx.addIssue({ code: "custom", message: `must be a whole number of seconds such as 30, got "${v}"` });
    return z.NEVER;
  }
  return Number(v.trim());
});

const statusList = optional.transform((v, ctx) => {
  if (v === undefined) return [];
  const parts = v.split(",").map((p) => p.trim());
  if (!parts.every((p) => /^[1-5]\d\d$/.test(p))) {
    ctx.addIssue({
      code: "custom",
      message: `must be a comma list of HTTP status codes such as 200,206, got "${v}"`,
    });
    return z.NEVER;
  }
  return parts.map(Number);
});

const regexSource = optional.superRefine((v, ctx) => {
  if (v === undefined) return;
  try {
    new RegExp(v);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: `is not a valid regular expression: ${(e as Error).message}` });
  }
});

/** Dkron's `http` executor config. */
export const HttpConfigSchema = z
  .object({
    url: httpUrl,
    method: required
      .refine((m) => TOKEN.test(m), { message: "must be an HTTP method such as GET or POST" })
      // Go sends the method verbatim; servers treat "get" as unknown, so we normalise to upper case.
      .transform((m) => m.toUpperCase()),
    headers: headerList,
    body: optional,
    timeout: timeoutSeconds,
    expectCode: statusList,
    expectBody: regexSource,
    tlsNoVerifyPeer: goBool,
    tlsRootCAsFile: optional,
    tlsCertificateFile: optional,
    tlsCertificateKeyFile: optional,
  })
  .superRefine((c, ctx) => {
    if ((c.tlsCertificateFile === undefined) !== (c.tlsCertificateKeyFile === undefined)) {
      const [missing, given] =
        c.tlsCertificateFile === undefined
          ? ["tlsCertificateFile", "tlsCertificateKeyFile"]
          : ["tlsCertificateKeyFile", "tlsCertificateFile"];
      ctx.addIssue({ code: "custom", path: [missing], message: `is required when ${given} is set` });
    }
  })
  .transform((c) => ({
    url: c.url,
    method: c.method,
    headers: c.headers,
    body: c.body,
    /** 0 means no timeout, as Go's zero Client.Timeout does. */
    timeoutSeconds: c.timeout,
    expectCodes: c.expectCode,
    expectBody: c.expectBody,
    tlsNoVerifyPeer: c.tlsNoVerifyPeer,
    tlsRootCAsFile: c.tlsRootCAsFile,
    tlsCertificateFile: c.tlsCertificateFile,
    tlsCertificateKeyFile: c.tlsCertificateKeyFile,
  }));

/** A parsed http config: headers as [name, value] pairs, status codes as numbers, timeout in seconds. */
export type HttpConfig = z.output<typeof HttpConfigSchema>;

function parseConfig<S extends z.ZodType>(schema: S, config: unknown): z.output<S> {
  const r = schema.safeParse(config ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    field: i.path.length === 0 ? "executor_config" : `executor_config.${issuePath(i.path)}`,
    message: i.message,
  }));
  const message = issues.map((i) => `${i.field} ${i.message}`).join("; ");
  throw new AppError("VALIDATION", message, { field: issues[0]?.field ?? "executor_config", issues });
}

/** Parses a shell executor_config or throws AppError VALIDATION naming `executor_config.<key>`. */
export function parseShellConfig(config: Record<string, string> | null | undefined): ShellConfig {
  return parseConfig(ShellConfigSchema, config);
}

/** Parses an http executor_config or throws AppError VALIDATION naming `executor_config.<key>`. */
export function parseHttpConfig(config: Record<string, string> | null | undefined): HttpConfig {
  return parseConfig(HttpConfigSchema, config);
}

/** Checks an executor_config before a job is stored; executors this build does not know are left alone. */
export function validateExecutorConfig(
  executor: string,
  config: Record<string, string> | null | undefined,
): void {
  if (executor === "shell") parseShellConfig(config);
  else if (executor === "http") parseHttpConfig(config);
}
