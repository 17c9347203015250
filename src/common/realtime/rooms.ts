export const userRoom = (userId: string): string => `user:${userId}`;
export const deviceRoom = (deviceId: string): string => `device:${deviceId}`;
