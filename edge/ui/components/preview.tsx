/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { SchedulePreviewJson } from "../../../shared";
import { NextRuns } from "./next-runs";

/** The schedule preview fragment: the rule and next runs, or the schedule's problem. */
export function SchedulePreview(p: {
  preview?: SchedulePreviewJson | undefined;
  error?: string | undefined;
}) {
  if (p.error) {
    return (
      <p class="muted" data-preview-error={p.error}>
        No preview: {p.error}
      </p>
    );
  }
  if (!p.preview) return <p class="muted">Type a schedule to see its next runs.</p>;
  const pv = p.preview;
  return (
    <div>
      <p class="note">
        <code>{pv.expression}</code> in {pv.timezone} · DST {pv.dst.policy}: {pv.dst.reason}
      </p>
      <NextRuns runs={pv.entries} zone={pv.timezone} />
    </div>
  );
}
