/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { HourCountJson } from "../../../shared";

const W = 720;
const H = 200;

/**
 * Executions per hour of the last day as stacked bars (success, failed, other), server-rendered;
 * app.js redraws it with uPlot (hover values) inside the same fixed box.
 */
export function HourChart(p: { rows: HourCountJson[] }) {
  const max = Math.max(1, ...p.rows.map((r) => r.success + r.failed + r.other));
  const bw = W / Math.max(1, p.rows.length);
  const total = p.rows.reduce((a, r) => a + r.success + r.failed + r.other, 0);
  return (
    <div class="chart" data-per-hour={JSON.stringify(p.rows)}>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${total} executions in the last 24 hours`}
      >
        {p.rows.map((r, i) => {
          let y = H;
          const part = (n: number, cls: string) => {
            const h = (n / max) * (H - 4);
            y -= h;
            return n ? <rect class={cls} x={i * bw + 2} y={y} width={bw - 4} height={h} /> : null;
          };
          return (
            <g>
              <title>{`${r.at.slice(11, 16)} UTC: ${r.success} ok, ${r.failed} failed, ${r.other} other`}</title>
              {part(r.success, "bar-ok")}
              {part(r.failed, "bar-bad")}
              {part(r.other, "bar-other")}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
