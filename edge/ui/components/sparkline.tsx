/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { RecentRunJson } from "../../../shared";
import { formatDuration } from "../format";

const W = 100;
const H = 24;

/**
 * Recent run durations as bars, oldest left, colored by outcome; a fixed box so the row never
 * reflows. Pure SVG, no script.
 */
export function Sparkline(p: { runs: RecentRunJson[] | undefined; slots?: number }) {
  const slots = p.slots ?? 20;
  const runs = [...(p.runs ?? [])].reverse().slice(-slots);
  const max = Math.max(1, ...runs.map((r) => r.ms ?? 0));
  const bw = W / slots;
  const label = runs.length
    ? `last ${runs.length} runs: ${runs.map((r) => `${r.state} ${formatDuration(r.ms)}`).join(", ")}`
    : "no runs yet";
  return (
    <svg class="spark" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
      <title>{label}</title>
      {runs.map((r, i) => {
        const h = Math.max(2, Math.round(((r.ms ?? 0) / max) * (H - 2)));
        const cls =
          r.state === "success" ? "ok" : r.state === "failed" || r.state === "lost" ? "bad" : "other";
        return (
          <rect
            class={cls}
            x={(slots - runs.length + i) * bw + 0.5}
            y={H - h}
            width={bw - 1}
            height={h}
            rx="1"
          />
        );
      })}
    </svg>
  );
}
