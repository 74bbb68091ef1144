/**
 * Positional arguments of a bench script: `--help` prints the usage, and a value that is not what the
 * bench needs stops it with a message naming the argument instead of printing NaN figures.
 */
export function benchArgs(usage: string): {
  int: (position: number, name: string, fallback: number) => number;
  choice: <T extends string>(position: number, name: string, allowed: readonly T[], fallback: T) => T;
} {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const fail = (msg: string): never => {
    process.stderr.write(`${msg}\n${usage}\n`);
    process.exit(2);
  };
  return {
    int(position, name, fallback) {
      const raw = argv[position];
      if (raw === undefined) return fallback;
      const n = Number(raw);
      return Number.isInteger(n) && n > 0
        ? n
        : fail(`${name}: expected a positive whole number, got "${raw}"`);
    },
    choice(position, name, allowed, fallback) {
      const raw = argv[position];
      if (raw === undefined) return fallback;
      return (allowed as readonly string[]).includes(raw)
        ? (raw as (typeof allowed)[number])
        : fail(`${name}: expected one of ${allowed.join(", ")}, got "${raw}"`);
    },
  };
}
