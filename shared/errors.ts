/** Stable error codes; code branches on these, never on instanceof, because errors cross the wire. */
export const ErrorCodes = [
  "VALIDATION",
  "BAD_REQUEST",
  "NOT_FOUND",
  "CONFLICT",
  "TOO_LARGE",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "RATE_LIMITED",
  "PAUSED",
  "NOT_LEADER",
  "NO_QUORUM",
  "NO_TARGETS",
  "TIMEOUT",
  "UNAVAILABLE",
  "INTERNAL",
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

/** HTTP status for each code: the one table the edge and control apps share. */
export const httpStatusOf: Record<ErrorCode, number> = {
  VALIDATION: 400,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  PAUSED: 503,
  NOT_LEADER: 421,
  NO_QUORUM: 503,
  NO_TARGETS: 422,
  TIMEOUT: 504,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** Details that travel with an error (field for validation, leader address for NOT_LEADER, ...). */
export interface ErrorDetails {
  field?: string;
  leader?: string;
  issues?: { field: string; message: string }[];
  [k: string]: unknown;
}

/** The one error class: a code, a message a user can act on, optional details and cause. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;
  constructor(code: ErrorCode, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
    this.details = details;
  }
  /** JSON body for HTTP responses: {"error": {code, message, ...details}}. */
  toJSON(): { error: { code: ErrorCode; message: string } & ErrorDetails } {
    return { error: { code: this.code, message: this.message, ...(this.details ?? {}) } };
  }
}

/**
 * What an AppError is to code that may have received it from elsewhere (over the wire, from another
 * copy of this module): a code, a message, and maybe details. Branch on `code`; never on instanceof.
 */
export interface AppErrorLike {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: ErrorDetails | undefined;
}

/** True when e carries one of our codes with a message (an AppError, or a plain object shaped like one). */
export function isAppError(e: unknown): e is AppErrorLike {
  if (typeof e !== "object" || e === null) return false;
  const { code, message, details } = e as { code?: unknown; message?: unknown; details?: unknown };
  return (
    typeof code === "string" &&
    (ErrorCodes as readonly string[]).includes(code) &&
    typeof message === "string" &&
    (details === undefined || (typeof details === "object" && details !== null))
  );
}

/**
 * A real AppError (with toJSON and a stack) for an AppErrorLike: e itself when it is one, else a new
 * one with its code, message and details; a plain object's other fields (a wire body's `leader`, …)
 * become the details, as in `{"error": {code, message, ...details}}`.
 */
export function toAppError(e: AppErrorLike): AppError {
  // The one instanceof: telling whether e already is the class, not which error it is.
  if (e instanceof AppError) return e;
  const { code, message, details, name: _name, ...rest } = e as AppErrorLike & Record<string, unknown>;
  return new AppError(code, message, details ?? (Object.keys(rest).length ? rest : undefined), { cause: e });
}

/** Rebuilds an AppError from a JSON error body received over the wire. */
export function appErrorFromBody(body: unknown, fallbackStatus: number): AppError {
  const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
  if (err && typeof err.code === "string" && (ErrorCodes as readonly string[]).includes(err.code)) {
    const { code, message, ...details } = err as { code: ErrorCode; message?: string };
    return new AppError(code, message ?? code, details as ErrorDetails);
  }
  return new AppError(
    fallbackStatus >= 500 ? "INTERNAL" : "BAD_REQUEST",
    `unexpected response ${fallbackStatus}`,
  );
}
