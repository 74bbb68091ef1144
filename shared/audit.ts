import { z } from "zod";

/** One audit record as GET /v1/audit lists it. */
export interface AuditEntryJson {
  /** `<log index>` of the entry that made the change: unique and in commit order. */
  id: string;
  at: string;
  token_id: string;
  token_name: string;
  action: string;
  target: string;
  client: string;
  /** "ok", or the error code the change was refused with. */
  outcome: string;
  detail: string;
}

/** GET /v1/audit query: newest first, filtered by job (target), token and time. */
export const AuditListParams = z.object({
  /** Records about this job (or any other target: a token id, a hook id). */
  target: z.string().optional(),
  token: z.string().optional(),
  action: z.string().optional(),
  /** Epoch ms, inclusive. */
  since: z.number().int().optional(),
  /** Epoch ms, exclusive. */
  until: z.number().int().optional(),
  start: z.number().int().min(0).default(0),
  end: z.number().int().min(0).optional(),
});
