// Writes test/fixtures/sni/: real captures from node, openssl and curl on loopback, and the
// hand-built hellos. Run: node <build>/test/unit/receivers/sni/make-fixtures.js --write [--built-only]
// (without --write it does nothing, so a test runner that globs every file under test/ is harmless).
import { mkdirSync } from 'node:fs';
import { BUILT_FIXTURES, REAL_FIXTURES } from './fixtures';
import { FIXTURE_DIR, writeFixture } from './capture';

async function main(): Promise<void> {
  mkdirSync(FIXTURE_DIR, { recursive: true });
  for (const f of BUILT_FIXTURES) writeFixture(f.file, `hand-built: ${f.description}`, f.build());
  if (process.argv.includes('--built-only')) return;
  for (const f of REAL_FIXTURES) writeFixture(f.file, `captured: ${f.description}`, await f.capture());
}

if (require.main === module && process.argv.includes('--write')) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
