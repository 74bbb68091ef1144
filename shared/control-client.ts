import { CALLER_CLIENT_HEADER, CALLER_INTERNAL_HEADER, CALLER_TOKEN_HEADER, type Caller } from "./caller";
import {
  CONTROL_RPC_PREFIX,
  type ControlInput,
  type ControlMethod,
  type ControlResults,
} from "./control-api";
import { AppError, appErrorFromBody } from "./errors";
import { DEFAULT_LEADER_HOPS, followLeader } from "./follow-leader";

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
  /** Calls `method` for `caller` (the API client whose token control checks); none = no token. */
  call<M extends ControlMethod>(
    method: M,
    params: ControlInput<M>,
    caller?: Caller,
  ): Promise<ControlResults[M]>;
}

/** Builds a control-api client over a fetch; follows NOT_LEADER answers to the leader. */
export function createControlClient(opts: ControlClientOptions): ControlClient {
  const start = opts.baseUrl.replace(/\/$/, "");
  const fixed: Record<string, string> = { "content-type": "application/json" };
  if (opts.secret) fixed.authorization = `Bearer ${opts.secret}`;
  return {
    async call(method, params, caller) {
      const body = JSON.stringify(params ?? {});
      const headers = { ...fixed };
      if (caller?.token !== undefined) headers[CALLER_TOKEN_HEADER] = caller.token;
      if (caller?.client) headers[CALLER_CLIENT_HEADER] = caller.client;
      if (caller?.internal) headers[CALLER_INTERNAL_HEADER] = "1";
      return followLeader(async (leader) => {
        const base = leader ?? start;
        let res: Response;
        try {
          res = await opts.fetch(`${base}${CONTROL_RPC_PREFIX}${method}`, { method: "POST", headers, body });
        } catch (cause) {
          throw new AppError("UNAVAILABLE", `control node ${base} is unreachable`, undefined, { cause });
        }
        const answer: unknown = await res.json().catch(() => null);
        if (res.ok) return answer as ControlResults[typeof method];
        throw appErrorFromBody(answer, res.status);
      }, opts.maxRedirects ?? DEFAULT_LEADER_HOPS);
    },
  };
}
