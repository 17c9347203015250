/**
 * The benchmark is a separate program from the server: it reads a few variables of its
 * own environment (defaults for DATABASE_URL and REDIS_URL) and builds the environment
 * of the processes it starts. This is the one place that touches process.env.
 */
// eslint-disable-next-line no-restricted-properties -- the harness, not the server, reads its environment here
const inherited: Readonly<Record<string, string | undefined>> = process.env;

/** Variables a child process gets from the harness; every server setting is given explicitly. */
const PASS_THROUGH = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ'];

export function envVar(name: string): string | undefined {
  const value = inherited[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * A clean environment for a child process: the few pass-through variables plus the given
 * settings, so nothing in the caller's shell (a stray DATABASE_URL, MESSAGE_STORE, ...)
 * changes what is measured. Every setting is recorded in the results.
 */
export function childEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of PASS_THROUGH) {
    const value = inherited[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...settings };
}
