import { AppError, type ControlMethod, type ControlParamsOf, grants, type Scope } from "../../shared";
import type { Identity } from "./identity";

/**
 * What a control-api method needs: a scope (and, for a method about one job, that job's name, which
 * a prefix-limited token must cover), or nothing from the caller (a webhook is signed instead), or
 * the node itself.
 */
export type Access<M extends ControlMethod = ControlMethod> =
  | { scope: Scope; job?: (p: ControlParamsOf<M>) => string }
  | { public: true }
  | { internal: true };

/** The one table of who may call what. A method missing here does not compile. */
export const ACCESS: { [M in ControlMethod]: Access<M> } = {
  status: { scope: "read" },
  "members.list": { scope: "read" },
  "leader.get": { scope: "read" },
  leave: { scope: "admin" },
  busy: { scope: "read" },
  "pause.get": { scope: "read" },
  "pause.set": { scope: "admin" },
  "jobs.list": { scope: "read" },
  "jobs.get": { scope: "read", job: (p) => p.name },
  // The job's name is in the body: putJob checks it against the prefix once the body is validated.
  "jobs.put": { scope: "write" },
  "jobs.delete": { scope: "write", job: (p) => p.name },
  "jobs.run": { scope: "run", job: (p) => p.name },
  "jobs.toggle": { scope: "write", job: (p) => p.name },
  "executions.list": { scope: "read", job: (p) => p.job },
  "executions.get": { scope: "read", job: (p) => p.job },
  "executions.clear": { scope: "write", job: (p) => p.job },
  // Every job of the backup is checked against the prefix before anything is written.
  restore: { scope: "write" },
  "schedule.preview": { scope: "read" },
  "tokens.create": { scope: "admin" },
  "tokens.list": { scope: "admin" },
  "tokens.revoke": { scope: "admin" },
  "tokens.touch": { internal: true },
  "audit.list": { scope: "admin" },
  // The hook's job is in the body (create) or the stored hook: the prefix is checked once it is known.
  "webhooks.create": { scope: "write" },
  "webhooks.list": { scope: "read" },
  "webhooks.get": { scope: "read" },
  "webhooks.delete": { scope: "write" },
  // Signed instead: the HMAC over the body with the hook's secret is the credential.
  "hooks.deliver": { public: true },
  // A new secret starts runs as the old one did: write and run, checked with the hook's job.
  "webhooks.rotate": { scope: "write" },
  "webhooks.deliveries": { scope: "read" },
  // Every valid token may learn its own scopes (read is implied by every scope).
  "tokens.self": { scope: "read" },
  // Counts and the heatmap cover only the jobs the token's prefix covers.
  "dashboard.overview": { scope: "read" },
  "dashboard.recent": { scope: "read" },
  "executions.tail": { scope: "read", job: (p) => p.job },
  "runner-tokens.create": { scope: "admin" },
  "runner-tokens.list": { scope: "admin" },
  "runner-tokens.revoke": { scope: "admin" },
  // The join token in the body is the credential; the apply of the join checks it.
  "runners.join": { public: true },
  "runners.list": { scope: "admin" },
  "runners.revoke": { scope: "admin" },
  // The keys themselves are shown, as Serf's `keys list` does: admin only.
  "keys.list": { scope: "admin" },
  "keys.install": { scope: "admin" },
  "keys.use": { scope: "admin" },
  "keys.remove": { scope: "admin" },
};

/** Throws FORBIDDEN unless `who` may call `method` with `params`. */
export function authorize<M extends ControlMethod>(
  who: Identity,
  method: M,
  params: ControlParamsOf<M>,
): void {
  const access = ACCESS[method] as Access<M>;
  if ("public" in access) return;
  if ("internal" in access) {
    if (who.internal) return;
    throw new AppError("FORBIDDEN", `${method} is internal to the control cluster`);
  }
  if (!grants(who.scopes, access.scope))
    throw new AppError(
      "FORBIDDEN",
      `token "${who.name}" has scopes ${who.scopes.join(",")}; ${method} needs ${access.scope}`,
      { scope: access.scope },
    );
  if (access.job) mustCoverJob(who, access.job(params));
}

/** Throws FORBIDDEN unless `who`'s prefix covers job `name`. */
export function mustCoverJob(who: Identity, name: string): void {
  if (!coversJob(who, name))
    throw new AppError(
      "FORBIDDEN",
      `token "${who.name}" is limited to jobs starting with "${who.prefix}"; "${name}" is not one`,
      { field: "job", prefix: who.prefix },
    );
}

/** Whether `who` may see or touch job `name` (its prefix, if any, starts the name). */
export function coversJob(who: Identity, name: string): boolean {
  return name.startsWith(who.prefix);
}
