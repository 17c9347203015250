/** Every background queue and job name, declared once. */
export const QueueName = {
  maintenance: 'parley-maintenance',
} as const;

export const JobName = {
  purgeExpiredMessages: 'purge-expired-messages',
  purgeExpiredAuthData: 'purge-expired-auth-data',
} as const;

export type JobName = (typeof JobName)[keyof typeof JobName];
