import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BootClock, nowBootNs, sampleOffsetMs } from '../../../src/enrich/clock';

test('a boot-time stamp taken now converts to within a few ms of Date.now()', () => {
  const clock = new BootClock();
  const before = Date.now();
  const ms = clock.toUnixMs(nowBootNs());
  const afterMs = Date.now();
  assert.ok(ms >= before - 5 && ms <= afterMs + 5, `${ms} not within [${before}, ${afterMs}] ± 5 ms`);
});

test('boot time agrees with /proc/uptime, which counts time suspended too', () => {
  const uptimeS = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const bootS = nowBootNs() / 1e9;
  assert.ok(Math.abs(bootS - uptimeS) < 0.1, `boot ${bootS} s vs uptime ${uptimeS} s`);
});

test('boot time never goes backwards', () => {
  let last = nowBootNs();
  for (let i = 0; i < 1000; i++) {
    const t = nowBootNs();
    assert.ok(t >= last);
    last = t;
  }
});

test('the realtime − boottime offset is stable between samples', () => {
  assert.ok(Math.abs(sampleOffsetMs() - sampleOffsetMs()) < 1);
});

test('an event stamped one second ago is one second in the past', () => {
  const clock = new BootClock();
  const now = nowBootNs();
  assert.ok(Math.abs(clock.toUnixMs(now) - clock.toUnixMs(now - 1e9) - 1000) < 1e-3);
});

test('a started clock never keeps the process alive (this file would not finish otherwise)', () => {
  new BootClock().start(10);
});

test('a stopped clock can be stopped again', () => {
  const clock = new BootClock().start(10);
  clock.stop();
  clock.stop();
});
