// A child process that makes real traffic for the end-to-end tests, under a comm of its own
// (process.title sets the kernel comm), so tests can check attribution on both ends.
// Usage: node traffic.js <title> <mode> [args...]; prints one JSON line `{"ready":...}` when set up.
import * as dgram from 'node:dgram';
import * as net from 'node:net';

const [title, mode, ...args] = process.argv.slice(2);
process.title = title;

function ready(info: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, ...info }) + '\n');
}

function connectOnce(host: string, port: number, payload: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => s.end(payload));
    s.on('data', () => {});
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

async function main(): Promise<void> {
  switch (mode) {
    // tcp-server HOST: accept, read everything, answer "ok", close. Runs until killed.
    case 'tcp-server': {
      const srv = net.createServer((s) => {
        s.on('data', () => {});
        s.on('end', () => s.end('ok'));
        s.on('error', () => {});
      });
      srv.listen(0, args[0], () => ready({ port: (srv.address() as net.AddressInfo).port }));
      break;
    }
    // tcp-clients HOST PORT N: N sequential connections, each sends "hello", reads the answer.
    case 'tcp-clients': {
      const n = Number(args[2]);
      for (let i = 0; i < n; i++) await connectOnce(args[0], Number(args[1]), 'hello');
      ready({ done: n });
      break;
    }
    // udp-connect HOST PORT N: N UDP sockets connect() (no datagram needs to be sent).
    case 'udp-connect': {
      const n = Number(args[2]);
      for (let i = 0; i < n; i++) {
        const s = dgram.createSocket(net.isIPv6(args[0]) ? 'udp6' : 'udp4');
        await new Promise<void>((res) => s.connect(Number(args[1]), args[0], () => res()));
        s.close();
      }
      ready({ done: n });
      break;
    }
    // refused HOST PORT N: N TCP connects to a port nobody listens on.
    case 'refused': {
      const n = Number(args[2]);
      let refused = 0;
      for (let i = 0; i < n; i++) {
        await connectOnce(args[0], Number(args[1]), '').catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'ECONNREFUSED') refused++;
        });
      }
      ready({ done: n, refused });
      break;
    }
    // concurrent HOST PORT N: N TCP connects at once (all started before any finishes); counts how they ended.
    case 'concurrent': {
      const n = Number(args[2]);
      let refused = 0,
        connected = 0;
      await Promise.all(
        Array.from({ length: n }, () =>
          connectOnce(args[0], Number(args[1]), '').then(
            () => void connected++,
            (e: NodeJS.ErrnoException) => void (e.code === 'ECONNREFUSED' && refused++),
          ),
        ),
      );
      ready({ done: n, refused, connected });
      break;
    }
    // tcp-ack-server HOST: accept, answer "ok" to the first data, close when the client does. Runs until killed.
    case 'tcp-ack-server': {
      const srv = net.createServer((s) => {
        s.once('data', () => s.write('ok'));
        s.on('end', () => s.end());
        s.on('error', () => {});
      });
      srv.listen(0, args[0], () => ready({ port: (srv.address() as net.AddressInfo).port }));
      break;
    }
    // tcp-reset-server HOST: accept, and reset each connection (SO_LINGER 0 close) on its first data. Runs until killed.
    case 'tcp-reset-server': {
      const srv = net.createServer((s) => {
        s.once('data', () => s.resetAndDestroy());
        s.on('error', () => {});
      });
      srv.listen(0, args[0], () => ready({ port: (srv.address() as net.AddressInfo).port }));
      break;
    }
    // tcp-request HOST PORT BYTES N: N sequential connections, each sends BYTES bytes, waits for the answer, closes.
    case 'tcp-request': {
      const n = Number(args[3]);
      const payload = 'x'.repeat(Number(args[2]));
      for (let i = 0; i < n; i++) {
        await new Promise<void>((resolve, reject) => {
          const s = net.connect({ host: args[0], port: Number(args[1]) }, () => s.write(payload));
          s.once('data', () => s.end());
          s.on('error', reject);
          s.on('close', () => resolve());
        });
      }
      ready({ done: n });
      break;
    }
    // reset-clients HOST PORT N: N sequential connections, each sends "hi" and expects the server's reset.
    case 'reset-clients': {
      const n = Number(args[2]);
      let reset = 0;
      for (let i = 0; i < n; i++) {
        await new Promise<void>((resolve) => {
          const s = net.connect({ host: args[0], port: Number(args[1]) }, () => s.write('hi'));
          s.on('data', () => {});
          s.on('error', (e: NodeJS.ErrnoException) => {
            if (e.code === 'ECONNRESET') reset++;
          });
          s.on('close', () => resolve());
        });
      }
      ready({ done: n, reset });
      break;
    }
    // syn-abort HOST PORT N MS: N TCP connects, each abandoned after MS ms (for SYNs that are dropped).
    case 'syn-abort': {
      const n = Number(args[2]);
      for (let i = 0; i < n; i++) {
        await new Promise<void>((resolve) => {
          const s = net.connect({ host: args[0], port: Number(args[1]) });
          s.on('error', () => {});
          setTimeout(() => {
            s.destroy();
            resolve();
          }, Number(args[3]));
        });
      }
      ready({ done: n });
      break;
    }
    // udp-send HOST PORT N: N datagrams from one socket, in bursts of 500; reports how many the kernel took.
    case 'udp-send': {
      const n = Number(args[2]);
      const s = dgram.createSocket(net.isIPv6(args[0]) ? 'udp6' : 'udp4');
      let sent = 0;
      for (let i = 0; i < n; i += 500) {
        const burst: Promise<void>[] = [];
        for (let j = i; j < Math.min(n, i + 500); j++) {
          burst.push(
            new Promise<void>((res) =>
              s.send('x', Number(args[1]), args[0], (err) => {
                if (!err) sent++;
                res();
              }),
            ),
          );
        }
        await Promise.all(burst);
      }
      s.close();
      ready({ done: n, sent });
      break;
    }
    // send HOST PORT TEXT: one connection that writes TEXT and closes, whatever the server answers (a reset too).
    case 'send': {
      await new Promise<void>((resolve) => {
        const s = net.connect({ host: args[0], port: Number(args[1]) }, () => s.end(args[2]));
        s.on('data', () => {});
        s.on('error', () => {});
        s.on('close', () => resolve());
      });
      ready({ done: 1 });
      break;
    }
    // hold HOST PORT: open one connection and keep it open until killed.
    case 'hold': {
      const s = net.connect({ host: args[0], port: Number(args[1]) }, () => ready({ localPort: s.localPort }));
      s.on('data', () => {});
      s.on('error', () => {});
      break;
    }
    default:
      process.stderr.write(`unknown mode ${mode}\n`);
      process.exit(2);
  }
}

main().then(
  () => {
    if (!['tcp-server', 'tcp-ack-server', 'tcp-reset-server', 'hold'].includes(mode)) process.exit(0);
  },
  (e) => {
    process.stderr.write(String(e) + '\n');
    process.exit(1);
  },
);
