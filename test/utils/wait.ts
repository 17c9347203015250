/**
 * Polls until the check passes (or throws its last failure after the timeout): for what
 * happens asynchronously, such as events through Redis or a background job.
 */
export async function eventually(
  check: () => void | Promise<void>,
  timeoutMs = 5000,
  intervalMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
