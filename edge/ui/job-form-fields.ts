import type { z } from "zod";
import { CATCHUP_POLICIES, EXECUTORS, JobInputSchema, type JobJson } from "../../shared";

// The job form, derived from the job's zod schema (shared/job.ts): every field of JobInputSchema
// becomes an input of the kind its type asks for, with the schema's default, so a field added to the
// schema appears in the form without touching the dashboard. Labels and hints are the only table here.

/** How a field is edited. */
export type FieldKind = "text" | "checkbox" | "number" | "select" | "map" | "json";

/** One input of the job form. */
export interface FormField {
  name: string;
  kind: FieldKind;
  label: string;
  hint: string;
  /** Choices of a select. */
  options?: readonly string[];
  /** The schema's default, as the input shows it. */
  initial: string;
}

/** Words for fields (the schema names them; this says what they mean to an operator). */
const WORDS: Record<string, [label: string, hint: string]> = {
  name: ["Name", "lowercase letters, digits, - and _; the job's id"],
  displayname: ["Display name", "shown beside the name"],
  schedule: [
    "Schedule",
    "cron with optional seconds (0 */5 * * * *), @every 10m, @daily, @at 2026-12-24T18:00:00Z, @manually",
  ],
  timezone: ["Time zone", "IANA zone, e.g. Europe/Berlin; empty = UTC"],
  dst: [
    "DST rule",
    "auto (Vixie cron), once/twice for the repeated hour, transition/skip for the missing one",
  ],
  owner: ["Owner", ""],
  owner_email: ["Owner email", ""],
  disabled: ["Disabled", "a disabled job keeps its history and does not run"],
  tags: ["Target tags", "one key=value per line; value:count picks that many nodes (role=web:2)"],
  metadata: ["Metadata", "one key=value per line; filterable in the list"],
  retries: ["Retries", "extra attempts after a failure, on the same node"],
  parent_job: ["Parent job", "run after this job succeeds instead of on a schedule"],
  processors: ["Processors", "JSON object of output processors, as Dkron's"],
  concurrency: ["Concurrency", "forbid skips a slot while the job still runs"],
  executor: ["Executor", ""],
  executor_config: [
    "Executor config",
    "one key=value per line: shell: command=…, timeout=30s; http: url=…, method=GET",
  ],
  ephemeral: ["Ephemeral", "delete the job after its first successful run"],
  starts_at: ["Starts at", "RFC3339; no run before it"],
  expires_at: ["Expires at", "RFC3339; no run after it"],
  catchup: ["Catch-up", "slots missed while no leader ran: latest (once), all, or none"],
  catchup_deadline: ["Catch-up deadline (ms)", "a missed slot older than this is recorded as missed"],
};

/** Options of string fields the schema keeps open (executor) or validates in a transform (dst). */
const OPTIONS: Record<string, readonly string[]> = {
  executor: ["", ...EXECUTORS],
  catchup: CATCHUP_POLICIES,
};

type AnySchema = z.ZodType & { _zod: { def: Record<string, unknown> & { type: string } } };

/** The form's fields, in the schema's order. */
export function jobFormFields(): FormField[] {
  const shape = JobInputSchema.shape as unknown as Record<string, AnySchema>;
  return Object.entries(shape).map(([name, schema]) => {
    const { type, initial, options } = unwrap(schema);
    const [label, hint] = WORDS[name] ?? [name.replace(/_/g, " "), ""];
    const kind: FieldKind =
      type === "boolean"
        ? "checkbox"
        : type === "number"
          ? "number"
          : type === "record"
            ? name === "processors"
              ? "json"
              : "map"
            : (OPTIONS[name] ?? options)
              ? "select"
              : "text";
    const opts = OPTIONS[name] ?? options;
    return {
      name,
      kind,
      label,
      hint,
      ...(kind === "select" && opts ? { options: opts } : {}),
      initial:
        initial === null || initial === undefined || typeof initial === "object" ? "" : String(initial),
    };
  });
}

/** The base type of a field under its default, nullable and pipe wrappers, and its default. */
function unwrap(schema: AnySchema): { type: string; initial: unknown; options?: string[] } {
  let s: AnySchema | undefined = schema;
  let initial: unknown;
  while (s) {
    const d: AnySchema["_zod"]["def"] = s._zod.def;
    if (d.type === "default") {
      if (initial === undefined) initial = d.defaultValue;
      s = d.innerType as AnySchema;
    } else if (d.type === "nullable" || d.type === "optional") s = d.innerType as AnySchema;
    else if (d.type === "pipe") s = d.in as AnySchema;
    else if (d.type === "union") {
      // A choice of literals and an enum (concurrency): a select of them all.
      const options = (d.options as AnySchema[]).flatMap((o) => enumValues(o));
      return { type: "union", initial, ...(options.length ? { options: [...new Set(options)] } : {}) };
    } else if (d.type === "enum") return { type: "enum", initial, options: enumValues(s) };
    else return { type: d.type, initial };
  }
  return { type: "unknown", initial };
}

function enumValues(s: AnySchema): string[] {
  const d = s._zod.def;
  if (d.type === "enum") return Object.values(d.entries as Record<string, string>);
  if (d.type === "literal") return (d.values as unknown[]).map(String);
  return [];
}

/** The values a form shows for a stored job (or the defaults for a new one). */
export function formValues(fields: FormField[], job?: JobJson): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const v = job ? (job as unknown as Record<string, unknown>)[f.name] : undefined;
    if (v === undefined) out[f.name] = f.initial;
    else if (v === null) out[f.name] = "";
    else if (f.kind === "map")
      out[f.name] = Object.entries(v as Record<string, string>)
        .map(([k, x]) => `${k}=${x}`)
        .join("\n");
    else if (f.kind === "json")
      out[f.name] = Object.keys(v as object).length ? JSON.stringify(v, null, 2) : "";
    else out[f.name] = String(v);
  }
  return out;
}

/** A form field's problem, before the job is sent: the field and why. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * The job body a submitted form stands for, typed as the schema wants it (maps from key=value
 * lines, numbers, booleans, empty times as null); a line or JSON that cannot be read is a problem
 * naming its field. Validation itself is control's (the same schema), so the form never drifts.
 */
export function formToJob(
  fields: FormField[],
  form: Record<string, string>,
): { job: Record<string, unknown> } | { problem: FieldProblem } {
  const job: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = (form[f.name] ?? "").trim();
    switch (f.kind) {
      case "checkbox":
        job[f.name] = raw === "on" || raw === "true";
        break;
      case "number": {
        if (raw === "") break;
        const n = Number(raw);
        if (!Number.isFinite(n))
          return { problem: { field: f.name, message: `must be a number, got "${raw}"` } };
        job[f.name] = n;
        break;
      }
      case "map": {
        if (raw === "") {
          job[f.name] = null;
          break;
        }
        const map: Record<string, string> = {};
        for (const [i, line] of raw.split(/\r?\n/).entries()) {
          if (line.trim() === "") continue;
          const at = line.indexOf("=");
          if (at <= 0)
            return {
              problem: { field: f.name, message: `line ${i + 1}: write key=value, got "${line.trim()}"` },
            };
          map[line.slice(0, at).trim()] = line.slice(at + 1).trim();
        }
        job[f.name] = map;
        break;
      }
      case "json": {
        if (raw === "") break;
        try {
          job[f.name] = JSON.parse(raw);
        } catch {
          return { problem: { field: f.name, message: "is not valid JSON" } };
        }
        break;
      }
      default:
        if (f.name === "starts_at" || f.name === "expires_at") job[f.name] = raw === "" ? null : raw;
        else if (raw !== "" || f.name === "name") job[f.name] = raw;
    }
  }
  return { job };
}
