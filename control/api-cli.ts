import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AppError, nodeUrl } from "../shared";
import { ADMIN_TOKEN_FILE } from "./auth";

/** Where a CLI command finds the API and its token. */
export interface ApiTarget {
  /** Base URL of any control node. */
  url: string;
  /** Bearer token; "" sends none (a node with --insecure-no-auth). */
  token: string;
}

/** The options every API-calling command takes, for its --help. */
export const API_OPTIONS_HELP = `  --http-addr HOST:PORT   a control node, or an https:// URL (default 127.0.0.1:8080; env DKRON_HTTP_ADDR)
  --token TOKEN           API token (env DKRON_TOKEN; default: <data-dir>/admin-token)
  --data-dir DIR          where to find admin-token when no token is given (default dkron.data; env DKRON_DATA_DIR)`;

/**
 * Resolves the API address and token: --token, then DKRON_TOKEN, then the admin token the first
 * start wrote to `<data-dir>/admin-token`, so on the machine that started the node it just works.
 */
export function apiTarget(
  v: { "http-addr"?: unknown; token?: unknown; "data-dir"?: unknown },
  env: Record<string, string | undefined>,
): ApiTarget {
  const addr = String(v["http-addr"] ?? env.DKRON_HTTP_ADDR ?? "127.0.0.1:8080");
  let token = typeof v.token === "string" ? v.token : (env.DKRON_TOKEN ?? "");
  if (!token) {
    const file = join(String(v["data-dir"] ?? env.DKRON_DATA_DIR ?? "dkron.data"), ADMIN_TOKEN_FILE);
    if (existsSync(file)) token = readFileSync(file, "utf8").trim();
  }
  return { url: nodeUrl(addr).replace(/\/$/, ""), token };
}

/** One API call; a non-2xx answer becomes an AppError with the server's message (and a hint on 401). */
export async function apiCall(t: ApiTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${t.url}${path}`, {
      method,
      headers: {
        "content-type": "application/json",
        ...(t.token ? { authorization: `Bearer ${t.token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    throw new AppError("UNAVAILABLE", `cannot reach a control node at ${t.url} (set --http-addr)`);
  }
  const answer = (await res.json().catch(() => null)) as {
    error?: { code?: string; message?: string };
  } | null;
  if (res.ok) return answer;
  const message = answer?.error?.message ?? `HTTP ${res.status}`;
  if (res.status === 401)
    throw new AppError(
      "UNAUTHORIZED",
      `${message}${t.token ? "" : " (pass --token, set DKRON_TOKEN, or run where <data-dir>/admin-token is)"}`,
    );
  throw new AppError("BAD_REQUEST", message);
}
