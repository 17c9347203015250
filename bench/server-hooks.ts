/**
 * Preloaded (`node -r`) into the server processes the harness starts; it changes nothing
 * in how they serve. Three hooks:
 * - SIGUSR2 runs a full garbage collection (the process runs with --expose-gc), so heap
 *   per connection is read from GET /metrics after a GC rather than with garbage in it.
 * - If the harness dies without stopping the server, the IPC channel closes and the
 *   server is sent SIGTERM (and killed if it has not exited 10 s later).
 * - SIGTERM and SIGINT are written to stderr, so a server stopped from outside the
 *   harness says why in the output the harness keeps.
 */
export {};

const gc = (globalThis as { gc?: () => void }).gc;

// Say so when something stops the server (the server logs its own draining at info level).
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () =>
    process.stderr.write(`server-hooks: ${signal} received (pid ${process.pid})\n`),
  );
}

process.on('SIGUSR2', () => {
  if (!gc) return;
  gc();
  gc();
});

if (process.send) {
  process.channel?.unref();
  process.on('disconnect', () => {
    setTimeout(() => process.exit(1), 10_000).unref();
    process.kill(process.pid, 'SIGTERM');
  });
}
