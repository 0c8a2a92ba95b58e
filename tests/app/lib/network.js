// The town hall's server for the network-cut journey: `kofu serve` on the embedded
// demo database, reached by the app through a loopback TCP proxy that the journey
// cuts (every connection dropped, new ones refused) and restores.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { openSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

/** A free loopback port (bound, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Waits (bounded) until `check` resolves truthy. */
export async function waitUntil(what, check, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Starts `kofu serve` with the counter API on a loopback port; logs in `logDir`. */
export async function startServer(kofu, database, logDir) {
  const [counterPort, lgwanPort] = [await freePort(), await freePort()];
  const log = openSync(join(logDir, 'kofu-serve.log'), 'a');
  const child = spawn(
    kofu,
    ['serve', '--database', database, '--lgwan-listen', `127.0.0.1:${lgwanPort}`, '--counter-listen', `127.0.0.1:${counterPort}`, '--insecure-loopback'],
    { stdio: ['ignore', log, log] },
  );
  const base = `http://127.0.0.1:${counterPort}`;
  await waitUntil('kofu serve answers its health probe', async () => (await fetch(`${base}/counter/v1/health`)).status === 204);
  return {
    base,
    port: counterPort,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Enrols the terminal `name` as an administrator at the server's console would
 * (`kofu terminal enroll`), answering the one-time code it prints. */
export async function enrolTerminal(kofu, database, name) {
  const { stdout } = await promisify(execFile)(kofu, ['terminal', 'enroll', '--name', name, '--database', database]);
  const code = /^enrolment_code: (\S+)$/m.exec(stdout)?.[1];
  if (!code) throw new Error(`kofu terminal enroll printed no code: ${stdout}`);
  return code;
}

/** A TCP proxy from a loopback port to `upstream`, which can be cut and restored. */
export async function startProxy(upstream) {
  const sockets = new Set();
  let down = false;
  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const target = connect(upstream, '127.0.0.1');
    for (const s of [client, target]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(target);
    target.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close() {
      down = true;
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
