// 100 000+ hostile inputs through the parser and the reassembler: no exception, no hang, each case
// bounded in time. Set SNI_FUZZ_SEED to replay a run; the seed is printed either way.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { FIXTURE_DIR, readFixture } from './capture';
import type { FuzzJob, FuzzReport } from './fuzz-worker';

const CASES = 200_000;
const WORKERS = 2;
/** A case slower than this, on its best of several runs, counts as a hang. */
const MAX_CASE_MS = 100;
/** No progress report for this long: a worker is stuck. */
const STALL_MS = 5000;
const TOTAL_MS = 20_000;

test('the parser and the reassembler survive 200 000 random and mutated hellos without exception or hang', async (t) => {
  const seed = process.env.SNI_FUZZ_SEED ? Number(process.env.SNI_FUZZ_SEED) : Math.floor(Math.random() * 0x100000000);
  t.diagnostic(`SNI_FUZZ_SEED=${seed}`);
  console.log(`sni fuzz: SNI_FUZZ_SEED=${seed}`);
  const fixtures = readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.hex'))
    .map(readFixture);
  assert.ok(fixtures.length >= 10);
  const current = new Int32Array(new SharedArrayBuffer(4 * WORKERS));
  const started = Date.now();
  const results = await new Promise<FuzzReport[]>((resolve, reject) => {
    const workers: Worker[] = [];
    const done: FuzzReport[] = [];
    let lastProgress = Date.now();
    const stop = (err?: Error): void => {
      clearInterval(watchdog);
      for (const w of workers) void w.terminate();
      if (err) reject(err);
      else resolve(done);
    };
    const watchdog = setInterval(() => {
      if (Date.now() - lastProgress > STALL_MS) {
        stop(new Error(`fuzz stalled (seed ${seed}); cases running: ${Array.from(current).join(', ')}`));
      }
    }, 250);
    for (let w = 0; w < WORKERS; w++) {
      const job: FuzzJob = { seed, worker: w, workers: WORKERS, cases: CASES, fixtures, current, recheckMs: MAX_CASE_MS / 5 };
      const worker = new Worker(join(__dirname, 'fuzz-worker.js'), { workerData: job });
      workers.push(worker);
      worker.on('error', (e) => stop(e));
      worker.on('message', (m: FuzzReport) => {
        lastProgress = Date.now();
        if (m.type === 'failure') {
          stop(new Error(`fuzz case ${m.caseIndex} (seed ${seed}) threw: ${m.message}\ninput: ${m.inputHex}`));
        } else if (m.type === 'done') {
          done.push(m);
          if (done.length === WORKERS) stop();
        }
      });
    }
  });
  const elapsed = Date.now() - started;
  let total = 0;
  for (const r of results) {
    assert.ok(r.type === 'done');
    total += r.done;
    t.diagnostic(
      `worker ${r.worker}: ${r.done} cases, ${r.parsedOk} parsed ok, ${r.events} events, slowest case ${r.slowestCase} at ${r.maxCaseMs.toFixed(2)} ms`,
    );
    assert.ok(r.maxCaseMs < MAX_CASE_MS, `case ${r.slowestCase} took ${r.maxCaseMs} ms (seed ${seed})`);
    assert.ok(r.parsedOk > 0, 'some mutations must still parse, or the fuzzer only exercises the first check');
  }
  assert.equal(total, CASES);
  assert.ok(elapsed < TOTAL_MS, `fuzzing took ${elapsed} ms`);
  t.diagnostic(`${total} cases in ${elapsed} ms`);
});
