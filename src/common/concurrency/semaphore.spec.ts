import { mapLimit, QueueFullError, Semaphore } from './semaphore';

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe('Semaphore', () => {
  /** A task that records how many tasks run at once. */
  function tracker() {
    const state = { inFlight: 0, max: 0 };
    const task = async () => {
      state.inFlight += 1;
      state.max = Math.max(state.max, state.inFlight);
      await tick();
      state.inFlight -= 1;
    };
    return { state, task };
  }

  it('never exceeds its limit when a caller arrives while a waiter is being woken', async () => {
    const semaphore = new Semaphore(1);
    const { state, task } = tracker();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));

    const first = semaphore.run(() => gate);
    const waiter = semaphore.run(task);
    // Runs right after the first task's slot is given up, before the waiter resumes: a
    // semaphore that frees the slot and then wakes the waiter lets both in.
    let late: Promise<void> | undefined;
    void gate.then(() => {
      late = semaphore.run(task);
    });
    release();
    await first;
    await waiter;
    await late;
    expect(state.max).toBe(1);
  });

  it('runs up to its limit at once and every task to the end, in order of arrival', async () => {
    const semaphore = new Semaphore(3);
    const { state, task } = tracker();
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        semaphore.run(async () => {
          order.push(i);
          await task();
        }),
      ),
    );
    expect(state.max).toBe(3);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('frees the slot of a task that throws', async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(semaphore.run(() => Promise.resolve(7))).resolves.toBe(7);
  });

  it('refuses at once beyond `maxWaiting` waiting tasks, and admits again once they drain', async () => {
    const semaphore = new Semaphore(1, 2);
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const held = semaphore.run(() => opened);
    const waiting = [semaphore.run(async () => 1), semaphore.run(async () => 2)];
    await expect(semaphore.run(async () => 3)).rejects.toBeInstanceOf(QueueFullError);
    open();
    await held;
    expect(await Promise.all(waiting)).toEqual([1, 2]);
    expect(await semaphore.run(async () => 4)).toBe(4);
  });

  it('refuses a limit below one', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});

describe('mapLimit', () => {
  it('visits every item once with at most `limit` in flight', async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let max = 0;
    await mapLimit([1, 2, 3, 4, 5, 6, 7], 2, async (n) => {
      inFlight += 1;
      max = Math.max(max, inFlight);
      await tick();
      seen.push(n);
      inFlight -= 1;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(max).toBe(2);
  });
});
