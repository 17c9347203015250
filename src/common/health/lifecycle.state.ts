import { Injectable } from '@nestjs/common';

/**
 * Whether this instance is draining (readiness fails and new work is refused while it is),
 * and the in-flight work that shutdown waits for. Modules register their own pending work
 * here, so the shutdown sequence needs to know none of them.
 */
@Injectable()
export class LifecycleState {
  private draining = false;
  private readonly pendingWork: Array<() => Promise<void>> = [];

  get isDraining(): boolean {
    return this.draining;
  }

  startDraining(): void {
    this.draining = true;
  }

  /** Work to finish before the process closes (e.g. message writes gathered into a batch). */
  onDrain(finish: () => Promise<void>): void {
    this.pendingWork.push(finish);
  }

  /** Finishes every registered piece of work, in parallel. */
  async finishPendingWork(): Promise<void> {
    await Promise.all(this.pendingWork.map((finish) => finish()));
  }
}
