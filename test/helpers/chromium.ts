// Headless Chromium (Debian's `chromium`, installed by `sh bpf/setup-host.sh test`) driven over the
// Chrome DevTools Protocol, as Puppeteer does it: the browser's WebSocket, one page target attached
// with flatten (its commands carry the session id). undici's WebSocket, because Node 20 has no global one.
// The browser runs in a process group of its own with a throwaway profile; close() ends the group
// and removes the profile, whatever state the browser is in.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'undici';

const LAUNCH_TIMEOUT_MS = 30_000;
const COMMAND_TIMEOUT_MS = 15_000;

export const CHROMIUM = 'chromium';

const FLAGS = [
  '--headless=new',
  // The tests run as root, where Chromium's sandbox refuses to start.
  '--no-sandbox',
  '--disable-gpu',
  // Containers often have a small /dev/shm.
  '--disable-dev-shm-usage',
  // Talk to nothing but the page: no proxy from the environment, no updates, sync or first-run calls.
  '--no-proxy-server',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--no-first-run',
  '--no-default-browser-check',
  '--password-store=basic',
  '--remote-debugging-address=127.0.0.1',
  // 0: Chromium picks a free port and prints `DevTools listening on ws://…` on stderr.
  '--remote-debugging-port=0',
];

type Listener = (params: any) => void;

export class Page {
  private readonly listeners = new Map<string, Listener[]>();

  constructor(
    private readonly browser: Browser,
    readonly sessionId: string,
  ) {}

  send(method: string, params: Record<string, unknown> = {}): Promise<any> {
    return this.browser.send(method, params, this.sessionId);
  }

  on(event: string, fn: Listener): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
  }

  /** The next `event`'s params (only events that come after this call). */
  once(event: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<any> {
    return withTimeout(
      new Promise((resolve) => {
        const fn: Listener = (params) => {
          this.listeners.set(
            event,
            (this.listeners.get(event) ?? []).filter((f) => f !== fn),
          );
          resolve(params);
        };
        this.on(event, fn);
      }),
      timeoutMs,
      event,
    );
  }

  /** @internal */
  emit(event: string, params: unknown): void {
    for (const fn of this.listeners.get(event) ?? []) fn(params);
  }

  /** The value of a JavaScript expression in the page (promises awaited); a thrown error is rethrown here. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails)
      throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}\n  evaluating: ${expression}`);
    return r.result.value as T;
  }

  /** Polls `expression` until it is truthy and returns it; the error names `what` and the last value. */
  async waitFor<T>(what: string, expression: string, timeoutMs = 20_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      last = await this.evaluate<T>(expression);
      if (last) return last as T;
      if (Date.now() > end) throw new Error(`${what}: not after ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Navigates and resolves once the page's load event fired. */
  async navigate(url: string): Promise<void> {
    const loaded = this.once('Page.loadEventFired');
    loaded.catch(() => undefined); // awaited below unless navigating fails first
    const r = await this.send('Page.navigate', { url });
    if (r.errorText) throw new Error(`navigating to ${url}: ${r.errorText}`);
    await loaded;
  }

  /** Clicks the middle of the first element `selector` matches with the mouse, as a user would (focus moves, blur handlers run). */
  async click(selector: string): Promise<void> {
    const at = await this.evaluate<{ x: number; y: number } | null>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) return null;
      el.scrollIntoView({ block: 'center' });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    })()`);
    if (!at) throw new Error(`click: nothing matches ${selector}`);
    for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased']) {
      await this.send('Input.dispatchMouseEvent', { type, ...at, button: 'left', clickCount: type === 'mouseMoved' ? 0 : 1 });
    }
  }

  /** Types text into the focused element, as a user would (React sees real input events). */
  async type(text: string): Promise<void> {
    await this.send('Input.insertText', { text });
  }
}

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; method: string }>();
  private readonly pages = new Map<string, Page>();
  private closed = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
    private readonly ws: WebSocket,
    private readonly stderr: () => string,
  ) {
    ws.addEventListener('message', (ev) => this.onMessage(String(ev.data)));
    ws.addEventListener('close', () => {
      for (const p of this.pending.values()) p.reject(new Error(`chromium went away during ${p.method}\n${this.stderr()}`));
      this.pending.clear();
    });
  }

  /** Starts Chromium; a missing binary is an error saying how to install it (never a skip). */
  static async launch(): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'netwatch-chromium-'));
    const child = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const tail = () => stderr.split('\n').slice(-15).join('\n');
    const kill = () => killGroup(child);
    // A test that crashes or times out still leaves no browser behind.
    process.once('exit', kill);
    try {
      const url = await withTimeout(
        new Promise<string>((resolve, reject) => {
          child.on('error', (e: NodeJS.ErrnoException) =>
            reject(
              e.code === 'ENOENT'
                ? new Error(`${CHROMIUM} is not installed: this test needs Debian's chromium (sh bpf/setup-host.sh test installs it; npm test runs that)`)
                : e,
            ),
          );
          child.on('exit', (code, signal) => reject(new Error(`${CHROMIUM} exited (${signal ?? code}) before its DevTools endpoint was up:\n${tail()}`)));
          child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
            stderr += chunk;
            const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
            if (m) resolve(m[1]!);
          });
        }),
        LAUNCH_TIMEOUT_MS,
        `${CHROMIUM} to print its DevTools endpoint`,
      );
      const ws = new WebSocket(url);
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          ws.addEventListener('open', () => resolve());
          ws.addEventListener('error', () => reject(new Error(`cannot open ${url}`)));
        }),
        COMMAND_TIMEOUT_MS,
        `the DevTools WebSocket ${url}`,
      );
      const b = new Browser(child, profile, ws, tail);
      process.off('exit', kill);
      process.once('exit', b.killNow);
      return b;
    } catch (e) {
      process.off('exit', kill);
      await stopChild(child);
      rmSync(profile, { recursive: true, force: true });
      throw e;
    }
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> {
    if (this.closed) return Promise.reject(new Error(`${method}: the browser is closed`));
    const id = this.nextId++;
    const reply = new Promise<any>((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
    this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return withTimeout(reply, COMMAND_TIMEOUT_MS, `the answer to ${method}`).finally(() => this.pending.delete(id));
  }

  /** A new tab at about:blank, attached, with Page, Runtime and Network events on. */
  async newPage(): Promise<Page> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId as string);
    this.pages.set(page.sessionId, page);
    await Promise.all([page.send('Page.enable'), page.send('Runtime.enable'), page.send('Network.enable')]);
    return page;
  }

  /** Ends the browser's process group and removes its profile. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    process.off('exit', this.killNow);
    this.ws.close();
    await stopChild(this.child);
    rmSync(this.profile, { recursive: true, force: true });
  }

  private readonly killNow = (): void => killGroup(this.child);

  private onMessage(text: string): void {
    const msg = JSON.parse(text);
    if (typeof msg.id === 'number') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message} (${msg.error.code})`));
      else p.resolve(msg.result);
    } else if (msg.sessionId) {
      this.pages.get(msg.sessionId)?.emit(msg.method, msg.params);
    }
  }
}

/**
 * SIGKILL to the browser's process group (renderers, GPU and zygote processes included), even once
 * its leader has exited: the group id stays taken while any member lives.
 */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  const running = child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const exited = running ? new Promise<void>((r) => child.once('exit', () => r())) : Promise.resolve();
  killGroup(child);
  await withTimeout(exited, 10_000, `${CHROMIUM} (pid ${child.pid}) to exit after SIGKILL`);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
