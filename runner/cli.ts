/** The dkron-runner CLI (placeholder until the join command lands). */
export async function main(argv: string[]): Promise<void> {
  console.log("dkron-runner: not yet implemented", argv.join(" "));
}
