/**
 * A command-line splitter compatible with mattn/go-shellwords as Dkron's shell executor uses it
 * (no env or backtick expansion): whitespace separates words, single quotes are literal, double quotes
 * group, and a backslash outside single quotes takes the next character literally.
 *
 * One deliberate difference: go-shellwords silently stops at an unquoted `;`, `&`, `|`, `<` or `>` and
 * Dkron then runs only the first part (`echo a | grep b` runs `echo a`). We report it as an error
 * instead, so the operator learns to quote it or to set `shell: "true"`.
 */

/** The words of a command line, or why it cannot be split. */
export type SplitResult = { ok: true; words: string[] } | { ok: false; error: string };

const OPERATORS = new Set([";", "&", "|", "<", ">"]);
const SPACES = new Set([" ", "\t", "\r", "\n"]);

/** Splits a command line into argv words without any expansion. */
export function splitShellWords(line: string): SplitResult {
  const words: string[] = [];
  let buf = "";
  // A word exists once it has a character or a (possibly empty) quoted part: `''` is an empty argument.
  let inWord = false;
  let single = false;
  let double = false;
  let escaped = false;
  for (const c of line) {
    if (escaped) {
      buf += c;
      escaped = false;
      inWord = true;
      continue;
    }
    if (single) {
      if (c === "'") single = false;
      else buf += c;
      continue;
    }
    if (c === "\\") {
      escaped = true;
      continue;
    }
    if (double) {
      if (c === '"') double = false;
      else buf += c;
      continue;
    }
    if (SPACES.has(c)) {
      if (inWord) words.push(buf);
      buf = "";
      inWord = false;
      continue;
    }
    if (c === "'" || c === '"') {
      if (c === "'") single = true;
      else double = true;
      inWord = true;
      continue;
    }
    if (OPERATORS.has(c)) {
      return {
        ok: false,
        error: `contains the shell operator '${c}': quote it, or set shell to "true" to run the command through /bin/sh`,
      };
    }
    buf += c;
    inWord = true;
  }
  if (escaped) return { ok: false, error: "ends with an unfinished backslash escape" };
  if (single || double)
    return { ok: false, error: `has an unterminated ${single ? "single" : "double"} quote` };
  if (inWord) words.push(buf);
  return { ok: true, words };
}
