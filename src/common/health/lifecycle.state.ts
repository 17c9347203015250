import { Injectable } from '@nestjs/common';

/** Whether this instance is draining; readiness fails and new work is refused while it is. */
@Injectable()
export class LifecycleState {
  private draining = false;

  get isDraining(): boolean {
    return this.draining;
  }

  startDraining(): void {
    this.draining = true;
  }
}
