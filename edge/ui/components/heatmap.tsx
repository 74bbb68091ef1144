/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Level 0..4 of a count against the day's busiest minute. */
export function heatLevel(n: number, max: number): number {
  if (n <= 0 || max <= 0) return 0;
  return Math.min(4, 1 + Math.floor((n / max) * 3.999));
}

/**
 * Fires per minute of the next 24 hours: one row per hour, one cell per minute, darker = more jobs
 * starting then, so hot minutes stand out. Hours are labelled in UTC.
 */
export function Heatmap(p: { from: number; minutes: number[]; approximate: boolean }) {
  const max = Math.max(0, ...p.minutes);
  const hot = p.minutes
    .map((n, i) => ({ n, i }))
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n || a.i - b.i)
    .slice(0, 5);
  const at = (i: number) => new Date(p.from + i * 60_000).toISOString().slice(11, 16);
  // Rows start on the hour (the first one padded before now, the last one cut at now + 24 h), so a
  // column is the same minute past the hour in every row.
  const pad = new Date(p.from).getUTCMinutes();
  const rows = [];
  for (let h = 0; h < Math.ceil((pad + p.minutes.length) / 60); h++) {
    rows.push(<div class="h">{at(h * 60 - pad)}</div>);
    for (let m = 0; m < 60; m++) {
      const i = h * 60 + m - pad;
      if (i < 0 || i >= p.minutes.length) {
        rows.push(<div class="c out" />);
        continue;
      }
      const n = Math.round(p.minutes[i] ?? 0);
      rows.push(
        <div class={`c l${heatLevel(n, max)}`} title={`${at(i)} UTC: ${n} fire${n === 1 ? "" : "s"}`} />,
      );
    }
  }
  return (
    <div>
      <div
        class="heatmap"
        role="img"
        aria-label={`Scheduled fires per minute over the next 24 hours; busiest minute ${max ? `${at(hot[0]!.i)} UTC with ${Math.round(max)}` : "none"}`}
      >
        {rows}
      </div>
      <div class="legend" aria-hidden="true">
        less <span class="c" style="background:var(--heat0)" />
        <span class="c" style="background:var(--heat1)" />
        <span class="c" style="background:var(--heat2)" />
        <span class="c" style="background:var(--heat3)" />
        <span class="c" style="background:var(--heat4)" /> more · busiest {Math.round(max)} per minute
        {p.approximate ? " · approximate (very frequent schedules extrapolated)" : ""}
      </div>
      {hot.length ? (
        <p class="note">
          Hot minutes (UTC):{" "}
          {hot.map((x) => (
            <span class="tag">
              {at(x.i)} · {Math.round(x.n)}
            </span>
          ))}
        </p>
      ) : (
        <p class="note">Nothing is scheduled in the next 24 hours.</p>
      )}
    </div>
  );
}
