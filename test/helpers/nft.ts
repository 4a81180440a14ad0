// nftables rulesets loaded inside a test's own network namespace (they go away with it). The
// kernel here has no netem, so loss is made with nftables: a DROP rule on a port, or a
// deterministic drop of the first K data segments of a flow (`numgen inc` counts matching packets).
import { execFileSync } from 'node:child_process';

/** Load `ruleset` (nft -f syntax) in network namespace `netns`. */
export function nft(netns: string, ruleset: string): void {
  execFileSync('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], { input: ruleset, stdio: ['pipe', 'ignore', 'pipe'] });
}

/** A table `netwatch_test` with one base chain on `hook` (input or output) holding `rules`, one per line. */
export function filterChain(hook: 'input' | 'output', rules: readonly string[]): string {
  return `table inet netwatch_test {\n  chain ${hook} {\n    type filter hook ${hook} priority 0;\n${rules.map((r) => `    ${r}\n`).join('')}  }\n}\n`;
}
