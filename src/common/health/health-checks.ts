import { Injectable } from '@nestjs/common';

export type HealthCheck = () => Promise<void>;

/**
 * Backends that /health/ready checks beyond the database and Redis. A feature module
 * registers its own (media its store), so common/ never imports a feature module.
 */
@Injectable()
export class HealthChecks {
  private readonly checks = new Map<string, HealthCheck>();

  register(name: string, check: HealthCheck): void {
    if (this.checks.has(name)) throw new Error(`Health check ${name} registered twice`);
    this.checks.set(name, check);
  }

  entries(): Array<[string, HealthCheck]> {
    return [...this.checks.entries()];
  }
}
