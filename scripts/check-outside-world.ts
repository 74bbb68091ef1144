/**
 * STYLE.md convention 4, checked: outside composition roots and adapters, source code does not reach
 * for the outside world itself; it gets a Clock, a random source and a WebSocket factory through its
 * deps, and only entry files construct the real ones. Run by `npm run lint:world`.
 *
 * Flagged in non-test source of shared/, control/, runner/, edge/:
 *   clock   Date.now, new Date() with no argument, Date(), performance.now
 *   timers  setTimeout, setInterval, clearTimeout, clearInterval (as globals, or globalThis.*), and
 *           importing node:timers or node:timers/promises
 *   random  Math.random, crypto.getRandomValues, crypto.randomUUID
 *   socket  new WebSocket(…), and importing node:dgram (UDP sockets)
 *   network the global fetch, called or passed on
 * Not flagged: setImmediate and queueMicrotask: they order work within the event loop and carry no
 * duration, so they are not time (the Raft driver uses setImmediate to batch its drain and to send
 * notices after the current turn; behind a fake clock that work would wait for a test's advance());
 * a method or property named like a global (`clock.setTimeout`, `{ now() {} }`);
 * `new Date(ms)`, which reads no clock; node:crypto (secrets and temp-file names, not behaviour a
 * test replays).
 *
 * The check is syntactic (one parse per file, no type checker, well under a second): a name declared
 * in the file itself (a parameter or variable called setTimeout) is taken to shadow the global.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FOLDERS = ["shared", "control", "runner", "edge"];

/**
 * Files that ARE the outside world, or build it. Every entry says why; keep the list short, and
 * prefer injecting to adding here. A listed file that has nothing to allow is reported as a note.
 * An entry file joins the list when it starts constructing real deps (runner/cli.ts will, once the
 * join command builds a RunnerAgent).
 */
const ALLOWED: Record<string, string> = {
  "shared/clock.ts": "systemClock, the real Clock: wall time and the platform's timers",
  "shared/web-random.ts":
    "webRandomBytes, the real secret randomness (Web Crypto) the edge's CSRF tokens default to",
  "shared/logger.ts": "createLogger, the real logger: a log line's timestamp is wall time by definition",
  "control/main.ts": "THE composition root: constructs the real clock, random source, fetch and sockets",
  "control/raft-cli.ts": "the entry of `dkron raft`: its requests are the real network",
  "control/api-cli.ts":
    "the API client of the CLI entries (`dkron token`, `dkron leave`): its requests are the real network",
  "edge/worker.ts": "the Workers entry: it hands the platform's fetch to the edge app's control client",
  "runner/cli.ts":
    "the entry of `dkron-runner`: it builds the runner service with the real WebSocket, randomness and clock",
  "runner/gossip/udp-transport.ts":
    "the gossip adapter: it IS the UDP socket (node:dgram) behind the DatagramTransport the shell takes",
};

/** What is flagged, keyed by kind. */
type Kind = "clock" | "timers" | "random" | "socket" | "network";
const GLOBAL_TIMERS = new Set(["setTimeout", "setInterval", "clearTimeout", "clearInterval"]);
const MEMBERS = new Map<string, Kind>([
  ["Date.now", "clock"],
  ["performance.now", "clock"],
  ["Math.random", "random"],
  ["crypto.getRandomValues", "random"],
  ["crypto.randomUUID", "random"],
]);
const ADVICE: Record<Kind, string> = {
  clock: "take a Clock (shared/clock.ts) through deps and call clock.now()",
  timers: "take a Clock (shared/clock.ts) through deps and use clock.setTimeout/clearTimeout",
  random: "take a random source through deps (e.g. random: () => number)",
  socket:
    "take a WebSocket factory (or a DatagramTransport) through deps; the composition root passes the real one",
  network: "take a fetch through deps; the composition root passes the real one",
};

interface Finding {
  file: string;
  line: number;
  col: number;
  kind: Kind;
  what: string;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules") out.push(...sourceFiles(p));
    } else if (/\.(ts|tsx|mts)$/.test(e.name) && !/\.d\.ts$/.test(e.name) && !/\.test\.tsx?$/.test(e.name)) {
      out.push(p);
    }
  }
  return out;
}

/** `X` or `globalThis.X`: the name X when expr refers to a global by that name, else undefined. */
function globalName(expr: ts.Expression): string | undefined {
  if (ts.isIdentifier(expr)) return expr.text;
  if (
    ts.isPropertyAccessExpression(expr) &&
    ts.isIdentifier(expr.expression) &&
    expr.expression.text === "globalThis"
  )
    return expr.name.text;
  return undefined;
}

/** Names the file declares itself (they shadow the globals of the same name). */
function localNames(sf: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (
      (ts.isVariableDeclaration(n) ||
        ts.isParameter(n) ||
        ts.isFunctionDeclaration(n) ||
        ts.isBindingElement(n) ||
        ts.isClassDeclaration(n)) &&
      n.name &&
      ts.isIdentifier(n.name)
    )
      names.add(n.name.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return names;
}

/** Whether an identifier names a property or declares something, rather than referring to a value. */
function isNameNotReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p) || ts.isQualifiedName(p)) return true;
  const named =
    ts.isPropertyAccessExpression(p) ||
    ts.isPropertyAssignment(p) ||
    ts.isMethodDeclaration(p) ||
    ts.isMethodSignature(p) ||
    ts.isPropertySignature(p) ||
    ts.isPropertyDeclaration(p) ||
    ts.isGetAccessor(p) ||
    ts.isSetAccessor(p) ||
    ts.isVariableDeclaration(p) ||
    ts.isParameter(p) ||
    ts.isFunctionDeclaration(p) ||
    ts.isBindingElement(p) ||
    ts.isJsxAttribute(p);
  return named && p.name === id;
}

/** Whether a node sits in a type (typeof setInterval in a type changes nothing at runtime). */
function inType(n: ts.Node): boolean {
  for (let p: ts.Node | undefined = n.parent; p; p = p.parent) {
    if (ts.isTypeNode(p)) return true;
    if (ts.isStatement(p) || ts.isSourceFile(p)) return false;
  }
  return false;
}

function check(path: string): Finding[] {
  const file = relative(ROOT, path).split("\\").join("/");
  const text = readFileSync(path, "utf8");
  const sf = ts.createSourceFile(
    path,
    text,
    ts.ScriptTarget.Latest,
    true,
    path.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
  const shadowed = localNames(sf);
  const found: Finding[] = [];
  const flag = (n: ts.Node, kind: Kind, what: string) => {
    const { line, character } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
    found.push({ file, line: line + 1, col: character + 1, kind, what });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      if (/^(node:)?timers(\/promises)?$/.test(n.moduleSpecifier.text))
        flag(n, "timers", `import from "${n.moduleSpecifier.text}"`);
      else if (/^(node:)?dgram$/.test(n.moduleSpecifier.text))
        flag(n, "socket", `import from "${n.moduleSpecifier.text}"`);
    } else if (ts.isPropertyAccessExpression(n) && !inType(n)) {
      const obj = globalName(n.expression);
      const kind = obj && !shadowed.has(obj) ? MEMBERS.get(`${obj}.${n.name.text}`) : undefined;
      if (kind) flag(n, kind, `${obj}.${n.name.text}`);
      else if (
        ts.isIdentifier(n.expression) &&
        n.expression.text === "globalThis" &&
        GLOBAL_TIMERS.has(n.name.text)
      )
        flag(n, "timers", `globalThis.${n.name.text}`);
    } else if (ts.isIdentifier(n) && GLOBAL_TIMERS.has(n.text) && !shadowed.has(n.text)) {
      if (!isNameNotReference(n) && !inType(n)) flag(n, "timers", n.text);
    } else if (ts.isIdentifier(n) && n.text === "fetch" && !shadowed.has("fetch")) {
      // The global fetch, called or passed on: the network, which tests must be able to replace.
      if (!isNameNotReference(n) && !inType(n)) flag(n, "network", "the global fetch");
    } else if (ts.isNewExpression(n)) {
      const name = globalName(n.expression);
      if (name === "Date" && !shadowed.has(name) && !n.arguments?.length) flag(n, "clock", "new Date()");
      if (
        name === "WebSocket" ||
        (ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === "WebSocket")
      )
        flag(n, "socket", "new WebSocket");
    } else if (ts.isCallExpression(n) && globalName(n.expression) === "Date" && !shadowed.has("Date")) {
      flag(n, "clock", "Date()");
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

const started = performance.now();
const files = FOLDERS.flatMap((f) => sourceFiles(join(ROOT, f))).sort();
const findings = files.flatMap(check);
const violations = findings.filter((f) => !(f.file in ALLOWED));
const used = new Set(findings.map((f) => f.file));

for (const v of violations)
  console.error(`${v.file}:${v.line}:${v.col}  outside-world/${v.kind}: ${v.what}; ${ADVICE[v.kind]}`);
for (const [file, why] of Object.entries(ALLOWED))
  if (files.some((f) => relative(ROOT, f) === file) && !used.has(file))
    console.log(
      `note: ${file} is allow-listed (${why}) but reaches for nothing; drop it from ALLOWED if it stays so`,
    );

const ms = Math.round(performance.now() - started);
if (violations.length) {
  console.error(
    `\n✘ ${violations.length} outside-world use(s) outside composition roots and adapters (${files.length} files, ${ms} ms).` +
      "\n  Inject it (STYLE.md convention 4), or, if the file IS the outside world or an entry that builds it," +
      "\n  add it with a reason to ALLOWED in scripts/check-outside-world.ts.",
  );
  process.exit(1);
}
console.log(
  `✔ no outside-world use outside composition roots and adapters (${files.length} files, ${ms} ms)`,
);
