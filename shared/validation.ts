import type { z } from "zod";
import { AppError } from "./errors";

/** Dotted field path of a zod issue ("executor_config.command", "tags"). */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map(String).join(".") || "(body)";
}

/** Parses input with a schema or throws AppError VALIDATION naming every bad field and why. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ field: issuePath(i.path), message: i.message }));
  const first = issues[0]!;
  const message = `${what}: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`;
  throw new AppError("VALIDATION", message, { field: first.field, issues });
}
