import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { resolve } from 'node:path';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  postgres?: string;
  redis?: string;
  openFileLimit?: string;
  ephemeralPorts?: string;
  note: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function machineInfo(versions: { postgres?: string; redis?: string }): MachineInfo {
  const cpu = cpus();
  const limits = read('/proc/self/limits');
  const nofile = limits ? /Max open files\s+(\d+)\s+(\d+)/.exec(limits) : null;
  const ports = read('/proc/sys/net/ipv4/ip_local_port_range');
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryBytes: totalmem(),
    os: `${osType()} ${release()}`,
    node: process.version,
    postgres: versions.postgres,
    redis: versions.redis,
    openFileLimit: nofile ? `soft ${nofile[1]}, hard ${nofile[2]}` : undefined,
    ephemeralPorts: ports?.trim().replace(/\s+/, '-'),
    note: 'Servers, PostgreSQL, Redis and the load generators all share these cores over loopback.',
  };
}

const PACKAGES = [
  'socket.io',
  'socket.io-client',
  '@nestjs/core',
  '@nestjs/platform-socket.io',
  '@socket.io/redis-adapter',
  'pg',
  'ioredis',
  'typeorm',
  '@electric-sql/pglite',
  'hdr-histogram-js',
];

/** Versions of the packages that matter here, as installed. */
export function packageVersions(root: string): Record<string, string> {
  const versions: Record<string, string> = {};
  const own = JSON.parse(read(resolve(root, 'package.json')) ?? '{}') as { version?: string };
  versions.parley = own.version ?? 'unknown';
  for (const name of PACKAGES) {
    const pkg = read(resolve(root, 'node_modules', name, 'package.json'));
    if (pkg) versions[name] = (JSON.parse(pkg) as { version: string }).version;
  }
  return versions;
}

/** The commit measured, and whether the working tree had changes. */
export function gitState(root: string): { commit?: string; dirty?: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      encoding: 'utf8',
    });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return {};
  }
}
