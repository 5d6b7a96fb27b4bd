// PostgreSQL for the test suite: Debian's cluster, started when it is down, with a
// role harrier/harrier that may create databases (each test makes and drops its own).
// HARRIER_TEST_POSTGRES_URL, when set, names a server to use instead.
import { PrepareError, capture, isRoot, run, say, which } from './shell.mjs';
import { postgresVersions } from './system-packages.mjs';

const ROLE = 'harrier';
const PASSWORD = 'harrier';

export function testPostgresUrl(port) {
  return `postgres://${ROLE}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

/** True when the harrier role logs in over TCP with its password and may create databases. */
export function roleReady(port) {
  // The server's own psql, not Debian's /usr/bin/psql: that is a Perl wrapper, slower to start.
  const version = postgresVersions()[0];
  const psql = version ? `/usr/lib/postgresql/${version}/bin/psql` : which('psql');
  if (!psql) return false;
  const result = capture(psql, [testPostgresUrl(port), '-tAc', 'select rolcreatedb from pg_roles where rolname = current_user'], {
    env: { ...process.env, PGCONNECT_TIMEOUT: '3' },
    timeoutMs: 10_000,
  });
  return result.ok && result.stdout.trim() === 't';
}

/** Debian's clusters as pg_lsclusters shows them: [{ version, name, port, online }]. */
export function listClusters() {
  const result = capture('pg_lsclusters', ['-h']);
  if (!result.ok) return [];
  return result.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [version, name, port, status] = line.split(/\s+/);
      return { version, name, port: Number(port), online: status.startsWith('online') };
    });
}

/** Runs SQL as the postgres superuser over the cluster's unix socket (peer authentication). */
function asPostgres(port, sql, what) {
  // cwd '/': the postgres user may not be able to enter the checkout.
  run('runuser', ['-u', 'postgres', '--', 'psql', '-X', '-q', '-p', String(port), '-v', 'ON_ERROR_STOP=1', '-c', sql], { cwd: '/', what });
}

/**
 * Returns the URL the tests should use, starting and configuring Debian's cluster when
 * needed. `port` picks the cluster (Debian's first one listens on 5432).
 */
export function ensureTestPostgres(env = process.env, { port = 5432 } = {}) {
  if (env.HARRIER_TEST_POSTGRES_URL) return env.HARRIER_TEST_POSTGRES_URL;
  if (roleReady(port)) return testPostgresUrl(port);

  const manual =
    'Set HARRIER_TEST_POSTGRES_URL to a server where a role may create databases, or as root:\n' +
    '    sudo pg_ctlcluster <version> main start\n' +
    `    sudo -u postgres psql -c "CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}' CREATEDB"`;
  if (!isRoot()) throw new PrepareError(`PostgreSQL for the tests is not reachable as harrier@127.0.0.1:${port}`, manual);
  if (!which('pg_ctlcluster')) throw new PrepareError('PostgreSQL is not installed (no pg_ctlcluster)', 'Install Debian\'s postgresql package.');

  let clusters = listClusters();
  if (clusters.length === 0) {
    const version = postgresVersions()[0];
    if (!version) throw new PrepareError('PostgreSQL is not installed (nothing in /usr/lib/postgresql)', 'Install Debian\'s postgresql package.');
    say(`creating PostgreSQL ${version} cluster "main"`);
    run('pg_createcluster', [version, 'main'], { what: 'creating the PostgreSQL cluster' });
    clusters = listClusters();
  }
  const cluster = clusters.find((c) => c.port === port) ?? clusters[0];
  if (!cluster) throw new PrepareError('pg_createcluster ran but pg_lsclusters shows no cluster');
  if (!cluster.online) {
    say(`starting PostgreSQL ${cluster.version}/${cluster.name} on port ${cluster.port}`);
    run('pg_ctlcluster', [cluster.version, cluster.name, 'start'], { what: 'starting PostgreSQL' });
  }
  if (!roleReady(cluster.port)) {
    say(`creating PostgreSQL role ${ROLE} (password ${PASSWORD}, CREATEDB)`);
    asPostgres(
      cluster.port,
      `DO $$ BEGIN
         IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN
           ALTER ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}' CREATEDB;
         ELSE
           CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}' CREATEDB;
         END IF;
       END $$;`,
      'creating the harrier role',
    );
    if (!roleReady(cluster.port)) {
      throw new PrepareError(
        `role ${ROLE} exists but cannot log in over TCP at 127.0.0.1:${cluster.port}`,
        `Check listen_addresses and pg_hba.conf in /etc/postgresql/${cluster.version}/${cluster.name}/ (Debian's defaults allow it).`,
      );
    }
  }
  return testPostgresUrl(cluster.port);
}
