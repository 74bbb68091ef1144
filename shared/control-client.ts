import {
  CONTROL_RPC_PREFIX,
  type ControlInput,
  type ControlMethod,
  type ControlResults,
} from "./control-api";
import { AppError, appErrorFromBody } from "./errors";

/** Anything with the fetch signature: the global fetch, or an app's in-process `fetch`. */
export type FetchLike = (input: Request | string, init?: RequestInit) => Promise<Response>;

/** Options for the control-api client. */
export interface ControlClientOptions {
  fetch: FetchLike;
  /** Base URL of any control node, e.g. http://127.0.0.1:8080 (in-process: any origin). */
  baseUrl: string;
  /** Service secret sent as a bearer token (the Worker's CONTROL_TOKEN); none in-process. */
  secret?: string;
  /** How many times to follow NOT_LEADER to the leader's address. */
  maxRedirects?: number;
}

/** A typed client for the edge-to-control contract. */
export interface ControlClient {
  call<M extends ControlMethod>(method: M, params: ControlInput<M>): Promise<ControlResults[M]>;
}

/** Builds a control-api client over a fetch; follows NOT_LEADER answers to the leader. */
export function createControlClient(opts: ControlClientOptions): ControlClient {
  const maxRedirects = opts.maxRedirects ?? 3;
  return {
    async call(method, params) {
      let base = opts.baseUrl.replace(/\/$/, "");
      for (let hop = 0; ; hop++) {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (opts.secret) headers.authorization = `Bearer ${opts.secret}`;
        let res: Response;
        try {
          res = await opts.fetch(`${base}${CONTROL_RPC_PREFIX}${method}`, {
            method: "POST",
            headers,
            body: JSON.stringify(params ?? {}),
          });
        } catch (cause) {
          throw new AppError("UNAVAILABLE", `control node ${base} is unreachable`, undefined, { cause });
        }
        const body: unknown = await res.json().catch(() => null);
        if (res.ok) return body as ControlResults[typeof method];
        const err = appErrorFromBody(body, res.status);
        const leader = typeof err.details?.leader === "string" ? err.details.leader : "";
        if (err.code === "NOT_LEADER" && leader && hop < maxRedirects) {
          base = leader.startsWith("http") ? leader : `http://${leader}`;
          continue;
        }
        throw err;
      }
    },
  };
}
