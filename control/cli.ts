/** The dkron CLI (placeholder until the agent command lands). */
export async function main(argv: string[]): Promise<void> {
  console.log("dkron: not yet implemented", argv.join(" "));
}
