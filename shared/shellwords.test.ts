import { describe, expect, it } from "vitest";
import { splitShellWords } from "./shellwords";

describe("splitShellWords", () => {
  it.each([
    ["echo hello", ["echo", "hello"]],
    ["  echo \t hello \n", ["echo", "hello"]],
    [`echo 'a b' "c d"`, ["echo", "a b", "c d"]],
    [`echo a\\ b`, ["echo", "a b"]],
    [`echo 'it'"'"'s'`, ["echo", "it's"]],
    [`echo "say \\"hi\\""`, ["echo", 'say "hi"']],
    [`echo '\\n' x''y`, ["echo", "\\n", "xy"]],
    [`printf '' ""`, ["printf", "", ""]],
    [`echo $HOME * ~ \`id\``, ["echo", "$HOME", "*", "~", "`id`"]],
    [`echo 'a|b' "c;d" e\\&f`, ["echo", "a|b", "c;d", "e&f"]],
    ["", []],
  ])("%s", (line, words) => {
    expect(splitShellWords(line)).toEqual({ ok: true, words });
  });

  it.each([
    ["echo a | grep a", /operator '\|'/],
    ["echo a; rm -rf x", /operator ';'/],
    ["run &", /operator '&'/],
    ["cat < in", /operator '<'/],
    ["echo > out", /operator '>'/],
    ["echo 'open", /unterminated single quote/],
    ['echo "open', /unterminated double quote/],
    ["echo trailing\\", /backslash/],
  ])("rejects %s", (line, why) => {
    const r = splitShellWords(line);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.error).toMatch(why);
  });
});
