import { wallMs } from "../timezone";
import { scheduleError } from "./errors";

const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Parses the argument of `@at`: RFC3339 with a `Z` or `±hh:mm` offset (required), to epoch ms. */
export function parseAtInstant(arg: string): number {
  const fail = () => scheduleError(`@at needs an RFC3339 time with offset, got "${arg}"`);
  const m = rfc3339.exec(arg);
  if (!m) throw fail();
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetHours = Number(m[9] ?? 0);
  const offsetMinutes = Number(m[10] ?? 0);
  const wall = wallMs(year, month, day, hour, minute, second);
  // Date.UTC rolls over out-of-range fields (Feb 30 becomes Mar 2); a round trip catches them.
  const check = new Date(wall);
  if (
    check.getUTCMonth() + 1 !== month ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    throw fail();
  }
  const fractionMs = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000 * (m[8] === "-" ? -1 : 1);
  return wall + fractionMs - offsetMs;
}
