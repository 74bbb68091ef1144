// Import boundaries of DESIGN.md §2 and STYLE.md convention 1, checked by `npm run lint:deps`:
//   depcruise --config .dependency-cruiser.cjs shared control runner edge
// A failure names the rule, the importing file and what it imports ("error <rule>: <from> → <to>"),
// followed by the rule's comment below, which says what to do instead.
//
// Paths are matched relative to the repo root. Core modules appear by their bare name ("fs"), whether
// the source wrote "fs" or "node:fs"; npm packages by their resolved path under node_modules/.
//
// "import-folders-through-index" relies on `to.pathNot` referring to `from.path`'s capture groups
// ($1 the component, $2 its subfolder): a file may import its own folder and its ancestors' files,
// and any other folder only through that folder's index.ts.

/** Our four source folders. */
const SRC = "^(shared|control|runner|edge)/";
/** Tests may import anything (and so may test/, bench/, scripts/, which are not cruised as sources). */
const TEST = "\\.(test|contract)\\.tsx?$";
/** Tests that span components and their helpers, benchmarks and scripts: never imported by source. */
const TEST_ONLY = ["^test/", "^bench/", "^scripts/", TEST];
/** npm packages that load native code or Node's network stack: never in shared/ or edge/. */
const NODE_ONLY_PACKAGES = "(^|/)node_modules/(better-sqlite3|ws|undici)/";
/** npm packages shared/ may use (DESIGN.md §2). */
const SHARED_PACKAGES = "(^|/)node_modules/(zod|cron-parser)/";
/** npm packages edge/ may use: shared's plus hono. Each bundles for workerd. */
const EDGE_PACKAGES = "(^|/)node_modules/(zod|cron-parser|hono)/";
/**
 * The composition roots: the only control/ files that may import edge/ and runner/ (to build the
 * embedded default: one control node, the edge app in-process and a local runner).
 * control/main.ts is THE composition root; nothing else in control/ may import them.
 */
const COMPOSITION_ROOTS = ["^control/main\\.ts$"];

const THROUGH_INDEX =
  "A folder's index.ts is its public face (STYLE.md convention 12): import another folder as " +
  "'../store', not '../store/db'; if the name you need is not exported there, export it from that " +
  "index.ts. A file's own folder and its component root's files are imported directly.";

module.exports = {
  forbidden: [
    {
      name: "import-folders-through-index",
      severity: "error",
      comment: THROUGH_INDEX,
      // A file at a component's root (control/main.ts): its own folder's files, other folders' index.ts.
      from: { path: "^(shared|control|runner|edge)/[^/]+$", pathNot: TEST },
      to: { path: "^(shared|control|runner|edge)/", pathNot: ["/index\\.ts$", "^$1/[^/]+$", TEST] },
    },
    {
      name: "import-folders-through-index",
      severity: "error",
      comment: THROUGH_INDEX,
      // A file in a subfolder (control/dispatch/dispatcher.ts): its own folder's and its component
      // root's files, other folders' index.ts. (Two rules: one optional group trips the safe-regex check.)
      from: { path: "^(shared|control|runner|edge)/([^/]+)/[^/]+$", pathNot: TEST },
      to: {
        path: "^(shared|control|runner|edge)/",
        pathNot: ["/index\\.ts$", "^$1/[^/]+$", "^$1/$2/[^/]+$", TEST],
      },
    },
    {
      name: "shared-edge-no-node-builtins",
      severity: "error",
      comment:
        "shared/ and edge/ run in workerd (Cloudflare Workers) as well as Node: no Node builtin at all, " +
        "with or without the node: prefix. Use web standards (fetch, WebCrypto, TextEncoder, URL), or " +
        "take what you need as a dependency that control/ or runner/ supplies.",
      // Their tests too: they must be able to run in workerd (vitest-pool-workers) as well.
      from: { path: "^(shared|edge)/" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "shared-edge-no-node-packages",
      severity: "error",
      comment:
        "better-sqlite3, ws and undici need Node (native code, Node sockets): they belong to control/ " +
        "and runner/. shared/ and edge/ must stay runtime-neutral and bundle for workerd.",
      from: { path: "^(shared|edge)/", pathNot: TEST },
      to: { path: NODE_ONLY_PACKAGES },
    },
    {
      name: "shared-imports-only-shared",
      severity: "error",
      comment:
        "shared/ is the vocabulary every other folder imports, so it imports nothing of ours outside " +
        "shared/ (only zod and cron-parser from npm). Move the thing you need into shared/, or pass it in.",
      from: { path: "^shared/", pathNot: TEST },
      to: { pathNot: ["^shared/", SHARED_PACKAGES], dependencyTypesNot: ["core"], couldNotResolve: false },
    },
    {
      name: "edge-imports-only-shared-and-edge",
      severity: "error",
      comment:
        "edge/ talks to control only through the control-api contract (shared/control-api.ts and its " +
        "client); it imports shared/, itself and hono, zod, cron-parser; nothing of control/ or runner/.",
      from: { path: "^edge/", pathNot: TEST },
      to: {
        pathNot: ["^(edge|shared)/", EDGE_PACKAGES],
        dependencyTypesNot: ["core"],
        couldNotResolve: false,
      },
    },
    {
      name: "edge-workerd-bundle",
      severity: "error",
      comment:
        "Everything edge/worker.ts (the Workers entry) and edge/app.ts (createApp) reach, transitively, " +
        "must bundle for workerd: only edge/ and shared/ source and the npm packages hono, zod, " +
        "cron-parser. The message shows the import chain that leads out.",
      from: { path: "^edge/(worker|app)\\.ts$" },
      to: { reachable: true, pathNot: ["^(edge|shared)/", EDGE_PACKAGES] },
    },
    {
      name: "runner-not-to-control-or-edge",
      severity: "error",
      comment:
        "runner/ is its own npm package (dkron-runner) and talks to control only over the runner wire " +
        "protocol (shared/wire.ts): it imports nothing of control/ or edge/.",
      from: { path: "^runner/", pathNot: TEST },
      to: { path: "^(control|edge)/" },
    },
    {
      name: "control-to-edge-runner-only-from-composition-root",
      severity: "error",
      comment:
        "Dependencies point one way (control → shared): only the composition root control/main.ts " +
        "may import edge/ and runner/. " +
        "Anywhere else in control/, take what you need as a dependency the root passes in.",
      from: { path: "^control/", pathNot: [...COMPOSITION_ROOTS, TEST] },
      to: { path: "^(edge|runner)/" },
    },
    {
      name: "composition-root-imports-entry-points",
      severity: "error",
      comment:
        "control/main.ts takes the edge app and the runner from their entry points (edge/index.ts, " +
        "runner/index.ts) only; export what it needs there rather than reaching into their folders.",
      from: { path: COMPOSITION_ROOTS },
      to: { path: "^(edge|runner)/", pathNot: "^(edge|runner)/index\\.ts$" },
    },
    {
      name: "source-not-to-tests",
      severity: "error",
      comment:
        "Source never imports tests, test/ helpers, bench/ or scripts/: they may import anything, so " +
        "a source module importing them would smuggle in what the rules above forbid.",
      from: { path: SRC, pathNot: TEST },
      to: { path: TEST_ONLY },
    },
    {
      name: "no-circular",
      severity: "error",
      comment:
        "No import cycles in shared/, control/, runner/, edge/. Type-only imports count too (there are " +
        "none today): they vanish at runtime, but a cycle of types still means two modules that cannot " +
        "be understood, moved or published apart; break it by moving the shared type down a level.",
      from: { path: SRC },
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment:
        "An import that does not resolve would slip past every rule above (and fail at runtime): fix the " +
        "path, or add the package to the folder's package.json.",
      // runner/bin loads the bundle (runner/dist) that `npm run build:runner` makes; lint runs before it.
      from: { path: SRC, pathNot: "^runner/bin/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // The runner bundle (built output with ws, zod and undici inside) is not source: runner/bin loading
    // it is the package's entry, not a folder reaching past an index.
    exclude: { path: "^runner/dist/" },
    // Type-only imports are dependencies too (runner/ is published on its own; a type from control/
    // would not be there), so keep them in the graph.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // node_modules is a symlink in some worktrees; keep npm paths as node_modules/<pkg>/… either way.
    preserveSymlinks: true,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".d.ts", ".js", ".mjs", ".cjs", ".json"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
