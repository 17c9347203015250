import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Histogram } from 'prom-client';
import { MetricsRegistry } from './metrics.registry';

@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  private readonly duration: Histogram;

  constructor(metrics: MetricsRegistry) {
    this.duration = metrics.histogram(
      'parley_http_request_duration_seconds',
      'HTTP request latency',
      ['method', 'route', 'status'],
      [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    );
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const end = this.duration.startTimer();
    res.on('finish', () => {
      // The matched route pattern keeps label cardinality bounded (no ids in labels).
      // Express sets req.route only when a route handled the request.
      const route = (req.route as { path?: string } | undefined)?.path;
      end({
        method: req.method,
        route: route && res.statusCode !== 404 ? `${req.baseUrl}${route}` : 'unmatched',
        status: String(res.statusCode),
      });
    });
    next();
  }
}
