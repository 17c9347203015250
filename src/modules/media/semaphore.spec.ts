import { QueueFullError, Semaphore } from './semaphore';

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
};

describe('Semaphore', () => {
  it('runs at most `size` tasks at once, the rest in order', async () => {
    const slots = new Semaphore(2);
    const g = gate();
    const order: number[] = [];
    let running = 0;
    let peak = 0;
    const task = (i: number) =>
      slots.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await g.opened;
        order.push(i);
        running--;
      });
    const all = Promise.all([0, 1, 2, 3].map(task));
    g.open();
    await all;
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('refuses at once beyond `maxWaiting` waiting tasks, and admits again once they drain', async () => {
    const slots = new Semaphore(1, 2);
    const g = gate();
    const held = slots.run(() => g.opened);
    const waiting = [slots.run(async () => 1), slots.run(async () => 2)];
    await expect(slots.run(async () => 3)).rejects.toBeInstanceOf(QueueFullError);
    g.open();
    await held;
    expect(await Promise.all(waiting)).toEqual([1, 2]);
    expect(await slots.run(async () => 4)).toBe(4);
  });
});
