/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { PreviewEntry } from "../../../shared";

/** A string map as tags. */
export function KeyValues(p: { map: Record<string, string> }) {
  return (
    <span>
      {Object.entries(p.map).map(([k, v]) => (
        <span class="tag">
          {k}={v}
        </span>
      ))}
    </span>
  );
}

/** The next fire times in the job's zone, with DST transitions marked. */
export function NextRuns(p: { runs: PreviewEntry[]; zone: string; caption?: string }) {
  if (p.runs.length === 0)
    return (
      <p class="muted" style="padding:0 16px 12px">
        No upcoming runs (manual, child, disabled or expired).
      </p>
    );
  return (
    <div class="table-wrap">
      <table>
        {p.caption ? <caption style="padding:0 10px 8px">{p.caption}</caption> : null}
        <thead>
          <tr>
            <th>{p.zone} time</th>
            <th class="hide-sm">UTC</th>
            <th>DST</th>
          </tr>
        </thead>
        <tbody>
          {p.runs.map((r) => (
            <tr>
              <td class="nowrap mono" style={r.runs ? "" : "text-decoration:line-through"}>
                {r.local.slice(0, 19).replace("T", " ")} <span class="muted">{r.offset}</span>
              </td>
              <td class="nowrap mono hide-sm">{r.at.slice(0, 19).replace("T", " ")}</td>
              <td>
                {r.mark ? (
                  <span class="mark" title={r.note ?? ""}>
                    {r.note ?? r.mark}
                  </span>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
