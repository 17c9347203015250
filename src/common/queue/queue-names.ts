/** Every background queue and job name, declared once, with each job's payload. */
export const QueueName = {
  maintenance: 'parley-maintenance',
  media: 'parley-media',
  push: 'parley-push',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const JobName = {
  purgeExpiredMessages: 'purge-expired-messages',
  purgeDisappearedMessages: 'purge-disappeared-messages',
  purgeExpiredAuthData: 'purge-expired-auth-data',
  processMedia: 'process-media',
  purgeExpiredUploads: 'purge-expired-uploads',
  requeueStuckMedia: 'requeue-stuck-media',
  decideConversationPush: 'decide-conversation-push',
  deliverPush: 'deliver-push',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

export interface JobPayloads {
  'purge-expired-messages': Record<string, never>;
  'purge-disappeared-messages': Record<string, never>;
  'purge-expired-auth-data': Record<string, never>;
  'process-media': { mediaId: string };
  'purge-expired-uploads': Record<string, never>;
  'requeue-stuck-media': Record<string, never>;
  'decide-conversation-push': {
    conversationId: string;
    /** A follow-up for devices the per-minute limit held back: only these, and only once. */
    onlyDeviceIds?: string[];
  };
  'deliver-push': {
    deviceId: string;
    provider: 'fcm' | 'apns' | 'apns-voip' | 'webpush' | 'unifiedpush';
    token: string;
    /** The content-free payload (see the notifications module's domain/push.ts). */
    payload: Record<string, string | number>;
    /** Set for message pushes: the provider collapses pushes with the same key. */
    collapseKey?: string;
    urgent: boolean;
  };
}

/** The queue each job runs on: maintenance work never waits behind media work. */
export const queueOf: Record<JobName, QueueName> = {
  'purge-expired-messages': QueueName.maintenance,
  'purge-disappeared-messages': QueueName.maintenance,
  'purge-expired-auth-data': QueueName.maintenance,
  'process-media': QueueName.media,
  'purge-expired-uploads': QueueName.maintenance,
  'requeue-stuck-media': QueueName.maintenance,
  'decide-conversation-push': QueueName.push,
  'deliver-push': QueueName.push,
};
