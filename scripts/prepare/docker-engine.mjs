// The Docker engine: runners start step containers through it, and tests build images.
// When it does not answer and we are root, start dockerd in the background; it outlives
// this script (no systemd here to own it).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { PrepareError, capture, indent, isRoot, say, tail, waitFor, which } from './shell.mjs';

const DEFAULT_SOCKET = '/var/run/docker.sock';

/** The engine's unix socket from DOCKER_HOST, or '' when DOCKER_HOST names a remote engine. */
export function dockerSocket(env = process.env) {
  const host = env.DOCKER_HOST;
  if (!host) return DEFAULT_SOCKET;
  return host.startsWith('unix://') ? host.slice('unix://'.length) : '';
}

/** Asks the engine's /_ping over its socket: 'ok', 'absent' (nothing listens), 'denied' or another error text. */
export function pingDocker(socketPath, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? 'ok' : `HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', (err) => {
      const code = /** @type {any} */ (err).code;
      if (code === 'ENOENT' || code === 'ECONNREFUSED') resolve('absent');
      else if (code === 'EACCES' || code === 'EPERM') resolve('denied');
      else resolve(err.message);
    });
  });
}

/** The pid of a live process whose command name is `name` (as /proc shows it), or 0. */
export function findProcess(name) {
  const comm = name.slice(0, 15); // the kernel keeps 15 characters
  let pids = [];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      if (stat.slice(open + 1, close) === comm && stat[close + 2] !== 'Z') return Number(pid);
    } catch {
      // gone meanwhile
    }
  }
  return 0;
}

/**
 * Makes sure a Docker engine answers. `dataDir` holds dockerd.log when we start one.
 * `dockerd` (the program to start) is an option for tests.
 */
export async function ensureDockerEngine({ dataDir, env = process.env, dockerd = 'dockerd', timeoutMs = 60_000 }) {
  const socket = dockerSocket(env);
  if (!socket) {
    // A remote engine (tcp://, ssh://): not ours to start; the docker client knows how to reach it.
    if (capture('docker', ['info'], { env, timeoutMs: 20_000 }).ok) return false;
    throw new PrepareError(`the Docker engine at DOCKER_HOST=${env.DOCKER_HOST} does not answer \`docker info\``, 'Start it, or unset DOCKER_HOST to use a local engine.');
  }
  const first = await pingDocker(socket);
  if (first === 'ok') return false;
  if (first === 'denied') {
    throw new PrepareError(
      `the Docker engine's socket ${socket} is not open to this user`,
      'Add yourself to the docker group (sudo usermod -aG docker $USER, then log in again), or run as root.',
    );
  }
  if (!isRoot()) {
    throw new PrepareError(
      `the Docker engine does not answer at ${socket} (${first})`,
      'Start it as root (sudo service docker start, or: sudo dockerd >/var/log/dockerd.log 2>&1 &), then run this again.',
    );
  }

  const log = path.join(dataDir, 'dockerd.log');
  const name = path.basename(dockerd);
  // An engine that is starting (the docker.io package's own init script, just installed, may
  // have launched one) or stuck: wait for it rather than start a second one.
  const running = findProcess(name);
  let exited = '';
  if (running) {
    // An engine is starting (or stuck): wait for it rather than start a second one.
    say(`waiting for the Docker engine (dockerd pid ${running}) to answer`);
  } else {
    const binary = dockerd.includes('/') ? dockerd : which(dockerd);
    if (!binary) throw new PrepareError('dockerd is not installed', 'Install Debian\'s docker.io package.');
    fs.mkdirSync(dataDir, { recursive: true });
    const out = fs.openSync(log, 'a');
    const args = socket === DEFAULT_SOCKET ? [] : [`--host=unix://${socket}`];
    say(`starting the Docker engine (dockerd, log in ${path.relative(process.cwd(), log) || log})`);
    // detached: its own session, so it survives this script and the terminal's Ctrl-C.
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    child.on('exit', (code, signal) => {
      // It may have lost a race with an engine started meanwhile: then wait for that one.
      if (!findProcess(name)) exited = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    });
    child.on('error', (err) => {
      exited = `could not start: ${err.message}`;
    });
    child.unref();
  }
  await waitFor(
    async () => {
      if (exited) {
        throw new PrepareError(`dockerd ${exited}; the end of ${log}:\n${indent(tail(log))}`, 'Fix what the log says, then run this again.');
      }
      return (await pingDocker(socket, 1000)) === 'ok';
    },
    {
      timeoutMs,
      onTimeout: () =>
        running
          ? new PrepareError(
              `${name} (pid ${running}) is running but the Docker engine did not answer at ${socket} within ${timeoutMs / 1000} s`,
              'See its log (/var/log/docker.log when the docker.io service started it); stop it to let this start one.',
            )
          : new PrepareError(
              `the Docker engine did not answer at ${socket} within ${timeoutMs / 1000} s; the end of ${log}:\n${indent(tail(log))}`,
              'Fix what the log says (or start dockerd yourself), then run this again.',
            ),
    },
  );
  return true;
}
